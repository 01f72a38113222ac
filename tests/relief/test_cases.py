"""Relief cases through the API: opened by hand, dates corrected with a reason, read within scope, and the schedule
of periods with what was paid, pending and due."""

import asyncio
from datetime import date

import pytest

from services.relief.cases.repository import lock_persons
from shared.dates import today
from tests.support.callers import AUDITOR, BANK, CITY_ADMIN, CIVIL, CIVIL2, FENGDU, WANZHOU, Caller
from tests.support.database import BACKEND
from tests.support.registry import assert_problem, make_household
from tests.support.relief import (
    CASES,
    add_standard,
    cases_of,
    confirmed_case,
    pay_line,
    published_relief,
    registry_down,
    schedule,
)

VILLAGE = "500230101201"  # 丰都县
WANZHOU_VILLAGE = "500101001201"  # 万州区
WANSHENG_VILLAGE = "500110004201"  # 万盛街道
WANSHENG_OFFICER = Caller("wansheng", ("county_officer",), ("500110004", "500110005"))


def open_body(household: dict, member: int = 0, **overrides) -> dict:
    body = {
        "person_id": household["members"][member]["id"], "household_id": household["id"],
        "diagnosed_on": "2020-02-03", "reason": "医院补报确诊，监测系统未推送",
    }  # fmt: skip
    body.update(overrides)
    return body


