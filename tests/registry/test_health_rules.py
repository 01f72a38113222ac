"""The monitoring rules on their own: the health transition table, refusals, dates, active cases, the care due date."""

from datetime import date
from types import SimpleNamespace

import pytest

from services.registry.health import rules
from services.registry.health.rules import TRANSITIONS, refusal
from shared.errors import DomainError
from shared.schemas.registry import HealthKind, HealthStatus

S, K = HealthStatus, HealthKind

# The table, spelled out once more: (status, kind) pairs allowed.
ALLOWED = {
    S.none: {K.suspected, K.confirmed, K.isolated, K.deceased},
    S.suspected: {K.confirmed, K.isolated, K.cleared, K.deceased},
    S.isolated: {K.suspected, K.confirmed, K.released, K.cleared, K.deceased},
    S.confirmed: {K.discharged, K.deceased},
    S.released: {K.suspected, K.confirmed, K.isolated, K.deceased},
    S.discharged: {K.suspected, K.confirmed, K.isolated, K.deceased},
    S.cleared: {K.suspected, K.confirmed, K.isolated, K.deceased},
    S.deceased: set(),
}


def code_of(status: HealthStatus, kind: HealthKind) -> str | None:
    error = refusal(status, kind)
    return None if error is None else error.code


def test_the_table_covers_every_status():
    assert set(TRANSITIONS) == set(HealthStatus)
    assert {s: set(kinds) for s, kinds in TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize("status", list(HealthStatus))
@pytest.mark.parametrize("kind", list(HealthKind))
def test_refusal_agrees_with_the_table(status, kind):
    assert (refusal(status, kind) is None) == (kind in ALLOWED[status])


def test_every_status_but_death_leads_somewhere_and_the_status_is_the_kind():
    for status, kinds in TRANSITIONS.items():
        assert bool(kinds) == (status != S.deceased)
        assert all(HealthStatus(kind.value) in TRANSITIONS for kind in kinds)


@pytest.mark.parametrize("status", [s for s in HealthStatus if s != S.confirmed])
def test_no_discharge_without_a_current_confirmation(status):
    expected = "person_deceased" if status == S.deceased else "discharge_without_confirmation"
    assert code_of(status, K.discharged) == expected
    assert code_of(S.confirmed, K.discharged) is None


@pytest.mark.parametrize("status", [s for s in HealthStatus if s not in (S.isolated, S.deceased)])
def test_released_only_from_isolation(status):
    assert code_of(status, K.released) == "release_without_isolation"
    assert code_of(S.isolated, K.released) is None


@pytest.mark.parametrize("status", [s for s in HealthStatus if s not in (S.suspected, S.isolated, S.deceased)])
def test_cleared_only_from_suspected_or_isolated(status):
    assert code_of(status, K.cleared) == "clear_without_suspicion"
    assert code_of(S.suspected, K.cleared) is None
    assert code_of(S.isolated, K.cleared) is None


@pytest.mark.parametrize("kind", list(HealthKind))
def test_nothing_after_death(kind):
    assert code_of(S.deceased, kind) == "person_deceased"
    assert refusal(S.deceased, kind).status == 409


@pytest.mark.parametrize("kind", [K.suspected, K.confirmed, K.isolated])
def test_a_confirmed_patient_is_only_discharged_or_dies(kind):
    assert code_of(S.confirmed, kind) == "already_confirmed"


@pytest.mark.parametrize("status", [S.suspected, S.isolated])
def test_the_same_state_twice_is_refused(status):
    assert code_of(status, K(status.value)) == "health_status_unchanged"


def test_every_refusal_has_its_own_code_and_unchanged_only_for_a_repeat():
    refusals = {(s, k): refusal(s, k) for s in HealthStatus for k in HealthKind if refusal(s, k) is not None}
    assert all(issubclass(e, DomainError) for e in refusals.values())
    codes = {e.code for e in refusals.values()}
    assert codes == {
        "person_deceased", "discharge_without_confirmation", "release_without_isolation",
        "clear_without_suspicion", "already_confirmed", "health_status_unchanged",
    }  # fmt: skip
    assert len({e for e in refusals.values()}) == len(codes)
    assert all(s.value == k.value for (s, k), e in refusals.items() if e.code == "health_status_unchanged")
    assert all(e.status == 422 for e in refusals.values() if e.code != "person_deceased")


def test_check_transition_names_the_kind_field():
    with pytest.raises(DomainError) as caught:
        rules.check_transition(S.none, K.discharged)
    assert (caught.value.code, caught.value.field) == ("discharge_without_confirmation", "kind")
    rules.check_transition(S.none, K.confirmed)


# --- dates ------------------------------------------------------------------------------------------------------


BIRTH, TODAY = date(1970, 1, 1), date(2020, 2, 10)


def date_code(occurred_on: date, previous_on: date | None = None) -> str | None:
    try:
        rules.check_date(occurred_on, birth_date=BIRTH, previous_on=previous_on, on_date=TODAY)
    except DomainError as error:
        assert error.field == "occurred_on"
        return error.code
    return None


def test_dates_at_their_edges():
    assert date_code(TODAY) is None
    assert date_code(date(2020, 2, 11)) == "health_event_in_future"
    assert date_code(BIRTH) is None
    assert date_code(date(1969, 12, 31)) == "health_event_before_birth"
    assert date_code(date(2020, 2, 3), previous_on=date(2020, 2, 3)) is None
    assert date_code(date(2020, 2, 2), previous_on=date(2020, 2, 3)) == "health_event_before_previous"


# --- details ----------------------------------------------------------------------------------------------------


def facts(kind: HealthKind, **given) -> SimpleNamespace:
    fields = {"hospital": None, "hospitalised": None, "isolation_place": None, "isolation_reason": None}
    return SimpleNamespace(kind=kind, **{**fields, **given})


CONFIRMED = {"hospital": "重庆三峡中心医院", "hospitalised": False}
ISOLATED = {"isolation_place": "centralised", "isolation_reason": "suspected"}


@pytest.mark.parametrize(
    ("kind", "given", "code", "field"),
    [
        (K.confirmed, {"hospitalised": True}, "health_detail_required", "hospital"),
        (K.confirmed, {"hospital": "万州区人民医院"}, "health_detail_required", "hospitalised"),
        (K.confirmed, {**CONFIRMED, "isolation_place": "home"}, "health_detail_not_allowed", "isolation_place"),
        (K.isolated, {"isolation_reason": "returned"}, "health_detail_required", "isolation_place"),
        (K.isolated, {"isolation_place": "home"}, "health_detail_required", "isolation_reason"),
        (K.isolated, {**ISOLATED, "hospital": "x"}, "health_detail_not_allowed", "hospital"),
        (K.suspected, {"hospitalised": False}, "health_detail_not_allowed", "hospitalised"),
        (K.released, {"isolation_reason": "suspected"}, "health_detail_not_allowed", "isolation_reason"),
    ],
)
def test_each_kind_takes_its_own_details(kind, given, code, field):
    with pytest.raises(DomainError) as caught:
        rules.check_details(facts(kind, **given))
    assert (caught.value.code, caught.value.field) == (code, field)


@pytest.mark.parametrize(("kind", "given"), [(K.confirmed, CONFIRMED), (K.isolated, ISOLATED), (K.discharged, {})])
def test_complete_details_pass(kind, given):
    rules.check_details(facts(kind, **given))


# --- active cases and summaries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "active"),
    [
        ("none", None, False),
        ("suspected", None, True),
        ("confirmed", None, True),
        ("isolated", "suspected", True),
        ("isolated", "close_contact", False),
        ("isolated", "returned", False),
        ("released", None, False),
        ("discharged", None, False),
        ("deceased", None, False),
        ("cleared", None, False),
    ],
)
def test_active_cases(status, reason, active):
    assert rules.is_active_case(status, reason) is active


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (facts(K.confirmed, hospital="重庆三峡中心医院", hospitalised=True), "张秀华 确诊（重庆三峡中心医院，住院）"),
        (facts(K.confirmed, hospital="丰都县人民医院", hospitalised=False), "张秀华 确诊（丰都县人民医院，未住院）"),
        (
            facts(K.isolated, isolation_place="home", isolation_reason="close_contact"),
            "张秀华 隔离（居家隔离，密切接触者）",
        ),
        (
            facts(K.isolated, isolation_place="centralised", isolation_reason="returned"),
            "张秀华 隔离（集中隔离，外地返回）",
        ),
        (facts(K.suspected), "张秀华 疑似"),
        (facts(K.released), "张秀华 解除隔离"),
        (facts(K.discharged), "张秀华 出院"),
        (facts(K.deceased), "张秀华 死亡"),
        (facts(K.cleared), "张秀华 排除疑似"),
    ],
)
def test_ledger_summaries(event, line):
    assert rules.summary("张秀华", event) == line


# --- care due date ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diagnosed_on", "days", "as_of", "due_on", "overdue"),
    [
        (date(2020, 2, 3), 3, date(2020, 2, 3), date(2020, 2, 6), 0),
        (date(2020, 2, 3), 3, date(2020, 2, 6), date(2020, 2, 6), 0),
        (date(2020, 2, 3), 3, date(2020, 2, 7), date(2020, 2, 6), 1),
        (date(2020, 2, 27), 3, date(2020, 3, 10), date(2020, 3, 1), 9),
        (date(2020, 2, 3), 0, date(2020, 2, 4), date(2020, 2, 3), 1),
    ],
)
def test_care_due_date_and_days_overdue(diagnosed_on, days, as_of, due_on, overdue):
    assert rules.care_due_on(diagnosed_on, days) == due_on
    assert rules.days_overdue(diagnosed_on, days, as_of) == overdue
