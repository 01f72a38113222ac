"""SQL for insurance policies, enrolments and claims."""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.models import InsuranceClaim, InsuranceEnrolment, InsurancePolicy

BENEFIT_COLUMNS = {"hospitalisation": InsurancePolicy.hospitalisation_fen, "death": InsurancePolicy.death_fen}


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


# --- policies -------------------------------------------------------------------------------------------------------


async def get_policy(session: AsyncSession, policy_id: str) -> InsurancePolicy | None:
    return await session.get(InsurancePolicy, policy_id)


async def list_policies(
    session: AsyncSession,
    *,
    insured_group: str | None,
    covers_on: date | None,
    updated_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> Sequence[InsurancePolicy]:
    query = sa.select(InsurancePolicy).order_by(InsurancePolicy.id.desc()).limit(limit)
    if insured_group:
        query = query.where(InsurancePolicy.insured_group == insured_group)
    if covers_on:
        query = query.where(InsurancePolicy.cover_from <= covers_on, InsurancePolicy.cover_to >= covers_on)
    if updated_since:
        query = query.where(InsurancePolicy.updated_at > updated_since)
    if before_id:
        query = query.where(InsurancePolicy.id < before_id)
    return (await session.scalars(query)).all()


async def policy_has_enrolments(session: AsyncSession, policy_id: str) -> bool:
    query = sa.select(sa.exists().where(InsuranceEnrolment.policy_id == policy_id))
    return await session.scalar(query) or False


# --- enrolments -----------------------------------------------------------------------------------------------------


async def enrolments_under(
    session: AsyncSession, policy_id: str, insured_kind: str, insured_ids: list[str]
) -> dict[str, InsuranceEnrolment]:
    """The enrolments of these insured under the policy, by insured id."""
    query = sa.select(InsuranceEnrolment).where(
        InsuranceEnrolment.policy_id == policy_id,
        InsuranceEnrolment.insured_kind == insured_kind,
        InsuranceEnrolment.insured_id.in_(insured_ids),
    )
    return {row.insured_id: row for row in (await session.scalars(query)).all()}


async def get_enrolment(
    session: AsyncSession, enrolment_id: str, scope: sa.ColumnElement[bool]
) -> InsuranceEnrolment | None:
    query = sa.select(InsuranceEnrolment).where(InsuranceEnrolment.id == enrolment_id, scope)
    return await session.scalar(query)


async def list_enrolments(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    policy_id: str | None,
    insured_kind: str | None,
    insured_id: str | None,
    household_id: str | None,
    updated_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> Sequence[InsuranceEnrolment]:
    query = sa.select(InsuranceEnrolment).where(scope).order_by(InsuranceEnrolment.id.desc()).limit(limit)
    for column, value in (
        (InsuranceEnrolment.policy_id, policy_id),
        (InsuranceEnrolment.insured_kind, insured_kind),
        (InsuranceEnrolment.insured_id, insured_id),
        (InsuranceEnrolment.household_id, household_id),
    ):
        if value:
            query = query.where(column == value)
    if updated_since:
        query = query.where(InsuranceEnrolment.updated_at > updated_since)
    if before_id:
        query = query.where(InsuranceEnrolment.id < before_id)
    return (await session.scalars(query)).all()


async def is_enrolled(session: AsyncSession, insured_kind: str, insured_id: str, scope: sa.ColumnElement[bool]) -> bool:
    query = sa.select(
        sa.exists().where(
            InsuranceEnrolment.insured_kind == insured_kind, InsuranceEnrolment.insured_id == insured_id, scope
        )
    )
    return await session.scalar(query) or False


async def covering_enrolments(
    session: AsyncSession,
    *,
    insured_kind: str,
    insured_id: str,
    kind: str,
    occurred_on: date,
    scope: sa.ColumnElement[bool],
) -> list[tuple[InsuranceEnrolment, InsurancePolicy]]:
    """The insured's enrolments whose policy covers `occurred_on` and pays something for `kind`, earliest
    enrolment first."""
    benefit = BENEFIT_COLUMNS[kind]
    query = (
        sa.select(InsuranceEnrolment, InsurancePolicy)
        .join(InsurancePolicy, InsurancePolicy.id == InsuranceEnrolment.policy_id)
        .where(
            InsuranceEnrolment.insured_kind == insured_kind,
            InsuranceEnrolment.insured_id == insured_id,
            InsurancePolicy.cover_from <= occurred_on,
            InsurancePolicy.cover_to >= occurred_on,
            benefit > 0,
            scope,
        )
        .order_by(InsuranceEnrolment.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


# --- claims ---------------------------------------------------------------------------------------------------------

ClaimRow = tuple[InsuranceClaim, str]


def _claim_query() -> sa.Select:
    return sa.select(InsuranceClaim, InsuranceEnrolment.name).join(
        InsuranceEnrolment, InsuranceEnrolment.id == InsuranceClaim.enrolment_id
    )


async def claim_exists(session: AsyncSession, insured_kind: str, insured_id: str, kind: str) -> bool:
    query = sa.select(
        sa.exists().where(
            InsuranceClaim.insured_kind == insured_kind,
            InsuranceClaim.insured_id == insured_id,
            InsuranceClaim.kind == kind,
        )
    )
    return await session.scalar(query) or False


async def get_claim(
    session: AsyncSession, claim_id: str, scope: sa.ColumnElement[bool], *, for_update: bool = False
) -> ClaimRow | None:
    query = _claim_query().where(InsuranceClaim.id == claim_id, scope)
    if for_update:
        # Two officers paying the same claim at once: the second waits, then sees it paid.
        query = query.with_for_update(of=InsuranceClaim)
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def list_claims(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    status: str | None,
    kind: str | None,
    policy_id: str | None,
    insured_kind: str | None,
    household_id: str | None,
    updated_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> list[ClaimRow]:
    query = _claim_query().where(scope).order_by(InsuranceClaim.id.desc()).limit(limit)
    for column, value in (
        (InsuranceClaim.status, status),
        (InsuranceClaim.kind, kind),
        (InsuranceClaim.policy_id, policy_id),
        (InsuranceClaim.insured_kind, insured_kind),
        (InsuranceClaim.household_id, household_id),
    ):
        if value:
            query = query.where(column == value)
    if updated_since:
        query = query.where(InsuranceClaim.updated_at > updated_since)
    if before_id:
        query = query.where(InsuranceClaim.id < before_id)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]
