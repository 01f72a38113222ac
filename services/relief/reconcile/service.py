"""Relief follows the registry's health timelines, whatever the order its events come in, and a reconciliation
checks that it did.

- `follow`: the one way a person's timeline (as the registry has it now) is taken into relief: their cases made to
  agree with it (cases/sync.py), and each health event relief had not seen yet handed to the insurance claims (at
  most one claim per person and kind). The inbox calls it on every `person.health_changed` it has not seen the
  health event of; the reconciliation for every person.
- `reconcile`: compares relief's cases with the registry's confirmed, discharged and deceased people, repairs and
  records every difference (on the schedule, `RELIEF_RECONCILE_S`, and by hand); its last run is on /metrics.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.relief.cases import repository as cases_repository
from services.relief.cases.sync import REGISTRY_TIMELINE, CaseSync, Outcome, Timeline, agree
from services.relief.errors import RegistryUnavailable
from services.relief.insurance.service import open_claims_for_event
from services.relief.models import Reconciliation, ReconciliationFinding, ReliefCase, plumbing
from services.relief.reconcile import repository
from services.relief.reconcile.errors import ReconciliationNotFound
from services.relief.reconcile.schemas import FindingOut, ReconciliationOut
from shared.audit import AuditTrail
from shared.clients import RegistryClient
from shared.context import Ctx
from shared.db import sessions_of, utcnow
from shared.pagination import Page, PageParams, after_id, page_of
from shared.schemas.registry import HealthEventOut, HealthKind, HouseholdOut

log = logging.getLogger("fupin.relief.reconcile")

# The kinds of health event relief's cases and claims follow
FOLLOWED_KINDS = (HealthKind.confirmed, HealthKind.discharged, HealthKind.deceased)


@dataclass
class Followed:
    outcomes: list[Outcome]
    claims_opened: int


async def hold(session: AsyncSession, person_ids: list[str]) -> repository.Held:
    """Lock the persons (one statement) and read what relief holds about them under the locks."""
    await cases_repository.lock_persons(session, person_ids)
    return await repository.held_for(session, person_ids, REGISTRY_TIMELINE.subject)


async def follow(
    session: AsyncSession,
    audit: AuditTrail,
    registry: RegistryClient,
    person: Timeline,
    *,
    opened_by: str,
    source_event_id: str | None = None,
    households: Mapping[str, HouseholdOut | None] | None = None,
    held: repository.Held | None = None,
) -> Followed:
    """Take the person's timeline into relief, in the caller's transaction, under the person's lock (`households`:
    those read from the registry already; `held`: what relief holds about them, read under their lock already,
    which is taken and read here when not)."""
    if held is None:
        held = await hold(session, [person.person_id])
    new = [e for e in person.events if e.id not in held.known.get(person.person_id, set())]
    sync = CaseSync(session, audit, registry, opened_by=opened_by, source_event_id=source_event_id,
                    households=households or {})  # fmt: skip
    outcomes = await agree(sync, person, held)
    claims = 0
    if person.person_id in held.enrolled:  # no enrolment, no claim
        for event in new:
            claims += len(await open_claims_for_event(session, audit, source_event_id or event.id, event))
    repository.learn(session, new)
    return Followed(outcomes, claims)


# --- the reconciliation ---------------------------------------------------------------------------------------------


async def registry_timelines(registry: RegistryClient) -> dict[str, Timeline]:
    """Every person the registry has confirmed, discharged or deceased, with those events."""
    events: dict[str, list[HealthEventOut]] = defaultdict(list)
    try:
        for kind in FOLLOWED_KINDS:
            async for event in registry.health_events(kind):
                events[event.person_id].append(event)
    except httpx.HTTPError as exc:
        raise RegistryUnavailable() from exc
    return {person_id: Timeline(person_id, found[0].household_id, tuple(found)) for person_id, found in events.items()}


class ReconciliationGauges:
    """The last reconciliation's time, outcome and counts, on /metrics."""

    def __init__(self, registry: CollectorRegistry):
        self.finished = Gauge(
            "fupin_relief_reconciliation_last_finished_timestamp_seconds", "When the last reconciliation ended",
            registry=registry,
        )  # fmt: skip
        self.ok = Gauge("fupin_relief_reconciliation_last_ok", "1 if the last reconciliation ran to its end",
                        registry=registry)  # fmt: skip
        self.persons = Gauge(
            "fupin_relief_reconciliation_last_persons", "Persons the last reconciliation compared", registry=registry
        )
        self.differences = Gauge(
            "fupin_relief_reconciliation_last_differences", "Differences the last reconciliation found",
            registry=registry,
        )  # fmt: skip
        self.repaired = Gauge(
            "fupin_relief_reconciliation_last_repaired", "Differences the last reconciliation repaired",
            registry=registry,
        )  # fmt: skip

    def show(self, run: Reconciliation) -> None:
        if run.finished_at is not None:
            self.finished.set(run.finished_at.timestamp())
        self.ok.set(1 if run.status == "done" else 0)
        self.persons.set(run.persons)
        self.differences.set(run.differences)
        self.repaired.set(run.repaired)


