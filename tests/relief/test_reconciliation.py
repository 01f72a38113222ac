"""Relief follows the registry's health timeline whatever the order its events come in, and the reconciliation
(POST /api/v1/relief/reconciliations) finds and repairs what the events left undone: through the API, with the
in-process registry.
"""

from datetime import date

from services.relief.models import ReliefCase
from shared.ids import uuid7
from tests.support.callers import AUDITOR, CITY_ADMIN, CIVIL, FENGDU, WANZHOU, Api
from tests.support.registry import assert_problem, make_household, record_health
from tests.support.relief import (
    CASES,
    add_standard,
    cases_of,
    deliver,
    delivered,
    health_event,
    pay_line,
    published_relief,
    registry_down,
    schedule,
)

RECONCILIATIONS = "/api/v1/relief/reconciliations"
VILLAGE = "500230101201"  # 丰都县虎威镇
WANZHOU_VILLAGE = "500101001201"  # 万州区
REGISTRY_TIMELINE = "system:relief-events"
MONTHLY_FEN = 88_000  # 2 × the 丰都 rural standard of 440.00 yuan


async def standard(relief: Api) -> None:
    await add_standard(relief, "500230", "rural", 44_000, "2019-07-01")


async def person_in(registry: Api, village: str = VILLAGE, **household) -> dict:
    return (await make_household(registry, village, **household))["members"][0]


async def reconcile(relief: Api, caller=CIVIL) -> dict:
    response = await relief.post(RECONCILIATIONS, caller)
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["status"], run["trigger"], run["error"]) == ("done", "manual", None), run
    assert run["finished_at"] is not None
    return run


async def findings(relief: Api, run_id: str, caller=CITY_ADMIN, **params) -> list[dict]:
    response = await relief.get(f"{RECONCILIATIONS}/{run_id}/findings", caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


async def findings_of(relief: Api, run_id: str, person_id: str, caller=CITY_ADMIN) -> list[tuple]:
    """(kind, case id, repaired) of the run's findings about the person, in the caller's scope, oldest first."""
    found = [f for f in await findings(relief, run_id, caller) if f["person_id"] == person_id]
    return [(f["kind"], f["case_id"], f["repaired"]) for f in reversed(found)]


async def case_detail(relief: Api, case_id: str) -> dict:
    response = await relief.get(f"{CASES}/{case_id}", CITY_ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def audit_actions(relief: Api, entity_id: str) -> list[tuple[str, str]]:
    """(action, actor) of the audit log's entries about the entity, newest first."""
    response = await relief.get("/api/v1/relief/audit", AUDITOR, params={"entity_id": entity_id, "limit": 200})
    assert response.status_code == 200, response.text
    return [(e["action"], e["actor"]) for e in response.json()["items"]]


def metric(text: str, name: str) -> float:
    [value] = [line.split()[-1] for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(value)


# --- events out of order ------------------------------------------------------------------------------------------


async def test_a_discharge_delivered_before_its_confirmation_gives_one_closed_case(relief, registry):
    """The bug this work fixes: the discharge came first, found no case, and the confirmation then opened a case
    that was never closed and paid month after month."""
    await standard(relief)
    person = await person_in(registry)
    confirmation = await health_event(registry, person["id"], "confirmed", "2020-02-01")
    discharge = await health_event(registry, person["id"], "discharged", "2020-02-20")
    for event in (discharge, confirmation):
        response = await deliver(relief, event)
        assert (response.status_code, response.json()) == (200, {"accepted": True})
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["diagnosed_on"], case["status"], case["closed_on"], case["close_reason"], case["opened_by"]) == (
        "2020-02-01", "closed", "2020-02-20", "discharged", "event",
    )  # fmt: skip
    plan = await schedule(relief, case["id"], "2020-12-01")
    assert (plan["totals"]["periods"], plan["totals"]["entitled_fen"], plan["totals"]["due_fen"]) == (
        1, MONTHLY_FEN, MONTHLY_FEN,
    )  # fmt: skip
    assert [(p["number"], p["start"], p["end"]) for p in plan["periods"]] == [(1, "2020-02-01", "2020-03-01")]
    assert len(await published_relief(relief, "relief.case_opened")) == 1
    [closed] = await published_relief(relief, "relief.case_closed")
    assert (closed["data"]["case_id"], closed["data"]["closed_on"], closed["data"]["periods"]) == (
        case["id"], "2020-02-20", 1,
    )  # fmt: skip


async def test_the_full_timeline_delivered_backwards_gives_two_closed_cases(relief, registry):
    person = await person_in(registry)
    events = [
        await health_event(registry, person["id"], "confirmed", "2020-02-01"),
        await health_event(registry, person["id"], "discharged", "2020-02-20"),
        await health_event(registry, person["id"], "confirmed", "2020-04-02"),
        await health_event(registry, person["id"], "deceased", "2020-05-10"),
    ]
    for event in reversed(events):
        response = await deliver(relief, event)
        assert (response.status_code, response.json()) == (200, {"accepted": True})
    cases = await cases_of(relief, person_id=person["id"])
    assert [(c["diagnosed_on"], c["status"], c["closed_on"], c["close_reason"]) for c in cases] == [
        ("2020-04-02", "closed", "2020-05-10", "deceased"),
        ("2020-02-01", "closed", "2020-02-20", "discharged"),
    ]
    # and the reconciliation finds nothing left to do for them
    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], person["id"]) == []


