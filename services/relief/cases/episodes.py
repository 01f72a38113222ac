"""RULE relief cases from the registry's health timeline (measure 2): which cases a person's health events call for,
and what must change so that relief's cases agree with them.

The registry's health events of a person are only ever added to, in date order, so the cases are a function of
the timeline alone: every confirmation starts an episode (diagnosed on its date) and the next discharge or death
closes it (on that date). Deriving cases from the timeline, never from the one event that happened to arrive, makes
the result the same whatever order, delay or repetition the events came with.

Plain functions of dates: the inbox and the reconciliation apply what `plan` returns.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

CONFIRMED = "confirmed"
CLOSING = frozenset({"discharged", "deceased"})
# Cases opened from the registry's facts; any other `opened_by` is a civil-affairs user who opened it by hand.
OPENED_FROM_REGISTRY = frozenset({"event", "reconciliation"})


@dataclass(frozen=True)
class Fact:
    """One health event of the registry."""

    id: str
    kind: str
    occurred_on: date


@dataclass(frozen=True)
class Episode:
    """What the timeline says one case should be: from a confirmation to the discharge or death after it."""

    confirmation_id: str
    diagnosed_on: date
    closed_on: date | None = None
    close_reason: str | None = None


def episodes(facts: Iterable[Fact]) -> list[Episode]:
    """The episodes of a timeline, oldest first (events of one day in the order they were recorded)."""
    found: list[Episode] = []
    current: Episode | None = None
    for fact in sorted(facts, key=lambda f: (f.occurred_on, f.id)):
        if fact.kind == CONFIRMED and current is None:
            current = Episode(fact.id, fact.occurred_on)
        elif fact.kind in CLOSING and current is not None:
            found.append(replace(current, closed_on=fact.occurred_on, close_reason=fact.kind))
            current = None
    if current is not None:
        found.append(current)
    return found


@dataclass(frozen=True)
class CaseState:
    """What the plan needs of one of the person's cases."""

    id: str
    diagnosed_on: date
    closed_on: date | None
    confirmation_id: str | None
    opened_by: str
    corrected_by_hand: frozenset[str] = frozenset()  # the dates civil affairs corrected: they are kept

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True)
class Change:
    """A difference between the timeline and the cases, and what to do about it.

    kind: `case_missing` (open one), `case_not_closed` (close it), `closed_on_differs` / `diagnosed_on_differs`
    (correct it), `case_without_confirmation`, `closed_without_discharge` (kept: reported only), `link` (the case
    is the episode's: remember its confirmation; not a difference). `repair` False: reported, left as it is.
    """

    kind: str
    episode: Episode | None
    case_id: str | None = None
    repair: bool = True
    detail: str = ""


def _overlaps(case: CaseState, episode: Episode) -> bool:
    """The case's months and the episode's share a day (an open end runs on)."""
    case_end = case.closed_on or date.max
    episode_end = episode.closed_on or date.max
    return case.diagnosed_on <= episode_end and episode.diagnosed_on <= case_end


def _match(episode: Episode, cases: Sequence[CaseState], taken: set[str]) -> CaseState | None:
    for case in cases:
        if case.id not in taken and case.confirmation_id == episode.confirmation_id:
            return case
    for case in cases:
        if case.id not in taken and case.confirmation_id is None and case.diagnosed_on == episode.diagnosed_on:
            return case
    return None


KEPT = "（民政已更正，保留）"
CONFLICT = "（与民政更正的确诊日期冲突，请核实）"


def _date_changes(episode: Episode, case: CaseState) -> list[Change]:
    """The case's dates against the episode's. A date civil affairs corrected is kept, and so is the case's state when
    taking the episode's close date would end it before the diagnosis date they kept."""
    changes = []
    diagnosis_kept = "diagnosed_on" in case.corrected_by_hand
    if case.diagnosed_on != episode.diagnosed_on:
        changes.append(
            Change("diagnosed_on_differs", episode, case.id, repair=not diagnosis_kept,
                   detail=f"{case.diagnosed_on.isoformat()} → {episode.diagnosed_on.isoformat()}"
                   + (KEPT if diagnosis_kept else ""))
        )  # fmt: skip
    diagnosed_on = case.diagnosed_on if diagnosis_kept else episode.diagnosed_on
    if episode.closed_on is None:
        if not case.is_open:
            changes.append(Change("closed_without_discharge", episode, case.id, repair=False,
                                  detail=f"closed_on {case.closed_on}"))  # fmt: skip
        return changes
    conflict = episode.closed_on < diagnosed_on
    if case.is_open:
        changes.append(Change("case_not_closed", episode, case.id, repair=not conflict,
                              detail=f"→ {episode.closed_on.isoformat()}" + (CONFLICT if conflict else "")))  # fmt: skip
    elif case.closed_on != episode.closed_on:
        assert case.closed_on is not None
        kept = "closed_on" in case.corrected_by_hand
        changes.append(
            Change("closed_on_differs", episode, case.id, repair=not kept and not conflict,
                   detail=f"{case.closed_on.isoformat()} → {episode.closed_on.isoformat()}"
                   + (KEPT if kept else CONFLICT if conflict else ""))
        )  # fmt: skip
    return changes


def plan(timeline: Sequence[Episode], cases: Sequence[CaseState]) -> list[Change]:
    """What makes the person's cases agree with their timeline's episodes.

    Each episode is matched with the case that follows its confirmation (or, for a case from before cases kept
    their confirmation, the case of its diagnosis date). An episode without a case gets one unless another case of
    the person covers part of its months (one illness is never paid twice); a matched case takes the episode's
    dates, except a date civil affairs corrected by hand. A case opened from the registry that no episode matches
    is reported, never removed: it may have been paid.
    """
    changes: list[Change] = []
    taken: set[str] = set()
    unmatched: list[Episode] = []
    for episode in timeline:
        case = _match(episode, cases, taken)
        if case is None:
            unmatched.append(episode)
            continue
        taken.add(case.id)
        if case.confirmation_id is None:
            changes.append(Change("link", episode, case.id))
        changes.extend(_date_changes(episode, case))
    for episode in unmatched:
        overlapping = [c for c in cases if c.id not in taken and _overlaps(c, episode)]
        if overlapping:
            changes.append(Change("case_missing", episode, overlapping[0].id, repair=False,
                                  detail=f"另有重叠的救助案件 overlapping case {overlapping[0].id}"))  # fmt: skip
        else:
            changes.append(Change("case_missing", episode))
    for case in cases:
        if (
            case.id not in taken
            and case.opened_by in OPENED_FROM_REGISTRY
            and not any(_overlaps(case, e) for e in unmatched)
        ):
            changes.append(Change("case_without_confirmation", None, case.id, repair=False,
                                  detail=f"diagnosed_on {case.diagnosed_on.isoformat()}"))  # fmt: skip
    return changes
