"""Make one person's relief cases agree with their health timeline in the registry (episodes.plan), for the event
inbox and the reconciliation alike: open what is missing, close what is over, correct a date that differs (a paid
period is never rewritten: the schedule shows the difference as an adjustment), and report what it leaves to civil
affairs (a date they corrected by hand, a case no confirmation explains).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.cases.episodes import CaseState as State
from services.relief.cases.episodes import Change, Episode, Fact, episodes, plan
from services.relief.cases.schemas import CorrectableDate
from services.relief.cases.service import (
    close_case,
    correct_date,
    fetch_household,
    is_eligible,
    member_of,
    open_case_for,
)
from services.relief.models import ReliefCase
from services.relief.reconcile.repository import Held
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clients import RegistryClient
from shared.errors import DomainError
from shared.schemas.registry import HealthEventOut, HouseholdOut, PersonHealthHistory

# Who the audit log names for what the registry's timeline does to cases.
REGISTRY_TIMELINE = Principal(subject="system:relief-events", kind="client", roles=(), regions=())
CORRECTION_REASON = "以登记系统健康记录为准 As the registry's health events say"


@dataclass(frozen=True)
class Timeline:
    """A person's health events as the registry has them now (each with where the person lives, for scope)."""

    person_id: str
    household_id: str
    events: tuple[HealthEventOut, ...]

    @classmethod
    def of(cls, history: PersonHealthHistory) -> "Timeline":
        return cls(history.person_id, history.household_id, tuple(history.events))

    @property
    def facts(self) -> tuple[Fact, ...]:
        return tuple(Fact(e.id, e.kind.value, e.occurred_on) for e in self.events)


@dataclass(frozen=True)
class Outcome:
    """A difference found, whether it was repaired, and the case it is about (the one opened, when it was missing)."""

    change: Change
    repaired: bool
    case: ReliefCase | None


@dataclass
class CaseSync:
    session: AsyncSession
    audit: AuditTrail
    registry: RegistryClient
    opened_by: str  # "event" or "reconciliation"
    source_event_id: str | None = None
    # Households read from the registry before the transaction (the inbox's), by id; others are read when needed
    households: Mapping[str, HouseholdOut | None] = field(default_factory=dict)

    async def household(self, household_id: str) -> HouseholdOut | None:
        if household_id in self.households:
            return self.households[household_id]
        return await fetch_household(self.registry, household_id)


def _state(case: ReliefCase, corrected: set[tuple[str, str]]) -> State:
    return State(
        id=case.id, diagnosed_on=case.diagnosed_on, closed_on=case.closed_on, confirmation_id=case.confirmation_id,
        opened_by=case.opened_by,
        corrected_by_hand=frozenset(field for case_id, field in corrected if case_id == case.id),
    )  # fmt: skip


async def agree(sync: CaseSync, timeline: Timeline, held: Held) -> list[Outcome]:
    """Bring the person's cases in line with the timeline; the differences found (a link of an old case to its
    confirmation is not one). The caller holds the person's lock and has read what relief `held` under it."""
    cases = held.cases.get(timeline.person_id, [])
    corrected = held.corrected
    by_id = {case.id: case for case in cases}
    outcomes = []
    for change in plan(episodes(timeline.facts), [_state(c, corrected) for c in cases]):
        case = by_id.get(change.case_id) if change.case_id else None
        if change.kind == "link":
            assert case is not None and change.episode is not None
            case.confirmation_id = change.episode.confirmation_id
            continue
        if not change.repair:
            outcomes.append(Outcome(change, False, case))
            continue
        assert change.episode is not None
        if change.kind == "case_missing":
            opened = await _open(sync, timeline, change.episode)
            if opened is not None:
                outcomes.append(Outcome(change, True, opened))
            continue
        assert case is not None
        try:
            async with sync.session.begin_nested():
                await _repair(sync, case, change)
        except DomainError as refused:  # the case's other dates forbid it: reported, left to civil affairs
            outcomes.append(Outcome(replace(change, detail=f"{change.detail} {refused.code}"), False, case))
            continue
        outcomes.append(Outcome(change, True, case))
    return outcomes


async def _repair(sync: CaseSync, case: ReliefCase, change: Change) -> None:
    episode = change.episode
    assert episode is not None
    if change.kind == "case_not_closed":
        assert episode.closed_on is not None and episode.close_reason is not None
        await close_case(
            sync.session, sync.audit, REGISTRY_TIMELINE, case, closed_on=episode.closed_on,
            reason=episode.close_reason,
        )  # fmt: skip
    elif change.kind == "closed_on_differs":
        assert episode.closed_on is not None
        await correct_date(sync.session, sync.audit, REGISTRY_TIMELINE, case, CorrectableDate.closed_on,
                           episode.closed_on, CORRECTION_REASON)  # fmt: skip
        case.close_reason = episode.close_reason
    elif change.kind == "diagnosed_on_differs":
        await correct_date(sync.session, sync.audit, REGISTRY_TIMELINE, case, CorrectableDate.diagnosed_on,
                           episode.diagnosed_on, CORRECTION_REASON)  # fmt: skip
    case.confirmation_id = episode.confirmation_id


async def _open(sync: CaseSync, timeline: Timeline, episode: Episode) -> ReliefCase | None:
    """The episode's case, opened (and closed, when it is over) if the person's household is eligible on the
    diagnosis date; None when it is not, or the registry has no such household or member."""
    household = await sync.household(timeline.household_id)
    member = None if household is None else member_of(household, timeline.person_id)
    if household is None or member is None:
        return None
    if not await is_eligible(sync.session, household, episode.diagnosed_on):
        return None
    over = episode.closed_on is not None and episode.close_reason is not None
    return await open_case_for(
        sync.session, sync.audit, REGISTRY_TIMELINE, household=household, member=member,
        diagnosed_on=episode.diagnosed_on, opened_by=sync.opened_by, source_event_id=sync.source_event_id,
        confirmation_id=episode.confirmation_id, closed=(episode.closed_on, episode.close_reason) if over else None,
    )  # fmt: skip
