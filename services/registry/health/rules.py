"""The monitoring rules, free of the database: health transitions, active cases, the care due date, summaries."""

from datetime import date, timedelta
from typing import Protocol

from services.registry.health.errors import (
    AlreadyConfirmed,
    ClearWithoutSuspicion,
    DischargeWithoutConfirmation,
    HealthDetailNotAllowed,
    HealthDetailRequired,
    HealthEventBeforeBirth,
    HealthEventBeforePrevious,
    HealthEventInFuture,
    HealthStatusUnchanged,
    PersonDeceased,
    ReleaseWithoutIsolation,
)
from shared.errors import DomainError
from shared.schemas.registry import HealthKind, HealthStatus, IsolationReason

K = HealthKind
# A person not (or no longer) suspected, isolated or in treatment may start a new episode, or die.
_NEW_EPISODE = frozenset({K.suspected, K.confirmed, K.isolated, K.deceased})

# THE transition rule: from each health status, the kinds of event that may follow. The status after an event is
# the event's kind. A confirmed patient is treated, not isolated, so only discharge or death follows; nothing
# follows death.
TRANSITIONS: dict[HealthStatus, frozenset[HealthKind]] = {
    HealthStatus.none: _NEW_EPISODE,
    HealthStatus.suspected: frozenset({K.confirmed, K.isolated, K.cleared, K.deceased}),
    HealthStatus.isolated: frozenset({K.suspected, K.confirmed, K.released, K.cleared, K.deceased}),
    HealthStatus.confirmed: frozenset({K.discharged, K.deceased}),
    HealthStatus.released: _NEW_EPISODE,
    HealthStatus.discharged: _NEW_EPISODE,
    HealthStatus.cleared: _NEW_EPISODE,
    HealthStatus.deceased: frozenset(),
}

# Why a kind the table does not allow is refused, for the kinds that need a particular state before them.
_NEEDS_STATE: dict[HealthKind, type[DomainError]] = {
    K.discharged: DischargeWithoutConfirmation,
    K.released: ReleaseWithoutIsolation,
    K.cleared: ClearWithoutSuspicion,
}


def refusal(status: HealthStatus, kind: HealthKind) -> type[DomainError] | None:
    """The error refusing `kind` after `status`, or None when TRANSITIONS allows it."""
    if kind in TRANSITIONS[status]:
        return None
    if status == HealthStatus.deceased:
        return PersonDeceased
    if kind in _NEEDS_STATE:
        return _NEEDS_STATE[kind]
    if status == HealthStatus.confirmed:
        return AlreadyConfirmed
    return HealthStatusUnchanged


def check_transition(status: HealthStatus, kind: HealthKind) -> None:
    error = refusal(status, kind)
    if error is not None:
        raise error(field="kind")


class EventFacts(Protocol):
    kind: HealthKind
    hospital: str | None
    hospitalised: bool | None
    isolation_place: str | None
    isolation_reason: str | None


KIND_LABELS = {
    K.suspected: "疑似", K.confirmed: "确诊", K.isolated: "隔离", K.released: "解除隔离",
    K.discharged: "出院", K.deceased: "死亡", K.cleared: "排除疑似",
}  # fmt: skip
PLACE_LABELS = {"home": "居家隔离", "centralised": "集中隔离"}
REASON_LABELS = {"suspected": "疑似病例", "close_contact": "密切接触者", "returned": "外地返回"}

# The details each kind carries, and no other kind may: a confirmation's hospital, an isolation's place and reason.
DETAILS: dict[HealthKind, tuple[str, ...]] = {
    K.confirmed: ("hospital", "hospitalised"),
    K.isolated: ("isolation_place", "isolation_reason"),
}


def check_details(event: EventFacts) -> None:
    needed = DETAILS.get(event.kind, ())
    for name in (name for names in DETAILS.values() for name in names):
        given = getattr(event, name) is not None
        if given != (name in needed):
            error = HealthDetailRequired if name in needed else HealthDetailNotAllowed
            raise error(field=name, kind=event.kind.value, kind_zh=KIND_LABELS[event.kind])


def check_date(occurred_on: date, *, birth_date: date, previous_on: date | None, on_date: date) -> None:
    """No event after today (`on_date`), before the person's birth, or before their previous event; the same day
    as the previous event is fine (suspected and confirmed on one day)."""
    if occurred_on > on_date:
        raise HealthEventInFuture(field="occurred_on")
    if occurred_on < birth_date:
        raise HealthEventBeforeBirth(field="occurred_on")
    if previous_on is not None and occurred_on < previous_on:
        raise HealthEventBeforePrevious(field="occurred_on", previous=previous_on.isoformat())


def is_active_case(status: str, isolation_reason: str | None) -> bool:
    """A case the village and township flags count: a member now suspected, confirmed, or isolated as a suspected
    case. Isolation of a close contact or of someone back from elsewhere, release, discharge, clearance and death
    do not count."""
    if status == HealthStatus.isolated:
        return isolation_reason == IsolationReason.suspected
    return status in (HealthStatus.suspected, HealthStatus.confirmed)


def summary(name: str, event: EventFacts) -> str:
    """The ledger line, e.g. "张秀华 确诊（重庆三峡中心医院，住院）"."""
    details: list[str] = []
    if event.kind == K.confirmed:
        details = [event.hospital or "", "住院" if event.hospitalised else "未住院"]
    elif event.kind == K.isolated:
        details = [PLACE_LABELS[str(event.isolation_place)], REASON_LABELS[str(event.isolation_reason)]]
    label = f"{name} {KIND_LABELS[event.kind]}"
    return f"{label}（{'，'.join(details)}）" if details else label


# --- care overdue (measure 1) ---------------------------------------------------------------------------------------


def care_due_on(diagnosed_on: date, overdue_days: int) -> date:
    """The last day a care contact is still in time: the diagnosis date plus the care-overdue days."""
    return diagnosed_on + timedelta(days=overdue_days)


def days_overdue(diagnosed_on: date, overdue_days: int, as_of: date) -> int:
    """Days overdue on `as_of` when no care contact came (0 while still in time)."""
    return max(0, (as_of - care_due_on(diagnosed_on, overdue_days)).days)
