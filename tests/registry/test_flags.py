"""Case flags (measure 22): derived from the health events, overridden by officers, announced only on a change."""

import pytest

from services.registry.flags.repository import no_team_entry
from tests.support.callers import AUDITOR, CITY_ADMIN, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    CONTACTS,
    assert_problem,
    audit_entries,
    contact_body,
    make_cadre,
    make_household,
    make_pairing,
    make_village,
    published,
    record_health,
)

FLAGS = "/api/v1/registry/case-flags"
VILLAGE, NEIGHBOUR_VILLAGE, TOWNSHIP = "500230101201", "500230101202", "500230101"
OTHER_TOWNSHIP_VILLAGE = "500230102201"
CADRE = Caller("cadre-x", ("village_cadre",), ("500230101201",))


async def flag(registry, code: str, caller=CITY_ADMIN) -> dict:
    response = await registry.get(f"{FLAGS}/{code}", caller)
    assert response.status_code == 200, response.text
    return response.json()


async def state(registry, code: str) -> tuple[int, bool, bool]:
    """(active cases, flagged, no team entry) of a region."""
    found = await flag(registry, code)
    return found["active_cases"], found["flagged"], found["no_team_entry"]


async def put(registry, code: str, body: dict, caller=CITY_ADMIN):
    return await registry.request("PUT", f"{FLAGS}/{code}", caller, json=body)


async def set_flag(registry, code: str, flagged: bool | None, reason: str | None = "外地病例", caller=CITY_ADMIN):
    response = await put(registry, code, {"flagged": flagged, "reason": reason}, caller)
    assert response.status_code == 200, response.text
    return response.json()


async def changes(registry) -> list[tuple[str, bool]]:
    """The village.case_flag_changed events, oldest first, as (region, flagged)."""
    events = await published(registry, "village.case_flag_changed")
    return [(e["data"]["region_code"], e["data"]["flagged"]) for e in reversed(events)]


async def blocked(registry, village_code: str) -> bool:
    async with registry.app.state.session_factory() as session:
        return await no_team_entry(session, village_code)


@pytest.fixture
async def household(registry) -> dict:
    return await make_household(registry, VILLAGE)


@pytest.fixture
def head(household) -> str:
    return household["members"][0]["id"]


@pytest.fixture
def spouse(household) -> str:
    return household["members"][1]["id"]


# --- derived from the health events -------------------------------------------------------------------------------


async def test_a_confirmed_case_flags_the_village_and_its_township(registry, head):
    await record_health(registry, head, "confirmed", "2020-02-03")
    assert await state(registry, VILLAGE) == (1, True, True)
    assert await state(registry, TOWNSHIP) == (1, True, True)
    village = await flag(registry, VILLAGE)
    assert (village["level"], village["county_code"], village["region_name"], village["manual"]) == (
        "village", "500230", "测试村", None,
    )  # fmt: skip
    assert (await flag(registry, TOWNSHIP))["region_name"] == "虎威镇"
    assert await changes(registry) == [(VILLAGE, True), (TOWNSHIP, True)]
    [event, _] = await published(registry, "village.case_flag_changed")
    assert event["data"] == {
        "region_code": TOWNSHIP, "level": "township", "county_code": "500230", "flagged": True, "active_cases": 1,
        "manual": None,
    }  # fmt: skip


async def test_the_flag_is_announced_only_when_it_changes(registry, head, spouse):
    await record_health(registry, head, "suspected", "2020-02-01")
    await record_health(registry, head, "confirmed", "2020-02-03")
    await record_health(registry, spouse, "suspected", "2020-02-04")
    assert await state(registry, VILLAGE) == (2, True, True)
    await record_health(registry, spouse, "cleared", "2020-02-05")
    assert await state(registry, VILLAGE) == (1, True, True)
    assert await changes(registry) == [(VILLAGE, True), (TOWNSHIP, True)]
    await record_health(registry, head, "discharged", "2020-02-20")
    assert await state(registry, VILLAGE) == (0, False, False)
    assert await state(registry, TOWNSHIP) == (0, False, False)
    assert await changes(registry) == [(VILLAGE, True), (TOWNSHIP, True), (VILLAGE, False), (TOWNSHIP, False)]


@pytest.mark.parametrize(
    ("events", "active"),
    [
        ([("isolated", {"isolation_reason": "close_contact"})], 0),
        ([("isolated", {"isolation_reason": "returned"})], 0),
        ([("isolated", {"isolation_reason": "suspected"})], 1),
        ([("isolated", {"isolation_reason": "suspected"}), ("released", {})], 0),
        ([("isolated", {"isolation_reason": "suspected"}), ("cleared", {})], 0),
        ([("isolated", {"isolation_reason": "close_contact"}), ("suspected", {})], 1),
        ([("isolated", {"isolation_reason": "suspected"}), ("suspected", {})], 1),
        ([("suspected", {}), ("deceased", {})], 0),
        ([("confirmed", {}), ("deceased", {})], 0),
        ([("suspected", {}), ("confirmed", {})], 1),
    ],
)
async def test_what_counts_as_an_active_case(registry, head, events, active):
    for kind, details in events:
        await record_health(registry, head, kind, "2020-02-03", **details)
    assert await state(registry, VILLAGE) == (active, active > 0, active > 0)
    assert (await flag(registry, TOWNSHIP))["active_cases"] == active