# --- the reconciliation repairs ----------------------------------------------------------------------------------


async def test_lost_events_are_found_and_repaired(relief, registry):
    await standard(relief)
    person = await person_in(registry)
    lost = [
        await health_event(registry, person["id"], "confirmed", "2020-02-01"),
        await health_event(registry, person["id"], "discharged", "2020-02-20"),
    ]
    assert await cases_of(relief, person_id=person["id"]) == []

    run = await reconcile(relief)
    assert (run["started_by"], run["persons"]) == ("civil", 1)
    assert run["differences"] >= 1 and run["repaired"] >= 1
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["diagnosed_on"], case["status"], case["closed_on"], case["close_reason"], case["opened_by"]) == (
        "2020-02-01", "closed", "2020-02-20", "discharged", "reconciliation",
    )  # fmt: skip
    [finding] = [f for f in await findings(relief, run["id"]) if f["person_id"] == person["id"]]
    assert {k: finding[k] for k in ("kind", "case_id", "repaired", "county_code", "region_code")} == {
        "kind": "case_missing", "case_id": case["id"], "repaired": True, "county_code": "500230",
        "region_code": VILLAGE,
    }  # fmt: skip
    assert (await schedule(relief, case["id"], "2020-12-01"))["totals"]["periods"] == 1
    assert ("relief_case.open", REGISTRY_TIMELINE) in await audit_actions(relief, case["id"])

    again = await reconcile(relief)
    assert (again["differences"], again["repaired"]) == (0, 0)
    assert await findings(relief, again["id"]) == []
    # the lost events, delivered at last, change nothing
    for event in lost:
        response = await deliver(relief, event)
        assert (response.status_code, response.json()) == (200, {"accepted": True})
    assert [c["id"] for c in await cases_of(relief, person_id=person["id"])] == [case["id"]]
    assert len(await published_relief(relief, "relief.case_opened")) == 1


async def test_a_case_left_open_is_closed(relief, registry):
    person = await person_in(registry)
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    await record_health(registry, person["id"], "discharged", "2020-02-20")  # the event never reaches relief
    [case] = await cases_of(relief, person_id=person["id"])
    assert case["status"] == "open"

    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], person["id"]) == [("case_not_closed", case["id"], True)]
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["status"], case["closed_on"], case["close_reason"]) == ("closed", "2020-02-20", "discharged")
    assert ("relief_case.close", REGISTRY_TIMELINE) in await audit_actions(relief, case["id"])


