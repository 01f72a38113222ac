"""The exclusive insurance (专属保险, measure 23) through the API: policies, enrolments from the registry, claims by
hand, the claim workflow and its refusals, region scope, and Idempotency-Key on payment."""

from datetime import timedelta

import pytest

from shared.clients import RegistryClient
from shared.dates import today
from shared.regions import WANSHENG_TOWNSHIPS
from tests.support.callers import AUDITOR, CITY_ADMIN, CIVIL, CIVIL2, FENGDU, HR, WANZHOU, Caller
from tests.support.registry import CADRES, HOUSEHOLDS, assert_problem, id_number, make_cadre, make_household
from tests.support.relief import (
    CLAIMS,
    FENGDU_VILLAGE,
    POLICIES,
    WANZHOU_VILLAGE,
    claim_body,
    claim_of,
    enrol_cadre,
    enrol_household,
    listed,
    make_policy,
    open_claim,
    policy_body,
    relief_audit,
    relief_published,
    step,
)

ENROLMENTS = "/api/v1/relief/insurance/enrolments"
COUNTY_CIVIL = Caller("civil-fengdu", ("civil_affairs",), ("500230",))  # civil affairs of Fengdu only


@pytest.fixture
async def household(registry) -> dict:
    return await make_household(registry, FENGDU_VILLAGE)


@pytest.fixture
async def cadre_claim(relief, registry) -> dict:
    """An opened hospitalisation claim of a Fengdu first secretary under a first-secretary policy."""
    policy = await make_policy(relief, insured_group="first_secretary", hospitalisation_fen=800_000)
    cadre = await make_cadre(registry, "500230101")
    await enrol_cadre(relief, policy["id"], cadre["id"])
    return await open_claim(relief, "cadre", cadre["id"])


# --- policies -------------------------------------------------------------------------------------------------------


async def test_create_policy_and_read_it(relief):
    response = await relief.post(POLICIES, CIVIL, json=policy_body())
    assert response.status_code == 201, response.text
    policy = response.json()
    assert {k: policy[k] for k in policy_body()} == policy_body()
    assert policy["created_by"] == "civil" and policy["id"] and policy["created_at"]
    assert (await relief.get(f"{POLICIES}/{policy['id']}", FENGDU)).json() == policy
    [entry] = await relief_audit(relief, entity_id=policy["id"])
    assert (entry["action"], entry["actor"]) == ("insurance_policy.create", "civil")
    assert entry["changes"]["death_fen"] == 50_000_000


async def test_list_policies_newest_first_by_group_and_cover_day(relief):
    poor = await make_policy(relief)
    cadres = await make_policy(relief, insured_group="resident_cadre", cover_from="2021-01-01", cover_to="2021-12-31")
    assert [p["id"] for p in await listed(relief, POLICIES, AUDITOR)] == [cadres["id"], poor["id"]]
    assert [p["id"] for p in await listed(relief, POLICIES, insured_group="resident_cadre")] == [cadres["id"]]
    assert [p["id"] for p in await listed(relief, POLICIES, covers_on="2020-12-31")] == [poor["id"]]
    assert [p["id"] for p in await listed(relief, POLICIES, covers_on="2021-01-01")] == [cadres["id"]]
    page = await relief.get(POLICIES, params={"limit": 1})
    assert [p["id"] for p in page.json()["items"]] == [cadres["id"]]
    rest = await relief.get(POLICIES, params={"limit": 1, "cursor": page.json()["next_cursor"]})
    assert [p["id"] for p in rest.json()["items"]] == [poor["id"]] and rest.json()["next_cursor"] is None


async def test_update_policy_benefits_and_cover(relief):
    policy = await make_policy(relief)
    response = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"death_fen": 0, "cover_to": "2021-03-31"})
    assert response.status_code == 200, response.text
    assert (response.json()["death_fen"], response.json()["cover_to"]) == (0, "2021-03-31")
    assert (await relief.get(f"{POLICIES}/{policy['id']}")).json()["death_fen"] == 0
    [entry] = await relief_audit(relief, entity_id=policy["id"], action="insurance_policy.update")
    assert entry["changes"] == {"death_fen": [50_000_000, 0], "cover_to": ["2020-12-31", "2021-03-31"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cover_from": "2021-01-01"}, "cover_to"),
        ({"cover_to": "2020-01-23"}, "cover_to"),
    ],
)
async def test_update_cannot_end_cover_before_it_starts(relief, change, field):
    policy = await make_policy(relief)
    response = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json=change)
    assert_problem(response, 422, "cover_dates_invalid", field)
    assert (await relief.get(f"{POLICIES}/{policy['id']}")).json() == policy


