"""Relief cases from the registry's `person.health_changed` events, delivered signed to relief's inbox: the
registry is the in-process registry, its events the ones it published for health events recorded through its API."""

from tests.support.callers import AUDITOR
from tests.support.registry import make_household
from tests.support.relief import (
    add_standard,
    cases_of,
    deliver,
    delivered,
    health_event,
    published_relief,
    registry_down,
    set_eligible,
)

VILLAGE = "500230101201"  # 丰都县虎威镇
WANSHENG_VILLAGE = "500110100201"  # 万盛经开区万东镇 (township codes under 綦江区 500110)


async def audit_of(relief, entity_id: str) -> list[dict]:
    response = await relief.get("/api/v1/relief/audit", AUDITOR, params={"entity_id": entity_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


# --- confirmed ------------------------------------------------------------------------------------------------------


async def test_a_confirmed_member_of_an_eligible_household_gets_a_case(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    household = await make_household(registry, VILLAGE)
    head = household["members"][0]
    event = await delivered(relief, registry, head["id"], "confirmed", "2020-02-03")
    [case] = await cases_of(relief)
    assert {k: case[k] for k in (
        "person_id", "household_id", "county_code", "township_code", "village_code", "unit_code", "area_class",
        "payee_name", "payee_id_masked", "diagnosed_on", "closed_on", "close_reason", "status", "opened_by",
        "open_reason", "source_event_id",
    )} == {
        "person_id": head["id"], "household_id": household["id"], "county_code": "500230",
        "township_code": "500230101", "village_code": VILLAGE, "unit_code": "500230", "area_class": "rural",
        "payee_name": "张秀华", "payee_id_masked": head["id_number"][:6] + "********" + head["id_number"][-4:],
        "diagnosed_on": "2020-02-03", "closed_on": None, "close_reason": None, "status": "open", "opened_by": "event",
        "open_reason": None, "source_event_id": event["id"],
    }  # fmt: skip
    [opened] = await published_relief(relief, "relief.case_opened")
    assert (opened["household_id"], opened["county_code"]) == (household["id"], "500230")
    assert {k: opened["data"][k] for k in ("case_id", "person_id", "diagnosed_on", "monthly_fen", "opened_by")} == {
        "case_id": case["id"], "person_id": head["id"], "diagnosed_on": "2020-02-03", "monthly_fen": 99_200,
        "opened_by": "event",
    }  # fmt: skip
    assert "临时救助立案" in opened["data"]["summary"]
    [entry] = await audit_of(relief, case["id"])
    assert (entry["action"], entry["actor"], entry["county_code"]) == ("relief_case.open", "system:relief-events",
                                                                       "500230")  # fmt: skip
    assert entry["changes"]["source_event_id"] == event["id"]


async def test_the_case_opened_event_carries_zero_without_a_standard(relief, registry):
    await add_standard(relief, "500230", "rural", 49_600, "2020-03-01")  # after the diagnosis
    await add_standard(relief, "500230", "urban", 62_000, "2019-07-01")  # another class
    household = await make_household(registry, VILLAGE)
    await delivered(relief, registry, household["members"][0]["id"], "confirmed", "2020-02-03")
    [opened] = await published_relief(relief, "relief.case_opened")
    assert opened["data"]["monthly_fen"] == 0


async def test_a_wansheng_household_takes_the_wansheng_standard(relief, registry):
    await add_standard(relief, "500110", "urban", 60_000, "2019-07-01")  # 綦江区
    await add_standard(relief, "wansheng", "urban", 62_000, "2019-07-01")
    household = await make_household(registry, WANSHENG_VILLAGE, area_class="urban")
    await delivered(relief, registry, household["members"][1]["id"], "confirmed", "2020-02-05")
    [case] = await cases_of(relief)
    assert (case["unit_code"], case["county_code"], case["area_class"], case["payee_name"]) == (
        "wansheng", "500110", "urban", "李明",
    )  # fmt: skip
    [opened] = await published_relief(relief, "relief.case_opened")
    assert opened["data"]["monthly_fen"] == 124_000


async def test_an_ineligible_status_opens_no_case(relief, registry):
    household = await make_household(registry, VILLAGE, status="lifted_no_policy")
    response = await deliver(relief, await health_event(registry, household["members"][0]["id"], "confirmed",
                                                        "2020-02-03"))  # fmt: skip
    assert (response.status_code, response.json()) == (200, {"accepted": True})
    assert await cases_of(relief) == []
    assert await published_relief(relief, "relief.case_opened") == []


async def test_eligibility_is_the_set_in_force_on_the_diagnosis_date(relief, registry):
    await set_eligible(relief, ["not_lifted"], "2020-02-05")
    lifted = await make_household(registry, VILLAGE, status="lifted")
    before = await make_household(registry, VILLAGE, status="lifted")
    await delivered(relief, registry, lifted["members"][0]["id"], "confirmed", "2020-02-05")
    await delivered(relief, registry, before["members"][0]["id"], "confirmed", "2020-02-04")
    assert [c["household_id"] for c in await cases_of(relief)] == [before["id"]]


async def test_a_repeated_event_opens_one_case(relief, registry):
    household = await make_household(registry, VILLAGE)
    event = await delivered(relief, registry, household["members"][0]["id"], "confirmed", "2020-02-03")
    again = await deliver(relief, event)
    assert (again.status_code, again.json()) == (200, {"accepted": False})
    # the same confirmation under another event id (a replay from the registry's outbox) changes nothing either
    copy = {**event, "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}
    assert (await deliver(relief, copy)).json() == {"accepted": True}
    assert len(await cases_of(relief)) == 1
    assert len(await published_relief(relief, "relief.case_opened")) == 1


async def test_a_second_confirmation_after_discharge_is_a_new_case(relief, registry):
    person = (await make_household(registry, VILLAGE))["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-03")
    await delivered(relief, registry, person["id"], "discharged", "2020-02-20")
    await delivered(relief, registry, person["id"], "confirmed", "2020-04-02")
    cases = await cases_of(relief, person_id=person["id"])
    assert [(c["diagnosed_on"], c["status"]) for c in cases] == [("2020-04-02", "open"), ("2020-02-03", "closed")]


async def test_no_case_when_the_registry_has_no_such_person(relief, registry):
    household = await make_household(registry, VILLAGE)
    event = await health_event(registry, household["members"][0]["id"], "confirmed", "2020-02-03")
    unknown = {**event, "id": "0190a1b2-c3d4-7e5f-8a9b-000000000001",
               "data": {**event["data"], "person_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "health_event_id": None}}  # fmt: skip
    response = await deliver(relief, unknown)
    assert (response.status_code, response.json()) == (200, {"accepted": True})
    assert await cases_of(relief) == []


async def test_the_registry_not_the_event_says_whose_case_it_is(relief, registry):
    """An event naming another household than the registry's opens the case of the registry's household."""
    household = await make_household(registry, VILLAGE)
    other = await make_household(registry, VILLAGE)
    event = await health_event(registry, household["members"][0]["id"], "confirmed", "2020-02-03")
    elsewhere = {**event, "data": {**event["data"], "household_id": other["id"]}}
    assert (await deliver(relief, elsewhere)).json() == {"accepted": True}
    [case] = await cases_of(relief)
    assert (case["household_id"], case["person_id"]) == (household["id"], household["members"][0]["id"])


async def test_other_kinds_open_nothing(relief, registry):
    person = (await make_household(registry, VILLAGE))["members"][0]
    await delivered(relief, registry, person["id"], "isolated", "2020-02-01")
    await delivered(relief, registry, person["id"], "released", "2020-02-14")
    assert await cases_of(relief) == []


# --- discharged and deceased ------------------------------------------------------------------------------------------


async def test_a_discharge_closes_the_case_with_its_periods(relief, registry):
    person = (await make_household(registry, VILLAGE))["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    await delivered(relief, registry, person["id"], "discharged", "2020-03-01")  # period 2 starts 1 March
    [case] = await cases_of(relief)
    assert (case["status"], case["closed_on"], case["close_reason"]) == ("closed", "2020-03-01", "discharged")
    [closed] = await published_relief(relief, "relief.case_closed")
    assert {k: closed["data"][k] for k in ("case_id", "closed_on", "reason", "periods")} == {
        "case_id": case["id"], "closed_on": "2020-03-01", "reason": "discharged", "periods": 2,
    }  # fmt: skip
    assert [e["action"] for e in await audit_of(relief, case["id"])] == ["relief_case.close", "relief_case.open"]


async def test_a_discharge_on_the_last_day_of_february_of_a_31_january_case_counts_one_period(relief, registry):
    person = (await make_household(registry, VILLAGE))["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", "2020-01-31")
    await delivered(relief, registry, person["id"], "discharged", "2020-02-28")
    [closed] = await published_relief(relief, "relief.case_closed")
    assert closed["data"]["periods"] == 1


async def test_death_closes_the_case(relief, registry):
    person = (await make_household(registry, VILLAGE))["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-10")
    await delivered(relief, registry, person["id"], "deceased", "2020-04-10")
    [case] = await cases_of(relief)
    assert (case["status"], case["closed_on"], case["close_reason"]) == ("closed", "2020-04-10", "deceased")
    [closed] = await published_relief(relief, "relief.case_closed")
    assert (closed["data"]["reason"], closed["data"]["periods"]) == ("deceased", 3)
    assert "死亡" in closed["data"]["summary"]


async def test_a_discharge_without_a_case_changes_nothing(relief, registry):
    household = await make_household(registry, VILLAGE, status="lifted_no_policy")
    person = household["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-01")
    await delivered(relief, registry, person["id"], "discharged", "2020-02-20")
    assert await cases_of(relief) == []
    assert await published_relief(relief, "relief.case_closed") == []


# --- the registry unreachable ---------------------------------------------------------------------------------------


async def test_with_the_registry_down_the_inbox_answers_503_and_nothing_is_written(relief, registry):
    person = (await make_household(registry, VILLAGE))["members"][0]
    event = await health_event(registry, person["id"], "confirmed", "2020-02-03")
    async with registry_down(relief):
        response = await deliver(relief, event)
    assert response.status_code == 503, response.text
    assert (response.json()["code"], response.headers["content-type"]) == (
        "registry_unavailable", "application/problem+json",
    )  # fmt: skip
    assert await cases_of(relief) == []
    assert await published_relief(relief, "relief.case_opened") == []
    # not recorded in the inbox: the redelivery is handled and opens the case
    again = await deliver(relief, event)
    assert (again.status_code, again.json()) == (200, {"accepted": True})
    assert len(await cases_of(relief)) == 1


async def test_a_discharge_waits_for_the_registry_too(relief, registry):
    """Every event is taken in through the person's timeline, so a discharge with the registry down is refused
    (503) and closes the case when it comes again."""
    person = (await make_household(registry, VILLAGE))["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", "2020-02-03")
    event = await health_event(registry, person["id"], "discharged", "2020-02-25")
    async with registry_down(relief):
        assert (await deliver(relief, event)).status_code == 503
    [case] = await cases_of(relief)
    assert case["status"] == "open"
    assert (await deliver(relief, event)).json() == {"accepted": True}
    [case] = await cases_of(relief)
    assert (case["status"], case["closed_on"]) == ("closed", "2020-02-25")


async def test_a_registry_refusing_relief_is_unavailable_too(relief, registry):
    """The registry refusing relief's call (401 here: no token, as with a wrong client secret) does not drop the
    event: 503, and it is delivered again later."""
    person = (await make_household(registry, VILLAGE))["members"][0]
    event = await health_event(registry, person["id"], "confirmed", "2020-02-03")
    client = relief.app.state.registry
    credentials, client.credentials = client.credentials, None
    try:
        response = await deliver(relief, event)
    finally:
        client.credentials = credentials
    assert response.status_code == 503 and response.json()["code"] == "registry_unavailable"
    assert await cases_of(relief) == []