async def test_paid_periods_after_an_earlier_discharge_become_adjustments(relief, registry):
    await standard(relief)
    person = await person_in(registry)
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    [case] = await cases_of(relief, person_id=person["id"])
    for number, start in ((1, "2020-02-01"), (2, "2020-03-01"), (3, "2020-04-01")):
        await pay_line(relief, case, number, start, MONTHLY_FEN)
    before = await schedule(relief, case["id"], "2020-12-01")
    assert (before["totals"]["periods"], before["totals"]["due_fen"]) == (11, 8 * MONTHLY_FEN)  # February to December

    await record_health(registry, person["id"], "discharged", "2020-02-20")
    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], person["id"]) == [("case_not_closed", case["id"], True)]
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["status"], case["closed_on"]) == ("closed", "2020-02-20")

    after = await schedule(relief, case["id"], "2020-12-01")
    assert after["due"] == [
        {"period_no": 2, "period_start": "2020-03-01", "kind": "adjustment", "amount_fen": -MONTHLY_FEN},
        {"period_no": 3, "period_start": "2020-04-01", "kind": "adjustment", "amount_fen": -MONTHLY_FEN},
    ]
    totals = after["totals"]
    assert (totals["periods"], totals["entitled_fen"], totals["paid_fen"], totals["due_fen"]) == (
        1, MONTHLY_FEN, 3 * MONTHLY_FEN, -2 * MONTHLY_FEN,
    )  # fmt: skip
    assert [(p["number"], p["entitled"], p["paid_fen"], p["due_fen"], p["status"]) for p in after["periods"]] == [
        (1, True, MONTHLY_FEN, 0, "paid"),
        (2, False, MONTHLY_FEN, -MONTHLY_FEN, "due"),
        (3, False, MONTHLY_FEN, -MONTHLY_FEN, "due"),
    ]
    # the paid lines are never rewritten
    assert [(line["kind"], line["amount_fen"], line["status"]) for p in after["periods"] for line in p["lines"]] == [
        ("period", MONTHLY_FEN, "paid")
    ] * 3
    assert ("relief_case.close", REGISTRY_TIMELINE) in await audit_actions(relief, case["id"])


async def test_a_hand_opened_case_closed_late_is_linked_and_its_date_corrected(relief, registry):
    """A case civil affairs opened by hand on the diagnosis date, closed later than the registry's discharge: the
    reconciliation takes it as the episode's case and corrects the close date with an audited correction."""
    await standard(relief)
    household = await make_household(registry, VILLAGE)
    person = household["members"][0]
    body = {"person_id": person["id"], "household_id": household["id"], "diagnosed_on": "2020-02-01",
            "closed_on": "2020-04-15", "close_reason": "discharged", "reason": "补录已出院患者"}  # fmt: skip
    response = await relief.post(CASES, CIVIL, json=body)
    assert response.status_code == 201, response.text
    case = response.json()
    for number, start in ((1, "2020-02-01"), (2, "2020-03-01"), (3, "2020-04-01")):
        await pay_line(relief, case, number, start, MONTHLY_FEN)
    await record_health(registry, person["id"], "confirmed", "2020-02-01")
    await record_health(registry, person["id"], "discharged", "2020-02-20")

    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], person["id"]) == [("closed_on_differs", case["id"], True)]
    [listed] = await cases_of(relief, person_id=person["id"])
    assert (listed["id"], listed["closed_on"], listed["opened_by"]) == (case["id"], "2020-02-20", "civil")
    [correction] = (await case_detail(relief, case["id"]))["corrections"]
    assert {k: correction[k] for k in ("field", "old_value", "new_value", "corrected_by")} == {
        "field": "closed_on", "old_value": "2020-04-15", "new_value": "2020-02-20", "corrected_by": REGISTRY_TIMELINE,
    }  # fmt: skip
    assert ("relief_case.correct", REGISTRY_TIMELINE) in await audit_actions(relief, case["id"])
    owed = (await schedule(relief, case["id"], "2020-12-01"))["due"]
    assert [(d["period_no"], d["kind"], d["amount_fen"]) for d in owed] == [
        (2, "adjustment", -MONTHLY_FEN), (3, "adjustment", -MONTHLY_FEN),
    ]  # fmt: skip

    again = await reconcile(relief)
    assert await findings_of(relief, again["id"], person["id"]) == []