async def test_create_cannot_end_cover_before_it_starts(relief):
    body = policy_body(cover_from="2020-03-01", cover_to="2020-02-29")
    problem = assert_problem(await relief.post(POLICIES, CIVIL, json=body), 422, "cover_dates_invalid", "cover_to")
    assert problem["title"] == "保障期止日不能早于起日"
    response = await relief.post(POLICIES, CIVIL, json=body, headers={"Accept-Language": "en"})
    assert response.json()["title"] == "The cover ends before it starts"
    assert await listed(relief, POLICIES) == []


async def test_cover_of_a_single_day_is_valid(relief):
    policy = await make_policy(relief, cover_from="2020-02-01", cover_to="2020-02-01")
    assert policy["cover_from"] == policy["cover_to"] == "2020-02-01"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"hospitalisation_fen": -1}, "hospitalisation_fen", "greater_than_equal"),
        ({"death_fen": 12.5}, "death_fen", "int_from_float"),
        ({"death_fen": 10**19}, "death_fen", "less_than_equal"),
        ({"insured_group": "villagers"}, "insured_group", "enum"),
        ({"cover_from": "2020-02-30"}, "cover_from", "date_from_datetime_parsing"),
        ({"name": ""}, "name", "string_too_short"),
        ({"cover_to": None}, "cover_to", "date_type"),
        ({"premium_fen": 100}, "premium_fen", "extra_forbidden"),
    ],
)
async def test_bad_policy_input_is_a_problem_naming_the_field(relief, overrides, field, code):
    problem = assert_problem(await relief.post(POLICIES, CIVIL, json=policy_body(**overrides)), 422,
                             "validation_failed", field)  # fmt: skip
    assert [e["code"] for e in problem["errors"] if e["field"] == field] == [code]


async def test_missing_benefit_is_a_problem_naming_the_field(relief):
    body = policy_body()
    del body["hospitalisation_fen"]
    assert_problem(await relief.post(POLICIES, CIVIL, json=body), 422, "validation_failed", "hospitalisation_fen")


async def test_patch_cannot_clear_a_field(relief):
    policy = await make_policy(relief)
    response = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"death_fen": None})
    assert_problem(response, 422, "validation_failed", "death_fen")


async def test_policy_group_is_fixed_once_someone_is_enrolled(relief, household):
    policy = await make_policy(relief)
    moved = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"insured_group": "resident_cadre"})
    assert moved.status_code == 200 and moved.json()["insured_group"] == "resident_cadre"
    back = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"insured_group": "poor_household"})
    assert back.status_code == 200
    await enrol_household(relief, policy["id"], household["id"])
    locked = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"insured_group": "first_secretary"})
    assert_problem(locked, 409, "policy_group_locked", "insured_group")
    same = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"insured_group": "poor_household"})
    assert same.status_code == 200


async def test_unknown_policy_is_404(relief, household):
    assert_problem(await relief.get(f"{POLICIES}/nope"), 404, "policy_not_found")
    assert_problem(await relief.patch(f"{POLICIES}/nope", CIVIL, json={"name": "x"}), 404, "policy_not_found")
    response = await relief.post(f"{POLICIES}/nope/enrolments/persons", CIVIL, json={"household_id": household["id"]})
    assert_problem(response, 404, "policy_not_found")


async def test_only_insurance_managers_change_policies_and_only_readers_read_them(relief):
    policy = await make_policy(relief, caller=CITY_ADMIN)
    for caller in (FENGDU, AUDITOR, HR):
        assert_problem(await relief.post(POLICIES, caller, json=policy_body()), 403, "forbidden")
        response = await relief.patch(f"{POLICIES}/{policy['id']}", caller, json={"name": "改名"})
        assert_problem(response, 403, "forbidden")
    assert_problem(await relief.get(POLICIES, HR), 403, "forbidden")
    assert_problem(await relief.get(POLICIES, None), 401, "unauthenticated")
    assert (await relief.get(f"{POLICIES}/{policy['id']}", AUDITOR)).status_code == 200


# --- enrolments -----------------------------------------------------------------------------------------------------