async def open_by_hand(relief, body: dict, caller=CIVIL, **kwargs) -> dict:
    response = await relief.post(CASES, caller, json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def correct(relief, case_id: str, field: str, value: str, reason: str = "核对病历后更正", caller=CIVIL):
    body = {"field": field, "value": value, "reason": reason}
    return await relief.post(f"{CASES}/{case_id}/corrections", caller, json=body)


# --- opening by hand --------------------------------------------------------------------------------------------------


async def test_civil_affairs_opens_a_case_by_hand(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    household = await make_household(registry, VILLAGE)
    spouse = household["members"][1]
    case = await open_by_hand(relief, open_body(household, 1))
    assert {k: case[k] for k in ("person_id", "household_id", "unit_code", "payee_name", "diagnosed_on", "status",
                                 "opened_by", "open_reason", "source_event_id", "corrections")} == {
        "person_id": spouse["id"], "household_id": household["id"], "unit_code": "500230", "payee_name": "李明",
        "diagnosed_on": "2020-02-03", "status": "open", "opened_by": "civil", "open_reason": "医院补报确诊，监测系统未推送",
        "source_event_id": None, "corrections": [],
    }  # fmt: skip
    assert case["payee_id_masked"].count("*") == 8
    [opened] = await published_relief(relief, "relief.case_opened")
    assert (opened["data"]["case_id"], opened["data"]["monthly_fen"], opened["data"]["opened_by"]) == (
        case["id"], 99_200, "civil",
    )  # fmt: skip
    audit = (await relief.get("/api/v1/relief/audit", AUDITOR, params={"entity_id": case["id"]})).json()["items"]
    assert [(e["action"], e["actor"]) for e in audit] == [("relief_case.open", "civil")]


async def test_a_case_opened_for_a_discharged_patient_is_closed_at_once(relief, registry):
    household = await make_household(registry, VILLAGE)
    body = open_body(household, closed_on="2020-03-03", close_reason="discharged")
    case = await open_by_hand(relief, body)
    assert (case["status"], case["closed_on"], case["close_reason"]) == ("closed", "2020-03-03", "discharged")
    [closed] = await published_relief(relief, "relief.case_closed")
    assert closed["data"]["periods"] == 2


async def test_a_repeat_with_the_same_idempotency_key_opens_one_case(relief, registry):
    household = await make_household(registry, VILLAGE)
    headers = {"Idempotency-Key": "open-1"}
    first = await open_by_hand(relief, open_body(household), headers=headers)
    again = await relief.post(CASES, CIVIL, json=open_body(household), headers=headers)
    assert again.status_code == 201 and again.json() == first
    assert len(await cases_of(relief)) == 1


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"reason": None}, "validation_failed", "reason"),
    ({"reason": ""}, "validation_failed", "reason"),
    ({"diagnosed_on": "2020-02-30"}, "validation_failed", "diagnosed_on"),
    ({"person_id": "../../households"}, "validation_failed", "person_id"),
    ({"household_id": "not-an-id"}, "validation_failed", "household_id"),
    ({"close_reason": "cured"}, "validation_failed", "close_reason"),
    ({"amount_fen": 100}, "validation_failed", "amount_fen"),
    ({"closed_on": "2020-03-01"}, "close_reason_required", "close_reason"),
    ({"close_reason": "deceased"}, "close_reason_required", "closed_on"),
    ({"closed_on": "2020-02-02", "close_reason": "discharged"}, "closed_before_diagnosis", "closed_on"),
    ({"diagnosed_on": "2019-11-30"}, "date_too_early", "diagnosed_on"),  # before the first COVID-19 cases
    ({"diagnosed_on": "0001-01-01"}, "date_too_early", "diagnosed_on"),
    ({"household_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, "household_not_found", "household_id"),
    ({"person_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, "person_not_in_household", "person_id"),
])  # fmt: skip
async def test_bad_input_is_a_problem_naming_the_field(relief, registry, change, code, field):
    household = await make_household(registry, VILLAGE)
    body = {k: v for k, v in open_body(household, **change).items() if v is not None}
    assert_problem(await relief.post(CASES, CIVIL, json=body), 422, code, field)
    assert await cases_of(relief) == []


async def test_a_diagnosis_date_in_the_future_is_refused(relief, registry):
    household = await make_household(registry, VILLAGE)
    tomorrow = date.fromordinal(today().toordinal() + 1).isoformat()
    response = await relief.post(CASES, CIVIL, json=open_body(household, diagnosed_on=tomorrow))
    assert_problem(response, 422, "date_in_future", "diagnosed_on")


async def test_an_ineligible_household_is_refused(relief, registry):
    household = await make_household(registry, VILLAGE, status="lifted_no_policy")
    problem = assert_problem(await relief.post(CASES, CIVIL, json=open_body(household)), 422,
                             "household_not_eligible", "household_id")  # fmt: skip
    assert "lifted_no_policy" in problem["title"]


async def test_one_case_per_person_and_diagnosis_date_and_one_open_case_per_person(relief, registry):
    household = await make_household(registry, VILLAGE)
    await open_by_hand(relief, open_body(household))
    same_day = await relief.post(CASES, CIVIL, json=open_body(household, reason="再次立案"))
    assert_problem(same_day, 409, "case_exists", "diagnosed_on")
    another_day = await relief.post(CASES, CIVIL, json=open_body(household, diagnosed_on="2020-02-10"))
    assert_problem(another_day, 409, "case_already_open", "person_id")
    assert len(await cases_of(relief)) == 1


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite serialises writers itself: no advisory locks")
async def test_opening_by_hand_waits_for_the_persons_lock(relief, registry, relief_app):
    """The registry's timeline may be opening the same person's case (under their lock): civil affairs' opening waits
    for it to end, so no two open one case."""
    body = open_body(await make_household(registry, VILLAGE))
    async with relief_app.state.db.sessions.begin() as session:
        await lock_persons(session, [body["person_id"]])
        opening = asyncio.create_task(relief.post(CASES, CIVIL, json=body))
        await asyncio.sleep(0.5)
        assert not opening.done()
    assert (await opening).status_code == 201


async def test_opening_by_hand_with_the_registry_down_is_503_and_writes_nothing(relief, registry):
    household = await make_household(registry, VILLAGE)
    async with registry_down(relief):
        response = await relief.post(CASES, CIVIL, json=open_body(household))
    assert_problem(response, 503, "registry_unavailable")
    assert await cases_of(relief) == []


@pytest.mark.parametrize("caller", [CITY_ADMIN, FENGDU, AUDITOR, BANK])
async def test_only_civil_affairs_opens_cases(relief, registry, caller):
    household = await make_household(registry, VILLAGE)
    assert_problem(await relief.post(CASES, caller, json=open_body(household)), 403, "forbidden")


# --- corrections ----------------------------------------------------------------------------------------------------


async def test_correcting_the_diagnosis_date_is_kept_and_audited(relief, registry):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    response = await correct(relief, case["id"], "diagnosed_on", "2020-02-01", "确诊证明日期为2月1日")
    assert response.status_code == 201, response.text
    corrected = response.json()
    assert corrected["diagnosed_on"] == "2020-02-01"
    [correction] = corrected["corrections"]
    assert {k: correction[k] for k in ("field", "old_value", "new_value", "reason", "corrected_by")} == {
        "field": "diagnosed_on", "old_value": "2020-02-03", "new_value": "2020-02-01",
        "reason": "确诊证明日期为2月1日", "corrected_by": "civil",
    }  # fmt: skip
    assert (await relief.get(f"{CASES}/{case['id']}", FENGDU)).json() == corrected
    audit = (await relief.get("/api/v1/relief/audit", AUDITOR, params={"entity_id": case["id"]})).json()["items"]
    assert audit[0]["action"] == "relief_case.correct"
    assert audit[0]["changes"] == {"diagnosed_on": ["2020-02-03", "2020-02-01"], "reason": "确诊证明日期为2月1日"}


async def test_correcting_the_close_date_of_a_closed_case(relief, registry):
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, closed_on="2020-03-03", close_reason="discharged"))
    response = await correct(relief, case["id"], "closed_on", "2020-02-28")
    assert response.status_code == 201, response.text
    assert (response.json()["closed_on"], response.json()["status"]) == ("2020-02-28", "closed")
    assert [c["old_value"] for c in response.json()["corrections"]] == ["2020-03-03"]


