"""SQL for regions."""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Region


async def get(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def children(session: AsyncSession, code: str) -> Sequence[Region]:
    rows = await session.scalars(sa.select(Region).where(Region.parent_code == code).order_by(Region.code))
    return rows.all()


async def search(session: AsyncSession, *, name: str | None, level: str | None, limit: int) -> Sequence[Region]:
    query = sa.select(Region).order_by(Region.code).limit(limit)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Region.name.like(f"%{escaped}%", escape="\\"))
    if level:
        query = query.where(Region.level == level)
    return (await session.scalars(query)).all()


async def add(session: AsyncSession, region: Region) -> None:
    session.add(region)
    await session.flush()


async def names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """The names of the regions of `codes` (those that exist)."""
    rows = await session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(codes)))
    return {code: name for code, name in rows.all()}