async def test_enrol_every_member_of_a_household(relief, household):
    policy = await make_policy(relief)
    response = await relief.post(
        f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json={"household_id": household["id"]}
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["already_enrolled"] == []
    members = {m["id"]: m["name"] for m in household["members"]}
    assert {e["insured_id"]: e["name"] for e in result["enrolled"]} == members
    for enrolment in result["enrolled"]:
        assert (enrolment["policy_id"], enrolment["insured_kind"]) == (policy["id"], "person")
        assert (enrolment["household_id"], enrolment["county_code"]) == (household["id"], "500230")
        assert enrolment["enrolled_by"] == "civil"
    listed_ids = {e["id"] for e in await listed(relief, ENROLMENTS, policy_id=policy["id"])}
    assert listed_ids == {e["id"] for e in result["enrolled"]}
    entries = await relief_audit(relief, action="insurance_enrolment.create")
    assert {e["entity_id"] for e in entries} == listed_ids
    one = result["enrolled"][0]
    assert (await relief.get(f"{ENROLMENTS}/{one['id']}", FENGDU)).json() == one


async def test_enrol_chosen_members_only(relief, household):
    policy = await make_policy(relief)
    spouse = household["members"][1]
    result = await enrol_household(relief, policy["id"], household["id"], [spouse["id"], spouse["id"]])
    assert [(e["insured_id"], e["name"]) for e in result["enrolled"]] == [(spouse["id"], "李明")]
    assert len(await listed(relief, ENROLMENTS, household_id=household["id"])) == 1


async def test_repeat_enrolment_is_idempotent_and_enrols_only_newcomers(relief, registry, household):
    policy = await make_policy(relief)
    first = await enrol_household(relief, policy["id"], household["id"])
    again = await relief.post(
        f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json={"household_id": household["id"]}
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"enrolled": [], "already_enrolled": first["enrolled"]}
    member = {"name": "张小明", "id_number": id_number("500230", "20100101"), "relation": "child"}
    added = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", json=member)
    assert added.status_code == 201, added.text
    third = await relief.post(
        f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json={"household_id": household["id"]}
    )
    assert third.status_code == 201, third.text
    assert [e["insured_id"] for e in third.json()["enrolled"]] == [added.json()["id"]]
    assert len(third.json()["already_enrolled"]) == 2
    assert len(await listed(relief, ENROLMENTS, policy_id=policy["id"])) == 3


async def test_the_same_person_may_be_enrolled_under_two_policies(relief, household):
    first, second = await make_policy(relief), await make_policy(relief, name="补充保险")
    await enrol_household(relief, first["id"], household["id"])
    result = await enrol_household(relief, second["id"], household["id"])
    assert len(result["enrolled"]) == 2
    head = household["members"][0]["id"]
    assert {e["policy_id"] for e in await listed(relief, ENROLMENTS, insured_id=head)} == {first["id"], second["id"]}


async def test_enrol_unknown_household_is_404(relief):
    policy = await make_policy(relief)
    response = await relief.post(
        f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json={"household_id": "01900000-0000-7000-8000-0"}
    )
    assert_problem(response, 404, "household_not_found", "household_id")


async def test_enrol_someone_outside_the_household_is_refused(relief, registry, household):
    policy = await make_policy(relief)
    other = await make_household(registry, FENGDU_VILLAGE)
    stranger = other["members"][0]["id"]
    body = {"household_id": household["id"], "person_ids": [household["members"][0]["id"], stranger]}
    response = await relief.post(f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json=body)
    problem = assert_problem(response, 422, "person_not_in_household", "person_ids")
    assert stranger in problem["title"]
    assert await listed(relief, ENROLMENTS) == []


async def test_a_household_lifted_without_policies_is_not_enrolled(relief, registry):
    lifted = await make_household(registry, FENGDU_VILLAGE, status="lifted_no_policy")
    policy = await make_policy(relief)
    response = await relief.post(
        f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json={"household_id": lifted["id"]}
    )
    assert_problem(response, 422, "household_not_eligible", "household_id")


async def test_a_lifted_household_keeps_its_policies_and_is_enrolled(relief, registry):
    lifted = await make_household(registry, FENGDU_VILLAGE, status="lifted")
    policy = await make_policy(relief)
    assert len((await enrol_household(relief, policy["id"], lifted["id"]))["enrolled"]) == 2


async def test_the_insured_must_fit_the_policy_group(relief, registry, household):
    poor = await make_policy(relief)
    cadres = await make_policy(relief, insured_group="resident_cadre")
    cadre = await make_cadre(registry, "500230101")
    response = await relief.post(
        f"{POLICIES}/{cadres['id']}/enrolments/persons", CIVIL, json={"household_id": household["id"]}
    )
    problem = assert_problem(response, 422, "insured_group_mismatch", "household_id")
    assert problem["title"] == "该保单的参保群体为驻乡驻村干部，不能参保贫困人口"
    response = await relief.post(f"{POLICIES}/{poor['id']}/enrolments/cadres", CIVIL, json={"cadre_id": cadre["id"]})
    assert_problem(response, 422, "insured_group_mismatch", "cadre_id")
    assert await listed(relief, ENROLMENTS) == []


@pytest.mark.parametrize("group", ["resident_cadre", "first_secretary"])
async def test_enrol_a_cadre_and_again(relief, registry, group):
    policy = await make_policy(relief, insured_group=group)
    cadre = await make_cadre(registry, "500230101", name="王书记")
    response = await relief.post(f"{POLICIES}/{policy['id']}/enrolments/cadres", CIVIL, json={"cadre_id": cadre["id"]})
    assert response.status_code == 201, response.text
    [enrolment] = response.json()["enrolled"]
    assert (enrolment["insured_kind"], enrolment["insured_id"], enrolment["name"]) == ("cadre", cadre["id"], "王书记")
    assert (enrolment["household_id"], enrolment["county_code"]) == (None, "500230")
    again = await relief.post(f"{POLICIES}/{policy['id']}/enrolments/cadres", CIVIL, json={"cadre_id": cadre["id"]})
    assert again.status_code == 200
    assert again.json() == {"enrolled": [], "already_enrolled": [enrolment]}


async def test_enrol_unknown_or_inactive_cadre_is_refused(relief, registry):
    policy = await make_policy(relief, insured_group="resident_cadre")
    path = f"{POLICIES}/{policy['id']}/enrolments/cadres"
    assert_problem(await relief.post(path, CIVIL, json={"cadre_id": "nope"}), 404, "cadre_not_found", "cadre_id")
    cadre = await make_cadre(registry, "500230")
    assert (await registry.patch(f"{CADRES}/{cadre['id']}", json={"active": False})).status_code == 200
    assert_problem(await relief.post(path, CIVIL, json={"cadre_id": cadre["id"]}), 422, "cadre_inactive", "cadre_id")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "household_id", "missing"),
        ({"household_id": "../households"}, "household_id", "string_pattern_mismatch"),
        ({"household_id": "x", "person_ids": []}, "person_ids", "too_short"),
        ({"household_id": "x", "person_ids": "abc"}, "person_ids", "list_type"),
    ],
)
async def test_bad_enrolment_input_is_a_problem_naming_the_field(relief, body, field, code):
    policy = await make_policy(relief)
    response = await relief.post(f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json=body)
    problem = assert_problem(response, 422, "validation_failed", field)
    assert [e["code"] for e in problem["errors"] if e["field"] == field] == [code]