@pytest.mark.parametrize(("field", "value", "status", "code", "problem_field"), [
    ("closed_on", "2020-03-01", 409, "case_not_closed", "field"),  # an open case has no close date
    ("diagnosed_on", "2020-02-03", 422, "correction_unchanged", "value"),
    ("diagnosed_on", "2999-01-01", 422, "date_in_future", "value"),
    ("diagnosed_on", "1900-01-01", 422, "date_too_early", "value"),
    ("status", "2020-02-01", 422, "validation_failed", "field"),
    ("diagnosed_on", "yesterday", 422, "validation_failed", "value"),
])  # fmt: skip
async def test_bad_corrections_are_problems(relief, registry, field, value, status, code, problem_field):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    assert_problem(await correct(relief, case["id"], field, value), status, code, problem_field)
    after = (await relief.get(f"{CASES}/{case['id']}")).json()
    assert (after["diagnosed_on"], after["corrections"]) == ("2020-02-03", [])


async def test_a_correction_needs_a_reason(relief, registry):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    response = await relief.post(f"{CASES}/{case['id']}/corrections", CIVIL,
                                 json={"field": "diagnosed_on", "value": "2020-02-01"})  # fmt: skip
    assert_problem(response, 422, "validation_failed", "reason")


async def test_dates_stay_in_order_after_a_correction(relief, registry):
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, closed_on="2020-03-03", close_reason="discharged"))
    assert_problem(await correct(relief, case["id"], "diagnosed_on", "2020-03-04"), 422, "closed_before_diagnosis",
                   "value")  # fmt: skip
    assert_problem(await correct(relief, case["id"], "closed_on", "2020-02-02"), 422, "closed_before_diagnosis",
                   "value")  # fmt: skip


async def test_a_correction_onto_another_cases_date_is_refused(relief, registry):
    household = await make_household(registry, VILLAGE)
    first = await open_by_hand(relief, open_body(household, closed_on="2020-02-20", close_reason="discharged"))
    second = await open_by_hand(relief, open_body(household, diagnosed_on="2020-04-01"))
    assert_problem(await correct(relief, second["id"], "diagnosed_on", first["diagnosed_on"]), 409, "case_exists",
                   "value")  # fmt: skip


async def test_only_civil_affairs_corrects_within_scope(relief, registry):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    assert_problem(await correct(relief, case["id"], "diagnosed_on", "2020-02-01", caller=FENGDU), 403, "forbidden")
    assert_problem(await correct(relief, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "diagnosed_on", "2020-02-01"), 404,
                   "case_not_found")  # fmt: skip


# --- reads and scope ------------------------------------------------------------------------------------------------


async def test_an_officer_of_one_county_cannot_see_another_countys_cases(relief, registry):
    fengdu = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    wanzhou = await confirmed_case(relief, registry, WANZHOU_VILLAGE, "2020-02-04")
    assert [c["id"] for c in await cases_of(relief, FENGDU)] == [fengdu["id"]]
    assert [c["id"] for c in await cases_of(relief, WANZHOU)] == [wanzhou["id"]]
    assert {c["id"] for c in await cases_of(relief, CITY_ADMIN)} == {fengdu["id"], wanzhou["id"]}
    for path in (f"{CASES}/{wanzhou['id']}", f"{CASES}/{wanzhou['id']}/schedule"):
        assert_problem(await relief.get(path, FENGDU), 404, "case_not_found")
        assert (await relief.get(path, WANZHOU)).status_code == 200
    assert await cases_of(relief, FENGDU, person_id=wanzhou["person_id"]) == []