def _finding(
    run_id: str, person: Timeline, kind: str, *, repaired: bool, detail: str, case: ReliefCase | None = None
) -> ReconciliationFinding:
    """A finding about the person, scoped by their case's place, else by where their registry events put them."""
    where = case or (person.events[0] if person.events else None)
    return ReconciliationFinding(
        reconciliation_id=run_id, person_id=person.person_id, case_id=case.id if case else None,
        county_code=where.county_code if where else "", region_code=where.village_code if where else "", kind=kind,
        repaired=repaired, detail=detail[:300],
    )  # fmt: skip


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    registry: RegistryClient,
    *,
    trigger: str,
    started_by: str,
    gauges: ReconciliationGauges | None,
) -> Reconciliation:
    """One reconciliation: every person the registry or relief has, each in a transaction of their own (`sessions`:
    the app's, shared.sessions_of)."""
    async with sessions.begin() as session:
        run = Reconciliation(trigger=trigger, started_by=started_by, status="running")
        await repository.add(session, run)
    persons = differences = repaired = 0
    status, error = "done", None
    try:
        timelines = await registry_timelines(registry)
        async with sessions() as session:
            local = await repository.persons_with_cases(session)
        for person_id in sorted(set(timelines) | set(local)):
            person = timelines.get(person_id) or Timeline(person_id, "", ())
            async with sessions.begin() as session:
                audit = AuditTrail.outside_request(session, plumbing.audit_log, f"reconciliation:{run.id}")
                followed = await follow(session, audit, registry, person, opened_by="reconciliation")
                findings = [
                    _finding(run.id, person, o.change.kind, repaired=o.repaired, detail=o.change.detail, case=o.case)
                    for o in followed.outcomes
                ] + [
                    _finding(run.id, person, "claim_missing", repaired=True, detail="专属保险理赔补立案 claim opened")
                    for _ in range(followed.claims_opened)
                ]
                session.add_all(findings)
            persons += 1
            differences += len(findings)
            repaired += sum(1 for f in findings if f.repaired)
    except RegistryUnavailable:
        status, error = "failed", "监测登记服务暂不可用 the registry cannot be reached"
        raise
    except Exception as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:300]
        raise
    finally:
        async with sessions.begin() as session:
            run = await repository.get(session, run.id)
            assert run is not None
            await repository.finish(session, run, status=status, persons=persons, differences=differences,
                                    repaired=repaired, error=error, at=utcnow())  # fmt: skip
        if gauges is not None:
            gauges.show(run)
        log.info("reconciliation %s %s: %d persons, %d differences, %d repaired", run.id, status, persons,
                 differences, repaired)  # fmt: skip
    return run


def scheduled(every_s: float):
    """The background task of the app (shared.app.task_hooks): a reconciliation every `every_s` seconds; None
    when 0 (switched off)."""
    if every_s <= 0:
        return None

    async def work(app: FastAPI) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await reconcile(sessions_of(app), app.state.registry, trigger="schedule", started_by="system",
                                gauges=app.state.reconciliation_gauges)  # fmt: skip
            except Exception:  # the next one tries again; the run is recorded as failed
                log.exception("scheduled reconciliation failed")

    return work


# --- reads ----------------------------------------------------------------------------------------------------------


async def list_runs(ctx: Ctx, page: PageParams) -> Page[ReconciliationOut]:
    rows = await repository.list_runs(ctx.session, before_id=after_id(page), limit=page.limit + 1)
    kept, cursor = page_of(rows, page.limit, lambda row: {"id": row.id})
    return Page[ReconciliationOut](items=[ReconciliationOut.model_validate(r) for r in kept], next_cursor=cursor)


async def get_run(ctx: Ctx, reconciliation_id: str) -> ReconciliationOut:
    run = await repository.get(ctx.session, reconciliation_id)
    if run is None:
        raise ReconciliationNotFound()
    return ReconciliationOut.model_validate(run)


async def findings(ctx: Ctx, reconciliation_id: str, page: PageParams, *, kind: str | None) -> Page[FindingOut]:
    """The run's findings about people in the caller's scope (a county officer sees their county's)."""
    await get_run(ctx, reconciliation_id)
    rows = await repository.list_findings(
        ctx.session, reconciliation_id,
        scope=ctx.principal.region_clause(ReconciliationFinding.county_code, ReconciliationFinding.region_code),
        kind=kind, before_id=after_id(page), limit=page.limit + 1,
    )  # fmt: skip
    kept, cursor = page_of(rows, page.limit, lambda row: {"id": row.id})
    return Page[FindingOut](items=[FindingOut.model_validate(r) for r in kept], next_cursor=cursor)