async def test_enrolment_answers_503_when_the_registry_is_unreachable(relief, household):
    policy = await make_policy(relief)
    app_state = relief.app.state
    reachable = app_state.registry
    app_state.registry = RegistryClient("http://127.0.0.1:9", timeout_s=0.5, retries=0)
    try:
        response = await relief.post(
            f"{POLICIES}/{policy['id']}/enrolments/persons", CIVIL, json={"household_id": household["id"]}
        )
    finally:
        await app_state.registry.aclose()
        app_state.registry = reachable
    assert_problem(response, 503, "registry_unavailable")


async def test_only_insurance_managers_enrol(relief, household):
    policy = await make_policy(relief)
    for caller in (FENGDU, AUDITOR):
        response = await relief.post(
            f"{POLICIES}/{policy['id']}/enrolments/persons", caller, json={"household_id": household["id"]}
        )
        assert_problem(response, 403, "forbidden")


async def test_enrolments_are_scoped_by_county(relief, registry, household):
    policy = await make_policy(relief)
    wanzhou = await make_household(registry, WANZHOU_VILLAGE)
    fengdu_ids = {e["id"] for e in (await enrol_household(relief, policy["id"], household["id"]))["enrolled"]}
    wanzhou_ids = {e["id"] for e in (await enrol_household(relief, policy["id"], wanzhou["id"]))["enrolled"]}
    assert {e["id"] for e in await listed(relief, ENROLMENTS, FENGDU)} == fengdu_ids
    assert {e["id"] for e in await listed(relief, ENROLMENTS, WANZHOU)} == wanzhou_ids
    assert {e["id"] for e in await listed(relief, ENROLMENTS, AUDITOR)} == fengdu_ids | wanzhou_ids
    assert await listed(relief, ENROLMENTS, FENGDU, household_id=wanzhou["id"]) == []
    for enrolment_id in wanzhou_ids:
        assert_problem(await relief.get(f"{ENROLMENTS}/{enrolment_id}", FENGDU), 404, "enrolment_not_found")
    assert_problem(await relief.get(f"{ENROLMENTS}/nope"), 404, "enrolment_not_found")
    assert await listed(relief, ENROLMENTS, insured_kind="cadre") == []


async def test_county_civil_affairs_cannot_enrol_another_county(relief, registry):
    policy = await make_policy(relief)
    cadres = await make_policy(relief, insured_group="resident_cadre")
    wanzhou = await make_household(registry, WANZHOU_VILLAGE)
    cadre = await make_cadre(registry, "500101001")
    response = await relief.post(
        f"{POLICIES}/{policy['id']}/enrolments/persons", COUNTY_CIVIL, json={"household_id": wanzhou["id"]}
    )
    assert_problem(response, 404, "household_not_found", "household_id")
    response = await relief.post(
        f"{POLICIES}/{cadres['id']}/enrolments/cadres", COUNTY_CIVIL, json={"cadre_id": cadre["id"]}
    )
    assert_problem(response, 404, "cadre_not_found", "cadre_id")
    assert await listed(relief, ENROLMENTS) == []


