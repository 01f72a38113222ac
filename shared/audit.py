"""The audit log: who changed what, when, from which request. Written in the same transaction as the change.

A read request (GET, HEAD) changes nothing and its transaction may not write: what it must leave behind (who saw
personal data unmasked) is written by the app's AuditWriter once the read's transaction has ended and before the
answer goes out, many reads' rows in one transaction, so an audited read costs no commit of its own and is never
answered unaudited.
"""

import asyncio
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, region_clause, require
from shared.db import SessionDep, after_read, is_reader, sessions_of, utcnow, write_behind
from shared.ids import uuid7
from shared.pagination import Page, Paging, after_id, page_of


class AuditWriter:
    """Writes the audit rows of read requests apart from their transactions, in groups: a read waits until its row
    is committed (with those of the reads that came meanwhile), one commit for all of them. Whoever finds no group
    being written writes the waiting rows; the others wait for it."""

    def __init__(self, app: Any, table: sa.Table):
        self.app = app
        self.table = table
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._lock = asyncio.Lock()

    @classmethod
    def of(cls, app: Any) -> "AuditWriter":
        writer = getattr(app.state, "audit_writer", None)
        if writer is None:
            writer = app.state.audit_writer = cls(app, app.state.db.tables.audit_log)
        return writer

    async def write(self, rows: list[dict[str, Any]]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting += [(row, done) for row in rows]
        async with self._lock:
            if not done.done():  # nobody wrote ours while we waited: write what waits now, ours among it
                group, self._waiting = self._waiting, []
                try:
                    async with sessions_of(self.app).begin() as session:
                        await session.execute(self.table.insert(), [row for row, _ in group])
                except BaseException:
                    for waiter in {waiter for _, waiter in group} - {done}:
                        waiter.set_exception(RuntimeError("the audit rows of this read were not written"))
                    raise
                for waiter in {waiter for _, waiter in group}:
                    waiter.set_result(None)
        done.result()  # raises when the group it was written in failed


class AuditTrail:
    """Bound to one request: its session, its request id, and its app (whose AuditWriter takes a read's rows)."""

    def __init__(self, request: Request, session: AsyncSession):
        self.session: AsyncSession = session
        self.table = request.app.state.db.tables.audit_log
        self.request_id = getattr(request.state, "request_id", None)
        self.app: Any = request.app
        self._read_rows: list[dict[str, Any]] = []  # a reader's rows, written once its transaction has ended

    @classmethod
    def outside_request(cls, session: AsyncSession, table: sa.Table, request_id: str | None = None) -> "AuditTrail":
        """A trail for work done outside any request (a background job, a sweep): its session, its table, and the
        id of the request that started it, if one did."""
        trail = cls.__new__(cls)
        trail.session, trail.table, trail.request_id, trail.app, trail._read_rows = session, table, request_id, None, []
        return trail

    async def record(
        self,
        principal: Principal,
        *,
        action: str,
        entity: str,
        entity_id: str | None,
        county_code: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        row = {
            "id": uuid7(), "at": utcnow(), "actor": principal.subject, "actor_roles": list(principal.roles),
            "request_id": self.request_id, "action": action, "entity": entity, "entity_id": entity_id,
            "county_code": county_code, "changes": changes or {},
        }  # fmt: skip
        if not is_reader(self.session):
            write_behind(self.session, self.table, [row])  # as the change commits, with the others in one statement
            return
        if not self._read_rows:  # the first of this read's rows: have them written once its transaction ends
            after_read(self.session, lambda: AuditWriter.of(self.app).write(self._read_rows))
        self._read_rows.append(row)


async def audit_trail(request: Request, session: SessionDep) -> AuditTrail:
    """The request's audit trail (an async dependency: FastAPI runs a class or a plain function in a thread)."""
    return AuditTrail(request, session)


AuditDep = Annotated[AuditTrail, Depends(audit_trail)]


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed, as {field: [old, new]}."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


class AuditEntry(BaseModel):
    id: str
    at: datetime
    actor: str
    actor_roles: list[str]
    request_id: str | None
    action: str = Field(examples=["household.update"])
    entity: str = Field(examples=["household"])
    entity_id: str | None
    county_code: str | None
    changes: dict[str, Any]


def audit_router(prefix: str, tag: str) -> APIRouter:
    """`GET {prefix}/audit`: the service's audit log, newest first, within the caller's regions."""
    router = APIRouter(prefix=prefix, tags=[tag])

    @router.get(
        "/audit", operation_id=f"{prefix.strip('/').split('/')[-1]}_list_audit", response_model=Page[AuditEntry]
    )
    async def list_audit(
        request: Request,
        session: SessionDep,
        principal: Annotated[Principal, Depends(require("audit:read"))],
        page: Paging,
        entity_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> Page[AuditEntry]:
        """The audit log: who changed what, when, from which request 审计日志"""
        table = request.app.state.db.tables.audit_log
        scope = region_clause(principal.regions, table.c.county_code)
        if any(code == "500000" for code in principal.regions):
            scope = sa.or_(scope, table.c.county_code.is_(None))
        query = sa.select(table).where(scope).order_by(table.c.id.desc()).limit(page.limit + 1)
        for column, value in ((table.c.entity_id, entity_id), (table.c.actor, actor), (table.c.action, action)):
            if value:
                query = query.where(column == value)
        if before_id := after_id(page):
            query = query.where(table.c.id < before_id)
        if page.updated_since:
            query = query.where(table.c.at > page.updated_since)
        rows = (await session.execute(query)).all()
        kept, cursor = page_of(list(rows), page.limit, lambda r: {"id": r.id})
        return Page[AuditEntry](items=[AuditEntry.model_validate(r._mapping) for r in kept], next_cursor=cursor)

    return router
