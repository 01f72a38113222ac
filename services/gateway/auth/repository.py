"""SQL for logins: users, API clients, refresh tokens and failed-login records."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import ApiClient, LoginFailure, RefreshToken, User


async def count_failures_since(session: AsyncSession, key: str, since: datetime) -> int:
    query = sa.select(sa.func.count()).where(LoginFailure.key == key, LoginFailure.at > since)
    return await session.scalar(query) or 0


async def add_failures(session: AsyncSession, keys: list[str]) -> None:
    session.add_all([LoginFailure(key=key) for key in keys])
    await session.flush()


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(sa.delete(LoginFailure).where(LoginFailure.key == key))


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(sa.select(User).where(User.username == username))


async def get_client(session: AsyncSession, client_id: str) -> ApiClient | None:
    return await session.scalar(sa.select(ApiClient).where(ApiClient.client_id == client_id))


async def name_taken(session: AsyncSession, name_column: sa.Column, name: str) -> bool:
    return bool(await session.scalar(sa.select(sa.exists().where(name_column == name))))


async def add_login(session: AsyncSession, row: User | ApiClient) -> None:
    session.add(row)
    await session.flush()


async def add_refresh_token(session: AsyncSession, row: RefreshToken) -> None:
    session.add(row)
    await session.flush()


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def spend_refresh_token(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Mark the token spent if it is not yet: of two concurrent uses only one gets True."""
    spent = await session.execute(
        sa.update(RefreshToken).where(RefreshToken.id == token_id, RefreshToken.spent_at.is_(None)).values(spent_at=now)
    )
    return spent.rowcount == 1


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