# --- claims by hand -------------------------------------------------------------------------------------------------


async def test_open_a_claim_by_hand_for_a_cadre(relief, registry):
    policy = await make_policy(relief, insured_group="resident_cadre", hospitalisation_fen=800_000)
    cadre = await make_cadre(registry, "500230101", name="王书记")
    [enrolment] = (await enrol_cadre(relief, policy["id"], cadre["id"]))["enrolled"]
    response = await relief.post(CLAIMS, CIVIL, json=claim_body("cadre", cadre["id"]))
    assert response.status_code == 201, response.text
    claim = response.json()
    assert (claim["policy_id"], claim["enrolment_id"]) == (policy["id"], enrolment["id"])
    assert (claim["insured_kind"], claim["insured_id"], claim["insured_name"]) == ("cadre", cadre["id"], "王书记")
    assert (claim["kind"], claim["occurred_on"], claim["amount_fen"]) == ("hospitalisation", "2020-02-12", 800_000)
    assert (claim["status"], claim["opened_by"], claim["source_event_id"]) == ("opened", "civil", None)
    assert claim["open_reason"] == "驻村期间确诊住院，县卫健委通报"
    assert (claim["household_id"], claim["county_code"]) == (None, "500230")
    assert await claim_of(relief, claim["id"], FENGDU) == claim
    [event] = await relief_published(relief, "insurance.claim_opened")
    assert event["household_id"] is None and event["county_code"] == "500230"
    assert event["data"] == {
        "claim_id": claim["id"], "policy_id": policy["id"], "person_id": cadre["id"], "household_id": None,
        "county_code": "500230", "kind": "hospitalisation", "amount_fen": 800_000,
        "summary": "王书记 专属保险住院理赔立案 8000.00元",
    }  # fmt: skip
    [entry] = await relief_audit(relief, entity_id=claim["id"])
    assert (entry["action"], entry["actor"], entry["changes"]["reason"]) == (
        "insurance_claim.open", "civil", "驻村期间确诊住院，县卫健委通报",
    )  # fmt: skip


async def test_a_person_enrolled_after_the_event_gets_a_claim_by_hand(relief, household):
    policy = await make_policy(relief)
    head = household["members"][0]
    await enrol_household(relief, policy["id"], household["id"])
    claim = await open_claim(relief, "person", head["id"], kind="death", occurred_on="2020-02-20", reason="补录")
    assert (claim["household_id"], claim["amount_fen"], claim["insured_name"]) == (
        household["id"],
        50_000_000,
        "张秀华",
    )
    [event] = await relief_published(relief, "insurance.claim_opened")
    assert event["household_id"] == household["id"]


async def test_claim_by_hand_refusals(relief, registry):
    policy = await make_policy(relief, insured_group="resident_cadre", death_fen=0, cover_to="2020-06-30")
    cadre = await make_cadre(registry, "500230101")
    stranger = await make_cadre(registry, "500230101")
    await enrol_cadre(relief, policy["id"], cadre["id"])

    async def refused(status: int, code: str, field: str, insured_id=cadre["id"], insured_kind="cadre", **overrides):
        response = await relief.post(CLAIMS, CIVIL, json=claim_body(insured_kind, insured_id, **overrides))
        assert_problem(response, status, code, field)

    await refused(422, "insured_not_enrolled", "insured_id", insured_id=stranger["id"])
    await refused(422, "insured_not_enrolled", "insured_id", insured_id=cadre["id"], insured_kind="person")
    await refused(422, "claim_not_covered", "occurred_on", occurred_on="2020-07-01")
    await refused(422, "claim_not_covered", "occurred_on", occurred_on="2020-01-23")
    await refused(422, "claim_not_covered", "occurred_on", kind="death")
    await refused(422, "date_in_future", "occurred_on", occurred_on=(today() + timedelta(days=1)).isoformat())
    assert await listed(relief, CLAIMS) == []
    await open_claim(relief, "cadre", cadre["id"], occurred_on="2020-06-30")
    await refused(409, "claim_exists", "kind", occurred_on="2020-03-01")
    assert len(await listed(relief, CLAIMS)) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"reason": None}, "reason", "string_type"),
        ({"reason": "   "}, "reason", "string_too_short"),
        ({"reason": "长" * 301}, "reason", "string_too_long"),
        ({"kind": "illness"}, "kind", "enum"),
        ({"insured_kind": "family"}, "insured_kind", "enum"),
        ({"occurred_on": "yesterday"}, "occurred_on", "date_from_datetime_parsing"),
    ],
)
async def test_bad_claim_input_is_a_problem_naming_the_field(relief, overrides, field, code):
    body = {**claim_body("cadre", "x"), **overrides}
    problem = assert_problem(await relief.post(CLAIMS, CIVIL, json=body), 422, "validation_failed", field)
    assert [e["code"] for e in problem["errors"] if e["field"] == field] == [code]


