"""SQL for the case flags (有疫情的村社、乡镇)."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import CaseFlag, Household, Region
from services.registry.scope import paired_household_ids
from shared.auth import Principal
from shared.db import utcnow


async def no_team_entry(session: AsyncSession, village_code: str) -> bool:
    """True while the village, or its township, is flagged as having cases (measure 22: teams do not enter)."""
    query = sa.select(sa.exists().where(CaseFlag.region_code.in_([village_code, village_code[:9]]), CaseFlag.flagged))
    return bool(await session.scalar(query))


def region_scope(principal: Principal, *columns: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Officers see the regions within their scope; a village cadre the villages and townships of their households.

    `columns` are the row's region code columns, coarsest first, the last one the region's own code."""
    if principal.is_cadre_only:
        paired = Household.id.in_(paired_household_ids(principal))
        code = columns[-1]
        return sa.or_(
            code.in_(sa.select(Household.village_code).where(paired)),
            code.in_(sa.select(Household.township_code).where(paired)),
        )
    return principal.region_clause(*columns)


def _upsert(session: AsyncSession):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def count_cases(session: AsyncSession, *, region_code: str, level: str, county_code: str, delta: int) -> CaseFlag:
    """Add `delta` to the region's active cases, creating its row if need be, in one statement.

    The row stays locked until the transaction ends, so health events recorded at the same time in one village add
    up instead of overwriting each other; `delta` 0 just makes sure the row exists and locks it."""
    insert = _upsert(session)(CaseFlag).values(
        region_code=region_code, level=level, county_code=county_code, active_cases=delta, flagged=False,
        updated_at=utcnow(),
    )  # fmt: skip
    statement = insert.on_conflict_do_update(
        index_elements=[CaseFlag.region_code],
        set_={"active_cases": CaseFlag.active_cases + delta, "updated_at": utcnow()},
    ).returning(CaseFlag)
    rows = await session.scalars(statement, execution_options={"populate_existing": True})
    return rows.one()


async def region_with_flag(
    session: AsyncSession, region_code: str, scope: sa.ColumnElement[bool]
) -> tuple[Region, CaseFlag | None] | None:
    query = (
        sa.select(Region, CaseFlag)
        .outerjoin(CaseFlag, CaseFlag.region_code == Region.code)
        .where(Region.code == region_code, scope)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def list_flags(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    flagged: bool | None,
    updated_since: datetime | None,
    after_code: str | None,
    limit: int,
) -> Sequence[tuple[CaseFlag, str | None]]:
    query = (
        sa.select(CaseFlag, Region.name)
        .outerjoin(Region, Region.code == CaseFlag.region_code)
        .where(scope)
        .order_by(CaseFlag.region_code)
        .limit(limit)
    )
    if flagged is not None:
        query = query.where(CaseFlag.flagged.is_(flagged))
    if updated_since:
        query = query.where(CaseFlag.updated_at > updated_since)
    if after_code:
        query = query.where(CaseFlag.region_code > after_code)
    return [(flag, name) for flag, name in (await session.execute(query)).all()]


async def flagged_among(session: AsyncSession, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    rows = await session.scalars(
        sa.select(CaseFlag.region_code).where(CaseFlag.region_code.in_(codes), CaseFlag.flagged)
    )
    return set(rows.all())
