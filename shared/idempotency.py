"""Idempotency-Key for mobile writes and money movements.

The key's record is written in the same transaction as the change, so a change and its remembered answer land
together or not at all. The answer is stored sealed (it may hold personal data) and every replay is audited. A repeat with the same body gets the first answer; the same key with another body, or a
concurrent repeat still in flight, gets 409.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import SessionDep, utcnow
from shared.errors import IdempotencyKeyReused


class Idempotency:
    def __init__(self, request: Request, session: AsyncSession, key: str | None):
        self.request = request
        self.session = session
        self.key = key
        self.table = request.app.state.db.tables.idempotency_keys
        self.cipher = request.app.state.cipher

    async def _body_hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.request.method.encode())
        digest.update(self.request.url.path.encode())
        digest.update(await self.request.body())
        return digest.hexdigest()

    async def replay(self, principal: Principal) -> JSONResponse | None:
        """The first answer if this key was used before by this caller; 409 if it was used for another body."""
        if not self.key:
            return None
        row = (
            await self.session.execute(
                select(self.table).where(self.table.c.actor == principal.subject, self.table.c.key == self.key)
            )
        ).first()
        if row is None:
            return None
        if row.body_hash != await self._body_hash():
            raise IdempotencyKeyReused(field="Idempotency-Key")
        await AuditTrail(self.request, self.session).record(
            principal,
            action="request.replay",
            entity="idempotency_key",
            entity_id=self.key[:64],
            changes={"method": row.method, "path": row.path},
        )
        content = json.loads(self.cipher.decrypt(row.response))
        return JSONResponse(content, status_code=row.status, headers={"Idempotent-Replayed": "true"})

    async def remember(self, principal: Principal, status: int, body: Any) -> JSONResponse:
        """Store the answer beside the change (same transaction) and return it."""
        content = jsonable_encoder(body)
        if self.key:
            try:
                async with self.session.begin_nested():
                    await self.session.execute(
                        self.table.insert().values(
                            actor=principal.subject,
                            key=self.key,
                            method=self.request.method,
                            path=self.request.url.path,
                            body_hash=await self._body_hash(),
                            status=status,
                            response=self.cipher.encrypt(json.dumps(content, ensure_ascii=False)),
                            created_at=utcnow(),
                        )
                    )
            except IntegrityError as exc:
                raise IdempotencyKeyReused(field="Idempotency-Key") from exc
        return JSONResponse(content, status_code=status)

    async def run(self, principal: Principal, status: int, action: Callable[[], Awaitable[Any]]) -> JSONResponse:
        """The first answer on a repeat; otherwise perform `action` and remember its answer."""
        if (replayed := await self.replay(principal)) is not None:
            return replayed
        return await self.remember(principal, status, await action())


async def idempotency(
    request: Request,
    session: SessionDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="重复提交时返回首次结果 A repeat returns the first answer",
        ),
    ] = None,
) -> Idempotency:
    """The request's Idempotency-Key, bound to its session (an async dependency: no thread per request)."""
    return Idempotency(request, session, key)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