async def test_wansheng_officers_see_wansheng_cases_by_their_township_codes(relief, registry):
    wansheng = await confirmed_case(relief, registry, WANSHENG_VILLAGE, "2020-02-03")
    await confirmed_case(relief, registry, "500110001201", "2020-02-03")  # 綦江区, outside 万盛经开区
    assert [c["id"] for c in await cases_of(relief, WANSHENG_OFFICER)] == [wansheng["id"]]
    assert [c["unit_code"] for c in await cases_of(relief, unit_code="wansheng")] == ["wansheng"]


async def test_the_list_filters_by_status_unit_and_person(relief, registry):
    first = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    second = await confirmed_case(relief, registry, WANZHOU_VILLAGE, "2020-02-04")
    household = await make_household(registry, VILLAGE)
    closed = await open_by_hand(relief, open_body(household, closed_on="2020-02-20", close_reason="deceased"))
    assert [c["id"] for c in await cases_of(relief, status="closed")] == [closed["id"]]
    assert [c["id"] for c in await cases_of(relief, status="open")] == [second["id"], first["id"]]
    assert [c["id"] for c in await cases_of(relief, unit_code="500101")] == [second["id"]]
    assert [c["id"] for c in await cases_of(relief, person_id=first["person_id"])] == [first["id"]]
    assert [c["id"] for c in await cases_of(relief, household_id=household["id"])] == [closed["id"]]


async def test_the_list_pages_newest_first(relief, registry):
    made = [(await confirmed_case(relief, registry, VILLAGE, f"2020-02-0{i}"))["id"] for i in range(1, 6)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await relief.get(CASES, params=params)).json()
        seen += [c["id"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(made))


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("", {"status": "pending"}, 422, "validation_failed"),
    ("", {"cursor": "bm9wZQ"}, 400, "invalid_cursor"),
    ("", {"limit": 0}, 422, "validation_failed"),
    ("/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", {}, 404, "case_not_found"),
    ("/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/schedule", {}, 404, "case_not_found"),
])  # fmt: skip
async def test_bad_reads_are_problems(relief, path, params, status, code):
    assert_problem(await relief.get(f"{CASES}{path}", params=params), status, code)


@pytest.mark.parametrize(("as_of", "code"), [
    ("2020-02-30", "validation_failed"),
    ("9999-12-31", "as_of_too_late"),  # a projection looks a year ahead at most
])  # fmt: skip
async def test_a_bad_as_of_is_a_problem_naming_it(relief, registry, as_of, code):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-03")
    response = await relief.get(f"{CASES}/{case['id']}/schedule", params={"as_of": as_of})
    assert_problem(response, 422, code, "query.as_of")
    ahead = date.fromordinal(today().toordinal() + 366).isoformat()
    assert (await relief.get(f"{CASES}/{case['id']}/schedule", params={"as_of": ahead})).status_code == 200


async def test_a_caller_without_relief_read_cannot_read_cases(relief):
    hr = Caller("hr", ("human_resources",), ("500000",))
    assert_problem(await relief.get(CASES, hr), 403, "forbidden")


# --- the schedule ---------------------------------------------------------------------------------------------------


def brief(periods: list[dict]) -> list[tuple]:
    return [(p["number"], p["start"], p["end"], p["amount_fen"], p["paid_fen"], p["pending_fen"], p["due_fen"],
             p["status"]) for p in periods]  # fmt: skip


