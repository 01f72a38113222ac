"""The audit log: who changed what, when, from which request. Written in the same transaction as the change."""

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, region_clause, require
from shared.db import SessionDep, utcnow
from shared.ids import uuid7
from shared.pagination import Page, Paging, after_id, page_of


class AuditTrail:
    """Bound to one request: its session and its request id."""

    def __init__(self, request: Request, session: SessionDep):
        self.session: AsyncSession = session
        self.table = request.app.state.db.tables.audit_log
        self.request_id = getattr(request.state, "request_id", None)

    @classmethod
    def outside_request(cls, session: AsyncSession, table: sa.Table, request_id: str | None = None) -> "AuditTrail":
        """A trail for work done outside any request (a background job, a sweep): its session, its table, and the
        id of the request that started it, if one did."""
        trail = cls.__new__(cls)
        trail.session, trail.table, trail.request_id = session, table, request_id
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
        await self.session.execute(
            self.table.insert().values(
                id=uuid7(),
                at=utcnow(),
                actor=principal.subject,
                actor_roles=list(principal.roles),
                request_id=self.request_id,
                action=action,
                entity=entity,
                entity_id=entity_id,
                county_code=county_code,
                changes=changes or {},
            )
        )


AuditDep = Annotated[AuditTrail, Depends(AuditTrail)]


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