async def test_a_claim_needs_a_reason(relief):
    body = claim_body("cadre", "x")
    del body["reason"]
    assert_problem(await relief.post(CLAIMS, CIVIL, json=body), 422, "validation_failed", "reason")


async def test_claims_by_hand_stay_within_the_caller_scope(relief, registry):
    policy = await make_policy(relief, insured_group="resident_cadre")
    cadre = await make_cadre(registry, "500101001")
    await enrol_cadre(relief, policy["id"], cadre["id"])
    response = await relief.post(CLAIMS, COUNTY_CIVIL, json=claim_body("cadre", cadre["id"]))
    assert_problem(response, 422, "insured_not_enrolled", "insured_id")
    assert_problem(await relief.post(CLAIMS, FENGDU, json=claim_body("cadre", cadre["id"])), 403, "forbidden")
    assert await listed(relief, CLAIMS) == []


# --- the workflow ---------------------------------------------------------------------------------------------------


async def test_approve_then_pay(relief, cadre_claim):
    approved = await step(relief, cadre_claim["id"], "approve", CIVIL)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "civil")
    assert approved.json()["decided_at"] and approved.json()["paid_at"] is None
    assert await relief_published(relief, "insurance.claim_paid") == []
    paid = await step(relief, cadre_claim["id"], "pay", CIVIL2)
    assert paid.status_code == 200, paid.text
    claim = paid.json()
    assert (claim["status"], claim["paid_by"], claim["decided_by"], claim["amount_fen"]) == (
        "paid", "civil2", "civil", 800_000,
    )  # fmt: skip
    assert claim["paid_at"] and await claim_of(relief, claim["id"]) == claim
    [event] = await relief_published(relief, "insurance.claim_paid")
    assert event["data"]["claim_id"] == claim["id"] and event["data"]["amount_fen"] == 800_000
    assert event["data"]["summary"].endswith("专属保险住院理赔已赔付 8000.00元")
    actions = [e["action"] for e in await relief_audit(relief, entity_id=claim["id"])]
    assert actions == ["insurance_claim.pay", "insurance_claim.approve", "insurance_claim.open"]


async def test_reject_with_a_reason(relief, cadre_claim):
    response = await step(relief, cadre_claim["id"], "reject", CIVIL2, json={"reason": "经核实非新冠肺炎住院"})
    assert response.status_code == 200, response.text
    claim = response.json()
    assert (claim["status"], claim["reject_reason"], claim["decided_by"]) == (
        "rejected",
        "经核实非新冠肺炎住院",
        "civil2",
    )
    assert claim["paid_at"] is None
    [entry] = await relief_audit(relief, entity_id=claim["id"], action="insurance_claim.reject")
    assert entry["changes"]["reason"] == "经核实非新冠肺炎住院"


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": " \t"}])
async def test_reject_without_a_reason_is_refused(relief, cadre_claim, body):
    kwargs = {} if body is None else {"json": body}
    response = await step(relief, cadre_claim["id"], "reject", **kwargs)
    assert_problem(response, 422, "validation_failed")
    assert (await claim_of(relief, cadre_claim["id"]))["status"] == "opened"


async def _bring_to(relief, claim_id: str, status: str) -> None:
    path = {"opened": [], "approved": ["approve"], "paid": ["approve", "pay"], "rejected": ["reject"]}[status]
    for action in path:
        kwargs = {"json": {"reason": "不符合条件"}} if action == "reject" else {}
        assert (await step(relief, claim_id, action, **kwargs)).status_code == 200


@pytest.mark.parametrize(
    ("status", "action", "code"),
    [
        ("opened", "pay", "claim_not_approved"),
        ("approved", "approve", "claim_already_approved"),
        ("approved", "reject", "claim_already_approved"),
        ("paid", "approve", "claim_already_paid"),
        ("paid", "pay", "claim_already_paid"),
        ("paid", "reject", "claim_already_paid"),
        ("rejected", "approve", "claim_already_rejected"),
        ("rejected", "pay", "claim_already_rejected"),
        ("rejected", "reject", "claim_already_rejected"),
    ],
)
async def test_wrong_transitions_are_409_with_their_own_codes(relief, cadre_claim, status, action, code):
    await _bring_to(relief, cadre_claim["id"], status)
    before = await claim_of(relief, cadre_claim["id"])
    kwargs = {"json": {"reason": "再次拒赔"}} if action == "reject" else {}
    assert_problem(await step(relief, cadre_claim["id"], action, **kwargs), 409, code)
    assert await claim_of(relief, cadre_claim["id"]) == before
    assert len(await relief_published(relief, "insurance.claim_paid")) == (1 if status == "paid" else 0)