async def test_the_schedule_of_a_closed_case(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, diagnosed_on="2020-01-31", closed_on="2020-03-31",
                                                close_reason="discharged"))  # fmt: skip
    found = await schedule(relief, case["id"], "2020-12-31")
    assert (found["as_of"], found["diagnosed_on"], found["closed_on"], found["unit_code"], found["area_class"]) == (
        "2020-12-31", "2020-01-31", "2020-03-31", "500230", "rural",
    )  # fmt: skip
    assert brief(found["periods"]) == [
        (1, "2020-01-31", "2020-02-29", 99_200, 0, 0, 99_200, "due"),
        (2, "2020-02-29", "2020-03-31", 99_200, 0, 0, 99_200, "due"),
        (3, "2020-03-31", "2020-04-30", 99_200, 0, 0, 99_200, "due"),  # D on period 3's first day
    ]
    assert found["periods"][0]["standard"] == {"effective_from": "2019-07-01", "monthly_fen": 49_600}
    assert [(d["period_no"], d["kind"], d["amount_fen"]) for d in found["due"]] == [
        (1, "period", 99_200), (2, "period", 99_200), (3, "period", 99_200),
    ]  # fmt: skip
    assert found["totals"] == {"periods": 3, "periods_without_standard": 0, "entitled_fen": 297_600, "paid_fen": 0,
                               "pending_fen": 0, "due_fen": 297_600}  # fmt: skip


async def test_the_schedule_of_an_open_case_counts_the_periods_started_by_as_of(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-10")
    assert [p["start"] for p in (await schedule(relief, case["id"], "2020-03-09"))["periods"]] == ["2020-02-10"]
    assert len((await schedule(relief, case["id"], "2020-03-10"))["periods"]) == 2
    assert (await schedule(relief, case["id"], "2020-02-09"))["periods"] == []


async def test_the_schedule_defaults_to_today(relief, registry):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-10")
    found = await schedule(relief, case["id"])
    assert found["as_of"] == today().isoformat()
    months = (today().year - 2020) * 12 + today().month - 2 + (1 if today().day >= 10 else 0)
    assert found["totals"]["periods"] == months


async def test_paid_and_pending_lines_are_not_due_and_a_failed_one_is(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, diagnosed_on="2020-02-01", closed_on="2020-04-05",
                                                close_reason="discharged"))  # fmt: skip
    await pay_line(relief, case, 1, "2020-02-01", 99_200, status="paid")
    await pay_line(relief, case, 2, "2020-03-01", 99_200, status="pending")
    await pay_line(relief, case, 3, "2020-04-01", 99_200, status="failed")
    found = await schedule(relief, case["id"], "2020-12-31")
    assert brief(found["periods"]) == [
        (1, "2020-02-01", "2020-03-01", 99_200, 99_200, 0, 0, "paid"),
        (2, "2020-03-01", "2020-04-01", 99_200, 0, 99_200, 0, "pending"),
        (3, "2020-04-01", "2020-05-01", 99_200, 0, 0, 99_200, "due"),
    ]
    assert [(line["kind"], line["status"]) for line in found["periods"][2]["lines"]] == [("period", "failed")]
    assert [(d["period_no"], d["kind"], d["amount_fen"]) for d in found["due"]] == [(3, "period", 99_200)]
    assert {k: found["totals"][k] for k in ("entitled_fen", "paid_fen", "pending_fen", "due_fen")} == {
        "entitled_fen": 297_600, "paid_fen": 99_200, "pending_fen": 99_200, "due_fen": 99_200,
    }  # fmt: skip


async def test_a_standard_that_changes_during_the_case(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    await add_standard(relief, "500230", "rural", 52_600, "2020-07-01")
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, diagnosed_on="2020-05-15", closed_on="2020-08-20",
                                                close_reason="deceased"))  # fmt: skip
    found = await schedule(relief, case["id"], "2020-12-31")
    assert [(p["start"], p["standard"]["monthly_fen"], p["amount_fen"]) for p in found["periods"]] == [
        ("2020-05-15", 49_600, 99_200), ("2020-06-15", 49_600, 99_200),
        ("2020-07-15", 52_600, 105_200), ("2020-08-15", 52_600, 105_200),
    ]  # fmt: skip
    assert found["totals"]["entitled_fen"] == found["totals"]["due_fen"] == 408_800


async def test_a_period_without_a_standard_is_shown_and_not_due(relief, registry):
    await add_standard(relief, "500230", "rural", 50_000, "2020-03-01")
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, diagnosed_on="2020-02-10", closed_on="2020-03-20",
                                                close_reason="discharged"))  # fmt: skip
    found = await schedule(relief, case["id"], "2020-12-31")
    assert brief(found["periods"]) == [
        (1, "2020-02-10", "2020-03-10", None, 0, 0, 0, "no_standard"),
        (2, "2020-03-10", "2020-04-10", 100_000, 0, 0, 100_000, "due"),
    ]
    assert found["periods"][0]["standard"] is None
    assert [d["period_no"] for d in found["due"]] == [2]
    assert {k: found["totals"][k] for k in ("periods", "periods_without_standard", "entitled_fen", "due_fen")} == {
        "periods": 2, "periods_without_standard": 1, "entitled_fen": 100_000, "due_fen": 100_000,
    }  # fmt: skip


