"""Logins: password, client credentials and refresh-token grants; failed-login limits; users and clients."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.errors import InvalidClient, InvalidGrant, TooManyFailures, UnknownRole, UserExists
from services.gateway.models import ApiClient, LoginFailure, RefreshToken, User
from services.gateway.settings import GatewaySettings
from services.gateway.tokens import TokenIssuer, hash_refresh_token, new_refresh_token
from shared.auth import ROLES
from shared.ids import uuid7
from shared.regions import CITY_CODE

hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hasher.hash("not-a-real-password")


@dataclass
class TokenSet:
    access_token: str
    expires_in: int
    refresh_token: str | None


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def check_roles(roles: list[str]) -> None:
    for role in roles:
        if role not in ROLES:
            raise UnknownRole(field="roles", role=role)


class Logins:
    def __init__(self, session: AsyncSession, issuer: TokenIssuer, settings: GatewaySettings):
        self.session = session
        self.issuer = issuer
        self.settings = settings

    async def _failures_since(self, key: str, since: datetime) -> int:
        query = sa.select(sa.func.count()).where(LoginFailure.key == key, LoginFailure.at > since)
        return await self.session.scalar(query) or 0

    async def _check_limits(self, username: str, address: str) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.settings.login_window_s)
        limits = (
            (f"user:{username.lower()}", self.settings.login_max_failures_per_user),
            (f"addr:{address}", self.settings.login_max_failures_per_address),
        )
        for key, limit in limits:
            if await self._failures_since(key, since) >= limit:
                retry = self.settings.login_window_s
                raise TooManyFailures(retry_after=retry, headers={"Retry-After": str(retry)})

    async def _record_failure(self, username: str, address: str) -> None:
        self.session.add_all([LoginFailure(key=f"user:{username.lower()}"), LoginFailure(key=f"addr:{address}")])
        await self.session.flush()

    async def _issue_for_user(self, user: User, family_id: str | None = None) -> TokenSet:
        token, token_hash = new_refresh_token()
        now = datetime.now(UTC)
        self.session.add(
            RefreshToken(
                token_hash=token_hash,
                family_id=family_id or uuid7(),
                user_id=user.id,
                issued_at=now,
                expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_s),
            )
        )
        await self.session.flush()
        access = self.issuer.access_token(
            subject=user.username, kind="user", roles=user.roles, regions=user.regions, name=user.display_name
        )
        return TokenSet(access, self.issuer.ttl_s, token)

    async def password(self, username: str, password: str, address: str) -> TokenSet:
        """Tokens for a valid login; otherwise the failure is recorded for the limits."""
        await self._check_limits(username, address)
        user = await self.session.scalar(sa.select(User).where(User.username == username))
        ok = await asyncio.to_thread(verify_secret, user.password_hash if user else _DUMMY_HASH, password)
        if not (user and ok and user.active):
            await self._record_failure(username, address)
            await self.session.commit()  # the failure counts although the request fails
            raise InvalidGrant()
        await self.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == f"user:{username.lower()}"))
        return await self._issue_for_user(user)

    async def client_credentials(self, client_id: str, secret: str) -> TokenSet:
        client = await self.session.scalar(sa.select(ApiClient).where(ApiClient.client_id == client_id))
        ok = await asyncio.to_thread(verify_secret, client.secret_hash if client else _DUMMY_HASH, secret)
        if not (client and ok and client.active):
            raise InvalidClient(headers={"WWW-Authenticate": "Basic"})
        access = self.issuer.access_token(
            subject=client.client_id,
            kind="client",
            roles=client.roles,
            regions=client.regions,
            name=client.display_name,
        )
        return TokenSet(access, self.issuer.ttl_s, None)

    async def refresh(self, token: str) -> TokenSet:
        now = datetime.now(UTC)
        row = await self.session.scalar(
            sa.select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
        )
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise InvalidGrant(field="refresh_token")
        # Spend it atomically: of two concurrent uses only one finds it unspent.
        spent = await self.session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.spent_at.is_(None))
            .values(spent_at=now)
        )
        if spent.rowcount != 1:  # a spent token presented again: the family is compromised
            await self.revoke_family(row.family_id)
            await self.session.commit()  # the revocation stands although the request fails
            raise InvalidGrant(field="refresh_token")
        user = await self.session.get(User, row.user_id)
        if user is None or not user.active:
            raise InvalidGrant(field="refresh_token")
        return await self._issue_for_user(user, family_id=row.family_id)

    async def revoke_family(self, family_id: str) -> None:
        await self.session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(hasher.hash, secret)


async def _add_login(session: AsyncSession, row: User | ApiClient, name_column: sa.Column, field: str) -> None:
    """Add a user or API client after checking its roles and that its name is free."""
    check_roles(row.roles)
    name = getattr(row, field)
    if await session.scalar(sa.select(sa.exists().where(name_column == name))):
        raise UserExists(field=field)
    session.add(row)
    await session.flush()


async def create_user(
    session: AsyncSession, *, username: str, password: str, display_name: str, roles: list[str], regions: list[str]
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        password_hash=await hash_secret(password),
        roles=roles,
        regions=regions,
    )
    await _add_login(session, user, User.username, "username")
    return user


async def create_client(
    session: AsyncSession, *, client_id: str, secret: str, display_name: str, roles: list[str], regions: list[str]
) -> ApiClient:
    client = ApiClient(
        client_id=client_id,
        display_name=display_name,
        secret_hash=await hash_secret(secret),
        roles=roles,
        regions=regions,
    )
    await _add_login(session, client, ApiClient.client_id, "client_id")
    return client


async def ensure_service_client(session: AsyncSession, *, client_id: str, secret: str, display_name: str) -> bool:
    """A service's own client (role "service", city scope) with this secret: made when missing, its secret reset
    when it no longer matches (the local key folder was renewed). True when something changed."""
    client = await session.scalar(sa.select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        await create_client(
            session, client_id=client_id, secret=secret, display_name=display_name, roles=["service"],
            regions=[CITY_CODE],
        )  # fmt: skip
        return True
    if verify_secret(client.secret_hash, secret):
        return False
    client.secret_hash = await hash_secret(secret)
    return True