async def test_the_amount_is_fixed_when_the_claim_opens(relief, registry):
    policy = await make_policy(relief, insured_group="resident_cadre", hospitalisation_fen=800_000)
    cadre = await make_cadre(registry, "500230101")
    await enrol_cadre(relief, policy["id"], cadre["id"])
    claim = await open_claim(relief, "cadre", cadre["id"])
    raised = await relief.patch(f"{POLICIES}/{policy['id']}", CIVIL, json={"hospitalisation_fen": 1_500_000})
    assert raised.status_code == 200
    await _bring_to(relief, claim["id"], "paid")
    assert (await claim_of(relief, claim["id"]))["amount_fen"] == 800_000
    [event] = await relief_published(relief, "insurance.claim_paid")
    assert event["data"]["amount_fen"] == 800_000
    death = await open_claim(relief, "cadre", cadre["id"], kind="death")
    assert death["amount_fen"] == 50_000_000


async def test_pay_replayed_with_its_idempotency_key_answers_the_first_time_and_pays_once(relief, cadre_claim):
    await _bring_to(relief, cadre_claim["id"], "approved")
    key = {"Idempotency-Key": "pay-claim-0001"}
    first = await step(relief, cadre_claim["id"], "pay", CIVIL2, headers=key)
    assert first.status_code == 200, first.text
    again = await step(relief, cadre_claim["id"], "pay", CIVIL2, headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await relief_published(relief, "insurance.claim_paid")) == 1
    assert len(await relief_audit(relief, entity_id=cadre_claim["id"], action="insurance_claim.pay")) == 1
    assert len(await relief_audit(relief, action="request.replay")) == 1
    unkeyed = await step(relief, cadre_claim["id"], "pay", CIVIL2)
    assert_problem(unkeyed, 409, "claim_already_paid")
    other = await step(relief, cadre_claim["id"], "approve", CIVIL2, headers=key)
    assert_problem(other, 409, "idempotency_key_reused", "Idempotency-Key")
    assert len(await relief_published(relief, "insurance.claim_paid")) == 1


async def test_only_insurance_managers_move_claims(relief, cadre_claim):
    for caller in (FENGDU, AUDITOR, HR):
        for action in ("approve", "pay"):
            assert_problem(await step(relief, cadre_claim["id"], action, caller), 403, "forbidden")
        assert_problem(await step(relief, cadre_claim["id"], "reject", caller, json={"reason": "x"}), 403, "forbidden")
    assert (await claim_of(relief, cadre_claim["id"]))["status"] == "opened"


async def test_unknown_claim_is_404(relief):
    assert_problem(await relief.get(f"{CLAIMS}/nope"), 404, "claim_not_found")
    for action in ("approve", "pay"):
        assert_problem(await step(relief, "nope", action), 404, "claim_not_found")
    assert_problem(await step(relief, "nope", "reject", json={"reason": "x"}), 404, "claim_not_found")


# --- reading claims, and scope ------------------------------------------------------------------------------------


@pytest.fixture
async def two_counties(relief, registry) -> dict:
    """A hospitalisation claim of a Fengdu cadre and one of a Wanzhou cadre, and a Fengdu death claim."""
    policy = await make_policy(relief, insured_group="resident_cadre")
    fengdu = await make_cadre(registry, "500230101")
    wanzhou = await make_cadre(registry, "500101001")
    for cadre in (fengdu, wanzhou):
        await enrol_cadre(relief, policy["id"], cadre["id"])
    return {
        "policy": policy,
        "fengdu": await open_claim(relief, "cadre", fengdu["id"]),
        "wanzhou": await open_claim(relief, "cadre", wanzhou["id"]),
        "fengdu_death": await open_claim(relief, "cadre", fengdu["id"], kind="death", occurred_on="2020-02-20"),
    }


async def test_an_officer_sees_only_their_county_claims(relief, two_counties):
    fengdu, wanzhou, death = two_counties["fengdu"], two_counties["wanzhou"], two_counties["fengdu_death"]
    assert [c["id"] for c in await listed(relief, CLAIMS, FENGDU)] == [death["id"], fengdu["id"]]
    assert [c["id"] for c in await listed(relief, CLAIMS, WANZHOU)] == [wanzhou["id"]]
    assert len(await listed(relief, CLAIMS, AUDITOR)) == 3
    assert_problem(await relief.get(f"{CLAIMS}/{wanzhou['id']}", FENGDU), 404, "claim_not_found")
    assert_problem(await relief.get(f"{CLAIMS}/{fengdu['id']}", WANZHOU), 404, "claim_not_found")
    assert (await relief.get(f"{CLAIMS}/{wanzhou['id']}", WANZHOU)).status_code == 200
    assert_problem(await relief.get(CLAIMS, HR), 403, "forbidden")


