"""Logins: password, client credentials and refresh-token grants; failed-login limits; users and clients."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth import repository
from services.gateway.auth.errors import InvalidClient, InvalidGrant, TooManyFailures, UnknownRole, UserExists
from services.gateway.models import ApiClient, RefreshToken, User
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

    async def _check_limits(self, username: str, address: str) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.settings.login_window_s)
        limits = (
            (f"user:{username.lower()}", self.settings.login_max_failures_per_user),
            (f"addr:{address}", self.settings.login_max_failures_per_address),
        )
        for key, limit in limits:
            if await repository.count_failures_since(self.session, key, since) >= limit:
                retry = self.settings.login_window_s
                raise TooManyFailures(retry_after=retry, headers={"Retry-After": str(retry)})

    async def _record_failure(self, username: str, address: str) -> None:
        await repository.add_failures(self.session, [f"user:{username.lower()}", f"addr:{address}"])

    async def _issue_for_user(self, user: User, family_id: str | None = None) -> TokenSet:
        token, token_hash = new_refresh_token()
        now = datetime.now(UTC)
        await repository.add_refresh_token(
            self.session,
            RefreshToken(
                token_hash=token_hash,
                family_id=family_id or uuid7(),
                user_id=user.id,
                issued_at=now,
                expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_s),
            ),
        )
        access = self.issuer.access_token(
            subject=user.username, kind="user", roles=user.roles, regions=user.regions, name=user.display_name
        )
        return TokenSet(access, self.issuer.ttl_s, token)

    async def password(self, username: str, password: str, address: str) -> TokenSet:
        """Tokens for a valid login; otherwise the failure is recorded for the limits."""
        await self._check_limits(username, address)
        user = await repository.get_user_by_username(self.session, username)
        ok = await asyncio.to_thread(verify_secret, user.password_hash if user else _DUMMY_HASH, password)
        if not (user and ok and user.active):
            await self._record_failure(username, address)
            await self.session.commit()  # the failure counts although the request fails
            raise InvalidGrant()
        await repository.clear_failures(self.session, f"user:{username.lower()}")
        return await self._issue_for_user(user)

    async def client_credentials(self, client_id: str, secret: str) -> TokenSet:
        client = await repository.get_client(self.session, client_id)
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
        row = await repository.get_refresh_token(self.session, hash_refresh_token(token))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise InvalidGrant(field="refresh_token")
        # Spend it atomically: of two concurrent uses only one finds it unspent.
        if not await repository.spend_refresh_token(self.session, row.id, now):
            # a spent token presented again: the family is compromised
            await self.revoke_family(row.family_id)
            await self.session.commit()  # the revocation stands although the request fails
            raise InvalidGrant(field="refresh_token")
        user = await repository.get_user(self.session, row.user_id)
        if user is None or not user.active:
            raise InvalidGrant(field="refresh_token")
        return await self._issue_for_user(user, family_id=row.family_id)

    async def revoke_family(self, family_id: str) -> None:
        await repository.revoke_family(self.session, family_id, datetime.now(UTC))


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(hasher.hash, secret)


async def _add_login(session: AsyncSession, row: User | ApiClient, name_column: sa.Column, field: str) -> None:
    """Add a user or API client after checking its roles and that its name is free."""
    check_roles(row.roles)
    name = getattr(row, field)
    if await repository.name_taken(session, name_column, name):
        raise UserExists(field=field)
    await repository.add_login(session, row)


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
    client = await repository.get_client(session, client_id)
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