async def test_cases_in_two_villages_add_up_in_the_township(registry, head):
    other = await make_household(registry, NEIGHBOUR_VILLAGE)
    await record_health(registry, head, "confirmed", "2020-02-03")
    await record_health(registry, other["members"][0]["id"], "suspected", "2020-02-03")
    assert await state(registry, TOWNSHIP) == (2, True, True)
    await record_health(registry, head, "discharged", "2020-02-10")
    assert await state(registry, VILLAGE) == (0, False, True)
    assert await state(registry, TOWNSHIP) == (1, True, True)


async def test_no_team_entry_follows_the_village_or_its_township(registry, head):
    await make_village(registry, NEIGHBOUR_VILLAGE)
    await make_village(registry, OTHER_TOWNSHIP_VILLAGE)
    assert not await blocked(registry, VILLAGE)
    await record_health(registry, head, "confirmed", "2020-02-03")
    assert await blocked(registry, VILLAGE)
    assert await blocked(registry, NEIGHBOUR_VILLAGE)
    assert not await blocked(registry, OTHER_TOWNSHIP_VILLAGE)
    await record_health(registry, head, "discharged", "2020-02-10")
    assert not await blocked(registry, VILLAGE)


# --- manual overrides -----------------------------------------------------------------------------------------------


async def test_an_officer_flags_a_village_by_hand_and_clears_the_override(registry):
    await make_village(registry, VILLAGE)
    found = await set_flag(registry, VILLAGE, True, "外地确诊病例曾在本村居住", FENGDU)
    assert (found["flagged"], found["manual"], found["active_cases"], found["no_team_entry"]) == (True, True, 0, True)
    assert (found["manual_reason"], found["manual_by"]) == ("外地确诊病例曾在本村居住", "fengdu")
    assert await blocked(registry, VILLAGE)
    assert await changes(registry) == [(VILLAGE, True)]
    cleared = await set_flag(registry, VILLAGE, None, None, FENGDU)
    assert (cleared["flagged"], cleared["manual"], cleared["manual_reason"], cleared["manual_by"]) == (
        False, None, None, None,
    )  # fmt: skip
    assert not await blocked(registry, VILLAGE)
    assert await changes(registry) == [(VILLAGE, True), (VILLAGE, False)]


async def test_a_manual_off_overrides_the_cases_until_cleared(registry, head):
    await record_health(registry, head, "confirmed", "2020-02-03")
    off = await set_flag(registry, VILLAGE, False, "病例已转往外地")
    assert (off["flagged"], off["active_cases"], off["manual"]) == (False, 1, False)
    assert off["no_team_entry"] is True  # the township still has the case
    assert (await set_flag(registry, VILLAGE, None))["flagged"] is True
    assert await changes(registry) == [(VILLAGE, True), (TOWNSHIP, True), (VILLAGE, False), (VILLAGE, True)]


async def test_an_override_that_does_not_change_the_flag_is_not_announced(registry, head):
    await record_health(registry, head, "confirmed", "2020-02-03")
    found = await set_flag(registry, VILLAGE, True)
    assert (found["flagged"], found["manual"]) == (True, True)
    await record_health(registry, head, "discharged", "2020-02-10")
    assert await state(registry, VILLAGE) == (0, True, True)
    assert await changes(registry) == [(VILLAGE, True), (TOWNSHIP, True), (TOWNSHIP, False)]


async def test_a_flagged_township_blocks_every_village_in_it(registry):
    await make_village(registry, VILLAGE)
    await set_flag(registry, TOWNSHIP, True, "镇区集中隔离点", HUWEI_TOWNSHIP)
    village = await flag(registry, VILLAGE)
    assert (village["flagged"], village["no_team_entry"]) == (False, True)
    assert await blocked(registry, VILLAGE)


async def test_overrides_are_audited(registry):
    await make_village(registry, VILLAGE)
    await set_flag(registry, VILLAGE, True, "外地病例", FENGDU)
    await set_flag(registry, VILLAGE, None, "核实无病例", FENGDU)
    first, second = reversed(await audit_entries(registry, AUDITOR, entity_id=VILLAGE, action="case_flag.set"))
    assert (first["action"], first["actor"], first["county_code"]) == ("case_flag.set", "fengdu", "500230")
    assert first["changes"] == {"manual": [None, True], "flagged": [False, True], "reason": "外地病例"}
    assert second["changes"] == {"manual": [True, None], "flagged": [True, False], "reason": "核实无病例"}


@pytest.mark.parametrize(
    ("code", "body", "status", "problem_code", "field"),
    [
        (VILLAGE, {"flagged": True}, 422, "case_flag_reason_required", "reason"),
        (VILLAGE, {"flagged": False, "reason": None}, 422, "case_flag_reason_required", "reason"),
        (VILLAGE, {"reason": "x"}, 422, "validation_failed", "flagged"),
        (VILLAGE, {"flagged": True, "reason": ""}, 422, "validation_failed", "reason"),
        ("500230", {"flagged": True, "reason": "x"}, 422, "case_flag_level", "region_code"),
        ("500230101299", {"flagged": True, "reason": "x"}, 404, "region_not_found", None),
    ],
)
async def test_override_refusals(registry, code, body, status, problem_code, field):
    await make_village(registry, VILLAGE)
    assert_problem(await put(registry, code, body), status, problem_code, field=field)


