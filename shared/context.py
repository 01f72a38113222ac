"""What every rule needs for one request: the session, the caller, the audit trail, the PII cipher."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.audit import AuditTrail, diff
from shared.auth import Principal, authorised, oauth2_scheme
from shared.db import SessionDep, is_reader, sessions_of
from shared.pii import PiiCipher, mask_phone


@dataclass
class Ctx:
    session: AsyncSession
    principal: Principal
    audit: AuditTrail
    cipher: PiiCipher
    # The app's sessions, for what a read request must write apart from its own (read-only) transaction
    sessions: async_sessionmaker[AsyncSession] | None = field(default=None, repr=False)

    async def written_apart(self, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Run `work` in a transaction that may write: this request's own when it may write, else one of its own.
        A reader's transaction ends first (its connection back in the pool, so readers waiting for `work` never hold
        every connection) and the request reads on in a new one, which sees what `work` wrote."""
        if not is_reader(self.session) or self.sessions is None:
            await work(self.session)
            return
        await self.session.commit()
        async with self.sessions.begin() as session:
            await work(session)

    @property
    def reveals_pii(self) -> bool:
        return self.principal.can("pii:read")

    def show(self, encrypted: str | None, masked: str | None) -> str | None:
        """The plain value for a caller with pii:read, the masked one for anyone else."""
        if encrypted is None:
            return None
        return self.cipher.decrypt(encrypted) if self.reveals_pii else masked

    def sealed_phone(self, phone: str | None) -> dict[str, str | None]:
        """The phone columns of a row: encrypted value and its mask (both None when there is no phone)."""
        if phone is None:
            return {"phone_enc": None, "phone_masked": None}
        return {"phone_enc": self.cipher.encrypt(phone), "phone_masked": mask_phone(phone)}

    def apply(self, row: Any, changes: dict[str, Any]) -> dict[str, Any]:
        """Set the changed fields of a row (the phone sealed) and return what the audit log keeps of them."""
        before = {k: getattr(row, k) for k in changes if k != "phone"}
        for key, value in changes.items():
            if key == "phone":
                for column, stored in self.sealed_phone(value).items():
                    setattr(row, column, stored)
            else:
                setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        recorded = diff(before, {k: v for k, v in changes.items() if k != "phone"})
        if "phone" in changes:
            recorded["phone"] = "changed"
        return recorded

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
    """A dependency building the Ctx of a route that needs `permission`. It resolves the caller and the audit trail
    itself rather than through nested dependencies: each one FastAPI resolves costs more than the work it does."""

    async def dependency(
        request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> Ctx:
        principal = await authorised(request, token, permission)
        return Ctx(
            session=session, principal=principal, audit=AuditTrail(request, session),
            cipher=request.app.state.cipher, sessions=sessions_of(request.app),
        )  # fmt: skip

    return Annotated[Ctx, Depends(dependency)]
