"""SQL for cadres and pairings."""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Cadre, Household, Pairing


async def get_cadre(session: AsyncSession, cadre_id: str, scope: sa.ColumnElement[bool]) -> Cadre | None:
    return await session.scalar(sa.select(Cadre).where(Cadre.id == cadre_id, scope))


async def username_taken(session: AsyncSession, username: str) -> bool:
    return await session.scalar(sa.select(sa.exists().where(Cadre.username == username))) or False


async def list_cadres(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    before_id: str | None,
    limit: int,
    active: bool | None,
) -> Sequence[Cadre]:
    query = sa.select(Cadre).where(scope).order_by(Cadre.id.desc()).limit(limit)
    if before_id:
        query = query.where(Cadre.id < before_id)
    if active is not None:
        query = query.where(Cadre.active.is_(active))
    return (await session.scalars(query)).all()


PairingRow = tuple[Pairing, str, str]


def _pairing_query() -> sa.Select:
    return (
        sa.select(Pairing, Cadre.name, Household.household_no)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(Household, Household.id == Pairing.household_id)
    )


async def get_pairing(session: AsyncSession, pairing_id: str, scope: sa.ColumnElement[bool]) -> PairingRow | None:
    row = (await session.execute(_pairing_query().where(Pairing.id == pairing_id, scope))).first()
    return (row[0], row[1], row[2]) if row else None


async def open_pairing_exists(session: AsyncSession, cadre_id: str, household_id: str) -> bool:
    query = sa.select(
        sa.exists().where(Pairing.cadre_id == cadre_id, Pairing.household_id == household_id, Pairing.active.is_(True))
    )
    return await session.scalar(query) or False


async def list_pairings(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    cadre_id: str | None,
    household_id: str | None,
    active: bool | None,
    before_id: str | None,
    limit: int,
) -> list[PairingRow]:
    query = _pairing_query().where(scope).order_by(Pairing.id.desc()).limit(limit)
    if cadre_id:
        query = query.where(Pairing.cadre_id == cadre_id)
    if household_id:
        query = query.where(Pairing.household_id == household_id)
    if active is not None:
        query = query.where(Pairing.active.is_(active))
    if before_id:
        query = query.where(Pairing.id < before_id)
    return [(r[0], r[1], r[2]) for r in (await session.execute(query)).all()]


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def cadre_of_user(session: AsyncSession, username: str) -> Cadre | None:
    """The cadre record whose login is `username`, if any."""
    return await session.scalar(sa.select(Cadre).where(Cadre.username == username))
