"""SQL for contacts, clean-ups and impact surveys."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Cadre, Cleanup, Contact, Household, ImpactSurvey
from services.registry.records.repository import count_if, grouped

Narrow = Callable[[Any], list[sa.ColumnElement[bool]]]


def contacts_query(
    *,
    scope: sa.ColumnElement[bool],
    household_id: str | None,
    cadre_id: str | None,
    kind: str | None,
    channel: str | None,
    since: datetime | None,
    until: datetime | None,
) -> sa.Select:
    """Contacts with their cadre's name; `since` included, `until` excluded."""
    query = sa.select(Contact, Cadre.name).outerjoin(Cadre, Cadre.id == Contact.cadre_id).where(scope)
    for column, value in (
        (Contact.household_id, household_id),
        (Contact.cadre_id, cadre_id),
        (Contact.kind, kind),
        (Contact.channel, channel),
    ):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(Contact.contacted_at >= since)
    if until:
        query = query.where(Contact.contacted_at < until)
    return query


async def cleanup_of(session: AsyncSession, household_id: str, campaign: str) -> Cleanup | None:
    return await session.scalar(
        sa.select(Cleanup).where(Cleanup.household_id == household_id, Cleanup.campaign == campaign)
    )


# --- roll-ups ---------------------------------------------------------------------------------------------------


async def cleanup_counts(
    session: AsyncSession,
    *,
    campaign: str,
    filters: list[sa.ColumnElement[bool]],
    narrow: Narrow,
    group: sa.ColumnElement[str] | None,
) -> list[dict[str, Any]]:
    done = sa.select(Cleanup.household_id).where(Cleanup.campaign == campaign, *narrow(Cleanup)).subquery("done")
    query = (
        sa.select(sa.func.count(Household.id).label("households"), sa.func.count(done.c.household_id).label("cleaned"))
        .select_from(Household)
        .outerjoin(done, done.c.household_id == Household.id)
        .where(*filters)
    )
    return await grouped(session, query, group)


async def impact_counts(
    session: AsyncSession,
    *,
    period: list[sa.ColumnElement[bool]],
    filters: list[sa.ColumnElement[bool]],
    narrow: Narrow,
    group: sa.ColumnElement[str] | None,
) -> list[dict[str, Any]]:
    """Each household once, by its latest survey in the period."""
    rank = sa.func.row_number().over(
        partition_by=ImpactSurvey.household_id, order_by=(ImpactSurvey.surveyed_on.desc(), ImpactSurvey.id.desc())
    )
    ranked = sa.select(ImpactSurvey, rank.label("rank")).where(*period, *narrow(ImpactSurvey)).subquery("ranked")
    latest = sa.select(ranked).where(ranked.c.rank == 1).subquery("latest")
    query = (
        sa.select(
            sa.func.count().label("households_surveyed"),
            count_if(latest.c.exit_target_at_risk.is_(True)).label("at_risk"),
            count_if(latest.c.income_expectation == "increase").label("expect_increase"),
            count_if(latest.c.income_expectation == "same").label("expect_same"),
            count_if(latest.c.income_expectation == "decrease").label("expect_decrease"),
            sa.func.count(latest.c.patient_burden_fen).label("patient_burden_households"),
            sa.func.coalesce(sa.func.sum(latest.c.patient_burden_fen), 0).label("patient_burden_total_fen"),
        )
        .select_from(latest)
        .join(Household, Household.id == latest.c.household_id)
        .where(*filters)
    )
    return await grouped(session, query, group)