async def test_a_close_date_corrected_by_hand_is_kept(relief, registry):
    person = await person_in(registry)
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    await delivered(relief, registry, person["id"], "discharged", "2020-02-20")
    [case] = await cases_of(relief, person_id=person["id"])
    body = {"field": "closed_on", "value": "2020-02-25", "reason": "出院小结日期更正"}
    response = await relief.post(f"{CASES}/{case['id']}/corrections", CIVIL, json=body)
    assert response.status_code == 201, response.text

    for _ in range(2):  # reported every time, never repaired
        run = await reconcile(relief)
        [finding] = [f for f in await findings(relief, run["id"]) if f["person_id"] == person["id"]]
        assert (finding["kind"], finding["case_id"], finding["repaired"]) == ("closed_on_differs", case["id"], False)
        assert finding["detail"].startswith("2020-02-25 → 2020-02-20")
        assert run["differences"] >= 1
    detail = await case_detail(relief, case["id"])
    assert (detail["closed_on"], detail["status"]) == ("2020-02-25", "closed")
    assert [c["corrected_by"] for c in detail["corrections"]] == ["civil"]


async def test_a_diagnosis_date_corrected_by_hand_is_kept(relief, registry):
    person = await person_in(registry)
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    [case] = await cases_of(relief, person_id=person["id"])
    body = {"field": "diagnosed_on", "value": "2020-01-30", "reason": "医院确诊证明日期为1月30日"}
    response = await relief.post(f"{CASES}/{case['id']}/corrections", CIVIL, json=body)
    assert response.status_code == 201, response.text

    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], person["id"]) == [("diagnosed_on_differs", case["id"], False)]
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["diagnosed_on"], case["status"]) == ("2020-01-30", "open")


async def open_by_hand(relief: Api, household: dict, diagnosed_on: str, closed_on: str | None = None) -> dict:
    body = {"person_id": household["members"][0]["id"], "household_id": household["id"], "diagnosed_on": diagnosed_on,
            "reason": "确诊信息由医院补报"}  # fmt: skip
    if closed_on is not None:
        body |= {"closed_on": closed_on, "close_reason": "discharged"}
    response = await relief.post(CASES, CIVIL, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_hand_opened_case_over_the_months_of_a_confirmation_stops_a_second_case(relief, registry):
    """One illness is paid once: the confirmation that comes after civil affairs opened a case by hand for the same
    months opens no case of its own, and the reconciliation reports it without repairing it."""
    household = await make_household(registry, VILLAGE)
    person = household["members"][0]
    hand = await open_by_hand(relief, household, "2020-02-05")
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    assert [c["id"] for c in await cases_of(relief, person_id=person["id"])] == [hand["id"]]

    run = await reconcile(relief)
    [finding] = [f for f in await findings(relief, run["id"]) if f["person_id"] == person["id"]]
    assert (finding["kind"], finding["case_id"], finding["repaired"]) == ("case_missing", hand["id"], False)
    assert hand["id"] in finding["detail"]
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["id"], case["diagnosed_on"], case["status"]) == (hand["id"], "2020-02-05", "open")


async def test_a_case_closed_by_hand_without_a_discharge_is_reported_only(relief, registry):
    household = await make_household(registry, VILLAGE)
    person = household["members"][0]
    hand = await open_by_hand(relief, household, "2020-02-01", "2020-02-20")
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")  # the registry has no discharge
    for _ in range(2):
        run = await reconcile(relief)
        assert await findings_of(relief, run["id"], person["id"]) == [("closed_without_discharge", hand["id"], False)]
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["id"], case["status"], case["closed_on"]) == (hand["id"], "closed", "2020-02-20")


async def test_a_case_the_registry_has_no_confirmation_for_is_reported_only(relief, registry):
    person = await person_in(registry)
    await delivered(relief, registry, person["id"], "isolated", "2020-02-01")  # a health event, not a confirmation
    planted = ReliefCase(
        person_id=person["id"], household_id=uuid7(), county_code="500230", township_code="500230101",
        village_code=VILLAGE, unit_code="500230", area_class="rural", payee_name="张秀华", diagnosed_on=date(2020, 2, 3),
        status="open", opened_by="event",
    )  # fmt: skip
    async with relief.app.state.session_factory() as session:
        session.add(planted)
        await session.commit()
    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], person["id"]) == [("case_without_confirmation", planted.id, False)]
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["id"], case["status"]) == (planted.id, "open")


# --- conflicting dates ----------------------------------------------------------------------------------------------


