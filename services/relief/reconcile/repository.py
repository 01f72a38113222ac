"""SQL of the registry's health events relief knows, and of the reconciliations and their findings."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.cases import repository as cases_repository
from services.relief.insurance.schemas import InsuredKind
from services.relief.models import (
    InsuranceEnrolment,
    KnownHealthEvent,
    Reconciliation,
    ReconciliationFinding,
    ReliefCase,
)
from shared.db import utcnow, write_behind
from shared.schemas.registry import HealthEventOut


async def known_among(session: AsyncSession, health_event_ids: list[str]) -> set[str]:
    """Those of the health events relief has taken in already."""
    if not health_event_ids:
        return set()
    rows = await session.scalars(sa.select(KnownHealthEvent.id).where(KnownHealthEvent.id.in_(health_event_ids)))
    return set(rows.all())


@dataclass(frozen=True)
class Held:
    """What relief holds about some persons, read in four statements for all of them (an inbox's POST) instead of
    four for each: the health events it knows, their cases (oldest first) and the dates of those corrected by hand,
    and who is enrolled in an insurance policy at all. Read under the persons' locks, in the transaction that
    follows them."""

    known: dict[str, set[str]] = field(default_factory=dict)
    cases: dict[str, list[ReliefCase]] = field(default_factory=dict)
    # (case id, field) of the cases' dates someone corrected by hand (not the registry's timeline)
    corrected: set[tuple[str, str]] = field(default_factory=set)
    enrolled: frozenset[str] = frozenset()


async def held_for(session: AsyncSession, person_ids: list[str], system: str) -> Held:
    """`system`: who corrects dates on the timeline's behalf (a correction by anyone else is by hand)."""
    known: dict[str, set[str]] = defaultdict(set)
    cases: dict[str, list[ReliefCase]] = defaultdict(list)
    if not person_ids:
        return Held()
    rows = await session.execute(
        sa.select(KnownHealthEvent.person_id, KnownHealthEvent.id).where(KnownHealthEvent.person_id.in_(person_ids))
    )
    for person_id, event_id in rows:
        known[person_id].add(event_id)
    query = (
        sa.select(ReliefCase)
        .where(ReliefCase.person_id.in_(person_ids))
        .order_by(ReliefCase.person_id, ReliefCase.diagnosed_on)
        .with_for_update()
    )
    for case in (await session.scalars(query)).all():
        cases[case.person_id].append(case)
    corrected = await cases_repository.hand_corrected(
        session, [case.id for found in cases.values() for case in found], system
    )
    enrolled = await session.scalars(
        sa.select(InsuranceEnrolment.insured_id)
        .where(
            InsuranceEnrolment.insured_kind == InsuredKind.person.value, InsuranceEnrolment.insured_id.in_(person_ids)
        )
        .distinct()
    )
    return Held(dict(known), dict(cases), corrected, frozenset(enrolled.all()))


def learn(session: AsyncSession, events: list[HealthEventOut]) -> None:
    """The registry's health events relief has taken in, written as the transaction commits (nothing reads them
    before: a POST follows each person once, and reads what is known before it does)."""
    write_behind(
        session, KnownHealthEvent.__table__,
        [{"id": e.id, "person_id": e.person_id, "kind": e.kind.value, "occurred_on": e.occurred_on,
          "learned_at": utcnow()} for e in events],
    )  # fmt: skip


async def persons_with_cases(session: AsyncSession) -> list[str]:
    return list((await session.scalars(sa.select(ReliefCase.person_id).distinct())).all())


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()


async def get(session: AsyncSession, reconciliation_id: str) -> Reconciliation | None:
    return await session.get(Reconciliation, reconciliation_id)


async def last_finished(session: AsyncSession) -> Reconciliation | None:
    return await session.scalar(
        sa.select(Reconciliation)
        .where(Reconciliation.finished_at.is_not(None))
        .order_by(Reconciliation.finished_at.desc())
        .limit(1)
    )


async def list_runs(session: AsyncSession, *, before_id: str | None, limit: int) -> list[Reconciliation]:
    query = sa.select(Reconciliation).order_by(Reconciliation.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Reconciliation.id < before_id)
    return list((await session.scalars(query)).all())


async def list_findings(
    session: AsyncSession,
    reconciliation_id: str,
    *,
    scope: sa.ColumnElement[bool],
    kind: str | None,
    before_id: str | None,
    limit: int,
) -> list[ReconciliationFinding]:
    query = (
        sa.select(ReconciliationFinding)
        .where(ReconciliationFinding.reconciliation_id == reconciliation_id, scope)
        .order_by(ReconciliationFinding.id.desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(ReconciliationFinding.kind == kind)
    if before_id is not None:
        query = query.where(ReconciliationFinding.id < before_id)
    return list((await session.scalars(query)).all())


async def finish(
    session: AsyncSession, run: Reconciliation, *, status: str, persons: int, differences: int, repaired: int,
    error: str | None, at: datetime,
) -> None:  # fmt: skip
    run.status, run.persons, run.differences, run.repaired = status, persons, differences, repaired
    run.error, run.finished_at = error, at
    await session.flush()
