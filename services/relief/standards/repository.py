"""SQL of the dibao standards: add only, never update (the history stays)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.relief.cases.periods import Standard
from services.relief.models import DibaoStandard
from shared.db import forget, memo

STANDARDS_MEMO = "dibao_standards"  # the histories read in a session (shared.db.memo)


async def get(session: AsyncSession, standard_id: str) -> DibaoStandard | None:
    return await session.get(DibaoStandard, standard_id)


async def exists(session: AsyncSession, unit_code: str, area_class: str, effective_from: date) -> bool:
    return bool(
        await session.scalar(
            sa.select(
                sa.exists().where(
                    DibaoStandard.unit_code == unit_code,
                    DibaoStandard.area_class == area_class,
                    DibaoStandard.effective_from == effective_from,
                )
            )
        )
    )


async def in_force(session: AsyncSession, unit_code: str, area_class: str, on: date) -> DibaoStandard | None:
    """The standard of the unit and class in force on `on`: the latest to take effect on or before it."""
    return await session.scalar(
        sa.select(DibaoStandard)
        .where(
            DibaoStandard.unit_code == unit_code,
            DibaoStandard.area_class == area_class,
            DibaoStandard.effective_from <= on,
        )
        .order_by(DibaoStandard.effective_from.desc())
        .limit(1)
    )


async def history(session: AsyncSession, unit_code: str, area_class: str) -> list[Standard]:
    """Every standard of the unit and class, as the RULE's plain values, oldest first (read once a session)."""
    query = (
        sa.select(DibaoStandard.effective_from, DibaoStandard.monthly_fen)
        .where(DibaoStandard.unit_code == unit_code, DibaoStandard.area_class == area_class)
        .order_by(DibaoStandard.effective_from)
    )

    async def load() -> list[Standard]:
        rows = await session.execute(query)
        return [Standard(effective_from=row.effective_from, monthly_fen=row.monthly_fen) for row in rows]

    return await memo(session, (STANDARDS_MEMO, unit_code, area_class), load)


async def list_standards(
    session: AsyncSession,
    *,
    unit_code: str | None,
    area_class: str | None,
    in_force_on: date | None,
    example: bool | None,
    created_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> list[DibaoStandard]:
    query = sa.select(DibaoStandard).order_by(DibaoStandard.id.desc()).limit(limit)
    if unit_code is not None:
        query = query.where(DibaoStandard.unit_code == unit_code)
    if area_class is not None:
        query = query.where(DibaoStandard.area_class == area_class)
    if example is not None:
        query = query.where(DibaoStandard.example.is_(example))
    if in_force_on is not None:
        later = aliased(DibaoStandard)
        superseded = sa.exists().where(
            later.unit_code == DibaoStandard.unit_code,
            later.area_class == DibaoStandard.area_class,
            later.effective_from > DibaoStandard.effective_from,
            later.effective_from <= in_force_on,
        )
        query = query.where(DibaoStandard.effective_from <= in_force_on, ~superseded)
    if created_since is not None:
        query = query.where(DibaoStandard.created_at > created_since)
    if before_id is not None:
        query = query.where(DibaoStandard.id < before_id)
    return list((await session.scalars(query)).all())


async def add(session: AsyncSession, standard: DibaoStandard) -> None:
    session.add(standard)
    await session.flush()
    forget(session, STANDARDS_MEMO)
