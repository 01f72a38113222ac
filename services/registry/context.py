"""What every registry rule needs for one request: the session, the caller, the audit trail, the PII cipher."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import AuditDep, AuditTrail
from shared.auth import Principal, require
from shared.db import SessionDep
from shared.pii import PiiCipher


@dataclass
class Ctx:
    session: AsyncSession
    principal: Principal
    audit: AuditTrail
    cipher: PiiCipher

    @property
    def reveals_pii(self) -> bool:
        return self.principal.can("pii:read")

    def show(self, encrypted: str | None, masked: str | None) -> str | None:
        """The plain value for a caller with pii:read, the masked one for anyone else."""
        if encrypted is None:
            return None
        return self.cipher.decrypt(encrypted) if self.reveals_pii else masked

    async def audit_pii_read(self, entity: str, ids: list[str]) -> None:
        """Every unmasked read of personal data leaves an audit row."""
        if self.reveals_pii and ids:
            await self.audit.record(
                self.principal,
                action="pii.read",
                entity=entity,
                entity_id=ids[0] if len(ids) == 1 else None,
                changes={"ids": ids},
            )


def context_for(permission: str):
    """A dependency building the Ctx of a route that needs `permission`."""

    async def dependency(
        request: Request,
        session: SessionDep,
        audit: AuditDep,
        principal: Annotated[Principal, Depends(require(permission))],
    ) -> Ctx:
        return Ctx(session=session, principal=principal, audit=audit, cipher=request.app.state.cipher)

    return Annotated[Ctx, Depends(dependency)]