async def correct(relief: Api, case_id: str, field: str, value: str) -> None:
    body = {"field": field, "value": value, "reason": "医院确诊证明日期更正"}
    response = await relief.post(f"{CASES}/{case_id}/corrections", CIVIL, json=body)
    assert response.status_code == 201, response.text


async def test_a_discharge_before_a_diagnosis_date_corrected_by_hand_does_not_close_the_case_before_it(
    relief, registry
):
    """Civil affairs moved the diagnosis to 25 February; the registry then says discharged on 20 February. The
    case must not end before it begins (no route lets civil affairs make such a case: CloseBeforeDiagnosis)."""
    person = await person_in(registry)
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    [case] = await cases_of(relief, person_id=person["id"])
    await correct(relief, case["id"], "diagnosed_on", "2020-02-25")
    await delivered(relief, registry, person["id"], "discharged", "2020-02-20")
    [case] = await cases_of(relief, person_id=person["id"])
    assert case["diagnosed_on"] == "2020-02-25"
    assert case["closed_on"] is None or case["closed_on"] >= case["diagnosed_on"], case


async def test_one_persons_conflicting_dates_do_not_stop_the_reconciliation(relief, registry):
    """A case opened by hand (1 February to 15 April), linked to the registry's confirmation of 1 February, its
    diagnosis then moved by hand to 1 March; the registry's discharge of 20 February would close it before its
    diagnosis, which the correction refuses. The reconciliation reports that and goes on with everyone else."""
    household = await make_household(registry, VILLAGE)
    person = household["members"][0]
    hand = await open_by_hand(relief, household, "2020-02-01", "2020-04-15")
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")  # links the case
    await correct(relief, hand["id"], "diagnosed_on", "2020-03-01")
    await record_health(registry, person["id"], "discharged", "2020-02-20")  # not delivered
    other = await person_in(registry)
    await record_health(registry, other["id"], "confirmed", "2020-02-03")  # lost

    response = await relief.post(RECONCILIATIONS, CIVIL)
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "done", run
    [opened] = await cases_of(relief, person_id=other["id"])
    assert await findings_of(relief, run["id"], other["id"]) == [("case_missing", opened["id"], True)]
    kinds = {(kind, repaired) for kind, _, repaired in await findings_of(relief, run["id"], person["id"])}
    assert ("diagnosed_on_differs", False) in kinds and ("closed_on_differs", False) in kinds, kinds
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["diagnosed_on"], case["closed_on"]) == ("2020-03-01", "2020-04-15")


async def test_the_inbox_takes_in_a_discharge_that_conflicts_with_a_date_corrected_by_hand(relief, registry):
    """The same conflict through the inbox: the registry's dispatcher gives up on a delivery answered 422, so the
    event must be accepted (the conflict left to civil affairs), not refused."""
    household = await make_household(registry, VILLAGE)
    person = household["members"][0]
    hand = await open_by_hand(relief, household, "2020-02-01", "2020-04-15")
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    await correct(relief, hand["id"], "diagnosed_on", "2020-03-01")
    response = await deliver(relief, await health_event(registry, person["id"], "discharged", "2020-02-20"))
    assert (response.status_code, response.json()) == (200, {"accepted": True}), response.text
    [case] = await cases_of(relief, person_id=person["id"])
    assert (case["diagnosed_on"], case["closed_on"]) == ("2020-03-01", "2020-04-15")


# --- scope and permissions ------------------------------------------------------------------------------------------


async def test_findings_are_shown_in_the_callers_scope(relief, registry):
    fengdu = await person_in(registry)
    wanzhou = await person_in(registry, WANZHOU_VILLAGE)
    for person in (fengdu, wanzhou):
        await record_health(registry, person["id"], "confirmed", "2020-02-01")
    run = await reconcile(relief)
    [fengdu_case] = await cases_of(relief, person_id=fengdu["id"])
    [wanzhou_case] = await cases_of(relief, person_id=wanzhou["id"])

    assert await findings_of(relief, run["id"], fengdu["id"], FENGDU) == [("case_missing", fengdu_case["id"], True)]
    assert await findings_of(relief, run["id"], wanzhou["id"], FENGDU) == []
    assert await findings_of(relief, run["id"], wanzhou["id"], WANZHOU) == [("case_missing", wanzhou_case["id"], True)]
    assert await findings_of(relief, run["id"], fengdu["id"], WANZHOU) == []
    assert {f["county_code"] for f in await findings(relief, run["id"], FENGDU)} == {"500230"}
    assert {f["county_code"] for f in await findings(relief, run["id"], WANZHOU)} == {"500101"}
    assert await findings(relief, run["id"], FENGDU, kind="case_not_closed") == []