async def test_a_diagnosis_date_corrected_after_a_period_was_paid_leaves_it_paid_and_adds_an_adjustment(
    relief, registry
):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    await add_standard(relief, "500230", "rural", 52_600, "2020-07-01")
    household = await make_household(registry, VILLAGE)
    case = await open_by_hand(relief, open_body(household, diagnosed_on="2020-06-20", closed_on="2020-07-30",
                                                close_reason="discharged"))  # fmt: skip
    await pay_line(relief, case, 1, "2020-06-20", 99_200)
    await pay_line(relief, case, 2, "2020-07-20", 105_200)
    assert (await schedule(relief, case["id"], "2020-12-31"))["due"] == []
    # the diagnosis was on 5 July: one period only (5 July – 4 August), at the raised standard
    response = await correct(relief, case["id"], "diagnosed_on", "2020-07-05")
    assert response.status_code == 201, response.text
    found = await schedule(relief, case["id"], "2020-12-31")
    assert brief(found["periods"]) == [
        (1, "2020-07-05", "2020-08-05", 105_200, 99_200, 0, 6_000, "due"),
        (2, "2020-08-05", "2020-09-05", None, 105_200, 0, -105_200, "due"),  # no longer entitled: owed back
    ]
    assert [p["entitled"] for p in found["periods"]] == [True, False]
    # the paid line keeps the start it was paid for
    assert [(line["period_start"], line["kind"], line["amount_fen"], line["status"])
            for line in found["periods"][0]["lines"]] == [("2020-06-20", "period", 99_200, "paid")]  # fmt: skip
    assert [(d["period_no"], d["period_start"], d["kind"], d["amount_fen"]) for d in found["due"]] == [
        (1, "2020-07-05", "adjustment", 6_000),
        (2, "2020-08-05", "adjustment", -105_200),
    ]
    assert {k: found["totals"][k] for k in ("periods", "entitled_fen", "paid_fen", "due_fen")} == {
        "periods": 1, "entitled_fen": 105_200, "paid_fen": 204_400, "due_fen": -99_200,
    }  # fmt: skip
    # once the adjustments are paid, nothing is due and the paid lines are still there
    await pay_line(relief, case, 1, "2020-07-05", 6_000, kind="adjustment")
    await pay_line(relief, case, 2, "2020-08-05", -105_200, kind="adjustment")
    found = await schedule(relief, case["id"], "2020-12-31")
    assert found["due"] == [] and found["totals"]["paid_fen"] == 105_200
    assert [(len(p["lines"]), p["status"]) for p in found["periods"]] == [(2, "paid"), (2, "not_entitled")]


async def test_a_later_standard_for_a_paid_period_is_due_as_the_difference(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-10")
    await pay_line(relief, case, 1, "2020-02-10", 99_200)
    await add_standard(relief, "500230", "rural", 51_000, "2020-02-01")  # entered late, back-dated
    found = await schedule(relief, case["id"], "2020-03-01")
    assert [(d["period_no"], d["kind"], d["amount_fen"]) for d in found["due"]] == [(1, "adjustment", 2_800)]


async def test_the_schedule_of_an_earlier_day_leaves_out_lines_of_periods_not_started(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-10")
    await pay_line(relief, case, 1, "2020-02-10", 99_200)
    await pay_line(relief, case, 2, "2020-03-10", 99_200)
    found = await schedule(relief, case["id"], "2020-03-01")
    assert brief(found["periods"]) == [(1, "2020-02-10", "2020-03-10", 99_200, 99_200, 0, 0, "paid")]
    assert found["due"] == []


async def test_readers_in_scope_see_the_schedule(relief, registry):
    case = await confirmed_case(relief, registry, VILLAGE, "2020-02-10")
    for caller in (FENGDU, AUDITOR, BANK, CIVIL2, CITY_ADMIN):
        assert (await schedule(relief, case["id"], "2020-03-01", caller))["case_id"] == case["id"]