# --- reading, scope -------------------------------------------------------------------------------------------------


async def test_a_region_never_flagged_reads_as_unflagged(registry):
    await make_village(registry, VILLAGE)
    found = await flag(registry, VILLAGE, HR)
    assert found == {
        "region_code": VILLAGE, "region_name": "测试村", "level": "village", "county_code": "500230",
        "active_cases": 0, "manual": None, "manual_reason": None, "manual_by": None, "flagged": False,
        "no_team_entry": False, "updated_at": None,
    }  # fmt: skip
    assert await published(registry, "village.case_flag_changed") == []


async def test_officers_of_another_region_get_404(registry, head):
    await record_health(registry, head, "confirmed", "2020-02-03")
    for caller in (WANZHOU,):
        assert_problem(await registry.get(f"{FLAGS}/{VILLAGE}", caller), 404, "region_not_found")
        assert_problem(await put(registry, VILLAGE, {"flagged": False, "reason": "x"}, caller), 404, "region_not_found")
    await make_village(registry, OTHER_TOWNSHIP_VILLAGE)
    response = await put(registry, OTHER_TOWNSHIP_VILLAGE, {"flagged": True, "reason": "x"}, HUWEI_TOWNSHIP)
    assert_problem(response, 404, "region_not_found")
    assert (await flag(registry, VILLAGE, HUWEI_TOWNSHIP))["flagged"] is True


@pytest.mark.parametrize("caller", [HR, AUDITOR, CADRE])
async def test_only_officers_set_flags(registry, caller):
    await make_village(registry, VILLAGE)
    assert_problem(await put(registry, VILLAGE, {"flagged": True, "reason": "x"}, caller), 403, "forbidden")


async def test_a_village_cadre_reads_the_flags_of_their_households_places(registry, household, head):
    cadre = await make_cadre(registry, VILLAGE, username=CADRE.subject)
    await make_pairing(registry, cadre["id"], household["id"])
    await make_village(registry, NEIGHBOUR_VILLAGE)
    await record_health(registry, head, "confirmed", "2020-02-03")
    await set_flag(registry, NEIGHBOUR_VILLAGE, True)
    assert (await flag(registry, VILLAGE, CADRE))["no_team_entry"] is True
    assert (await flag(registry, TOWNSHIP, CADRE))["flagged"] is True
    assert_problem(await registry.get(f"{FLAGS}/{NEIGHBOUR_VILLAGE}", CADRE), 404, "region_not_found")
    listed = (await registry.get(FLAGS, CADRE)).json()["items"]
    assert [f["region_code"] for f in listed] == [TOWNSHIP, VILLAGE]


async def test_the_list_filters_by_flag_and_scope_in_code_order(registry, head):
    wanzhou = await make_household(registry, "500101001201")
    await make_village(registry, NEIGHBOUR_VILLAGE)
    await record_health(registry, head, "confirmed", "2020-02-03")
    await record_health(registry, wanzhou["members"][0]["id"], "suspected", "2020-02-03")
    await set_flag(registry, NEIGHBOUR_VILLAGE, False, "核实无病例")

    async def codes(caller=CITY_ADMIN, **params) -> list[str]:
        response = await registry.get(FLAGS, caller, params={"limit": 200, **params})
        assert response.status_code == 200, response.text
        return [f["region_code"] for f in response.json()["items"]]

    assert await codes() == ["500101001", "500101001201", TOWNSHIP, VILLAGE, NEIGHBOUR_VILLAGE]
    assert await codes(flagged="true") == ["500101001", "500101001201", TOWNSHIP, VILLAGE]
    assert await codes(flagged="false") == [NEIGHBOUR_VILLAGE]
    assert await codes(FENGDU, flagged="true") == [TOWNSHIP, VILLAGE]
    assert await codes(WANZHOU) == ["500101001", "500101001201"]
    first = (await registry.get(FLAGS, params={"limit": 2})).json()
    second = (await registry.get(FLAGS, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    third = (await registry.get(FLAGS, params={"limit": 2, "cursor": second["next_cursor"]})).json()
    assert [f["region_code"] for page in (first, second, third) for f in page["items"]] == await codes()
    assert third["next_cursor"] is None


async def test_a_visit_to_a_household_in_a_village_with_a_case_is_refused(registry, household, head):
    body = contact_body(household["id"], channel="visit", contacted_at="2020-02-04T10:00:00+08:00")
    await record_health(registry, head, "confirmed", "2020-02-03")
    assert_problem(await registry.post(CONTACTS, json=body), 409, "visit_refused_case_village", field="channel")
    await record_health(registry, head, "discharged", "2020-02-10")
    assert (await registry.post(CONTACTS, json=body)).status_code == 201