async def test_running_needs_relief_cases_and_reading_relief_read(relief, registry):
    for caller in (FENGDU, AUDITOR, CITY_ADMIN):
        assert_problem(await relief.post(RECONCILIATIONS, caller), 403, "forbidden")
    assert (await relief.post(RECONCILIATIONS, caller=None)).status_code == 401
    run = await reconcile(relief)

    response = await relief.get(f"{RECONCILIATIONS}/{run['id']}", AUDITOR)
    assert (response.status_code, response.json()) == (200, run)
    listed = await relief.get(RECONCILIATIONS, AUDITOR, params={"limit": 200})
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0] == run
    assert (await relief.get(f"{RECONCILIATIONS}/{run['id']}/findings", AUDITOR)).status_code == 200

    unknown = uuid7()
    assert_problem(await relief.get(f"{RECONCILIATIONS}/{unknown}", AUDITOR), 404, "reconciliation_not_found")
    assert_problem(await relief.get(f"{RECONCILIATIONS}/{unknown}/findings", CIVIL), 404, "reconciliation_not_found")


async def test_with_the_registry_down_the_run_fails_with_503_and_is_kept(relief, registry):
    await record_health(registry, (await person_in(registry))["id"], "confirmed", "2020-02-01")
    async with registry_down(relief):
        response = await relief.post(RECONCILIATIONS, CIVIL)
    assert_problem(response, 503, "registry_unavailable")
    listed = await relief.get(RECONCILIATIONS, CIVIL, params={"limit": 200})
    assert listed.status_code == 200, listed.text
    failed = listed.json()["items"][0]
    assert (failed["status"], failed["started_by"], failed["persons"], failed["differences"]) == (
        "failed", "civil", 0, 0,
    )  # fmt: skip
    assert failed["error"] and failed["finished_at"] is not None
    text = (await relief.get("/metrics", caller=None)).text
    assert metric(text, "fupin_relief_reconciliation_last_ok") == 0.0
    assert await cases_of(relief) == []


async def test_the_last_run_is_on_metrics(relief, registry):
    person = await person_in(registry)
    await record_health(registry, person["id"], "confirmed", "2020-02-01")
    run = await reconcile(relief)
    response = await relief.get("/metrics", caller=None)
    assert response.status_code == 200, response.text
    text = response.text
    assert "fupin_relief_reconciliation_last_ok 1.0" in text
    assert metric(text, "fupin_relief_reconciliation_last_differences") == run["differences"] >= 1
    assert metric(text, "fupin_relief_reconciliation_last_repaired") == run["repaired"]
    assert metric(text, "fupin_relief_reconciliation_last_persons") == run["persons"]
    assert metric(text, "fupin_relief_reconciliation_last_finished_timestamp_seconds") > 0


# --- the test harness -------------------------------------------------------------------------------------------


async def test_a_reconciliation_runs_in_the_transaction_of_the_request_like_every_route(relief, registry):
    """The reconciliation sees (and writes into) the transaction the app's session factory gives, as every other
    route does: a case written there, with no confirmation in the registry, is reported."""
    planted = ReliefCase(
        person_id=uuid7(), household_id=uuid7(), county_code="500230", township_code="500230101",
        village_code=VILLAGE, unit_code="500230", area_class="rural", payee_name="张秀华", diagnosed_on=date(2020, 2, 3),
        status="open", opened_by="event",
    )  # fmt: skip
    async with relief.app.state.session_factory() as session:
        session.add(planted)
        await session.commit()
    run = await reconcile(relief)
    assert await findings_of(relief, run["id"], planted.person_id) == [("case_without_confirmation", planted.id, False)]