async def test_claims_list_filters_and_pages(relief, two_counties):
    fengdu, wanzhou, death = two_counties["fengdu"], two_counties["wanzhou"], two_counties["fengdu_death"]
    await _bring_to(relief, wanzhou["id"], "approved")
    assert [c["id"] for c in await listed(relief, CLAIMS, status="approved")] == [wanzhou["id"]]
    assert [c["id"] for c in await listed(relief, CLAIMS, status="opened")] == [death["id"], fengdu["id"]]
    assert [c["id"] for c in await listed(relief, CLAIMS, kind="death")] == [death["id"]]
    assert len(await listed(relief, CLAIMS, policy_id=two_counties["policy"]["id"])) == 3
    assert await listed(relief, CLAIMS, policy_id="other") == []
    assert await listed(relief, CLAIMS, insured_kind="person") == []
    first = await relief.get(CLAIMS, params={"limit": 2})
    assert [c["id"] for c in first.json()["items"]] == [death["id"], wanzhou["id"]]
    rest = await relief.get(CLAIMS, params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert [c["id"] for c in rest.json()["items"]] == [fengdu["id"]] and rest.json()["next_cursor"] is None
    assert_problem(await relief.get(CLAIMS, params={"status": "lost"}), 422, "validation_failed", "query.status")
    assert_problem(await relief.get(CLAIMS, params={"cursor": "%%%"}), 400, "invalid_cursor", "cursor")


async def test_claims_changed_since_an_instant(relief, two_counties):
    wanzhou = two_counties["wanzhou"]
    since = (await claim_of(relief, two_counties["fengdu_death"]["id"]))["updated_at"]
    assert await listed(relief, CLAIMS, updated_since=since) == []
    await _bring_to(relief, wanzhou["id"], "approved")
    assert [c["id"] for c in await listed(relief, CLAIMS, updated_since=since)] == [wanzhou["id"]]


async def test_county_civil_affairs_cannot_move_another_county_claim(relief, two_counties):
    wanzhou = two_counties["wanzhou"]
    for action in ("approve", "pay"):
        assert_problem(await step(relief, wanzhou["id"], action, COUNTY_CIVIL), 404, "claim_not_found")
    assert_problem(await step(relief, wanzhou["id"], "reject", COUNTY_CIVIL, json={"reason": "x"}), 404,
                   "claim_not_found")  # fmt: skip
    assert (await step(relief, two_counties["fengdu"]["id"], "approve", COUNTY_CIVIL)).status_code == 200
    assert (await claim_of(relief, wanzhou["id"]))["status"] == "opened"


async def test_the_registry_client_reads_a_cadre(relief, registry):
    """The client method relief enrols cadres through: the cadre as the service sees it, or None."""
    cadre = await make_cadre(registry, "500230101", name="王书记")
    found = await relief.app.state.registry.cadre(cadre["id"])
    assert (found.id, found.name, found.county_code, found.active) == (cadre["id"], "王书记", "500230", True)
    assert found.phone == "139****1111"  # the service's own role holds no pii:read
    assert await relief.app.state.registry.cadre("01900000-0000-7000-8000-000000000000") is None


# --- 万盛经开区: a scope of township codes ---------------------------------------------------------------------------

WANSHENG = Caller("wansheng", ("county_officer",), tuple(sorted(WANSHENG_TOWNSHIPS)))
WANSHENG_VILLAGE = "500110100201"  # a village of one of its ten townships (500110100)
QIJIANG_VILLAGE = "500110001201"  # 綦江区, outside 万盛经开区


async def test_wansheng_officers_see_their_townships_enrolments_and_claims_only(relief, registry):
    policy = await make_policy(relief, insured_group="poor_household")
    ours = await make_household(registry, WANSHENG_VILLAGE)
    theirs = await make_household(registry, QIJIANG_VILLAGE)
    mine = (await enrol_household(relief, policy["id"], ours["id"]))["enrolled"]
    others = (await enrol_household(relief, policy["id"], theirs["id"]))["enrolled"]
    seen = {e["id"] for e in await listed(relief, ENROLMENTS, caller=WANSHENG)}
    assert seen == {e["id"] for e in mine}
    assert (await relief.get(f"{ENROLMENTS}/{others[0]['id']}", WANSHENG)).status_code == 404
    claim = await open_claim(relief, "person", ours["members"][0]["id"])
    other_claim = await open_claim(relief, "person", theirs["members"][0]["id"])
    assert (await relief.get(f"{CLAIMS}/{claim['id']}", WANSHENG)).status_code == 200
    assert (await relief.get(f"{CLAIMS}/{other_claim['id']}", WANSHENG)).status_code == 404
