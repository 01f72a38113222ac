"""Follow-up of a household (measure 4): marking it 返贫, referring it to rural dibao, the civil-affairs decision."""

from datetime import timedelta

import pytest

from shared.dates import today
from tests.support.callers import AUDITOR, CITY_ADMIN, CIVIL, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    HOUSEHOLDS,
    assert_problem,
    audit_entries,
    ledger_of,
    make_cadre,
    make_household,
    make_pairing,
    published,
)

VILLAGE = "500230101201"
REFERRALS = "/api/v1/registry/dibao-referrals"
CADRE = Caller("cadre-x", ("village_cadre",), ("500230101201",))
WANZHOU_CIVIL = Caller("civil-wz", ("civil_affairs",), ("500101",))


def returning(household_id: str) -> str:
    return f"{HOUSEHOLDS}/{household_id}/return-to-poverty"


def referrals_of(household_id: str) -> str:
    return f"{HOUSEHOLDS}/{household_id}/dibao-referrals"


def decision_of(referral_id: str) -> str:
    return f"{REFERRALS}/{referral_id}/decision"


RETURN = {"changed_on": "2020-03-01", "reason": "户主确诊，因病返贫"}
REFERRAL = {"referred_on": "2020-03-02", "reason": "户主确诊，家庭无劳动力"}
APPROVE = {"decision": "approved", "decided_on": "2020-03-10", "note": "符合条件"}


@pytest.fixture
async def lifted(registry) -> dict:
    return await make_household(registry, VILLAGE, status="lifted", dibao=False, attribute="ordinary")


async def household_of(registry, household_id: str) -> dict:
    response = await registry.get(f"{HOUSEHOLDS}/{household_id}")
    assert response.status_code == 200, response.text
    return response.json()


# --- 返贫 -------------------------------------------------------------------------------------------------------------


async def test_marking_a_lifted_household_returned(registry, lifted):
    response = await registry.post(returning(lifted["id"]), FENGDU, json=RETURN)
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["id"] and change["created_at"]
    assert (change["household_id"], change["from_status"], change["to_status"]) == (lifted["id"], "lifted", "returned")
    assert (change["changed_on"], change["reason"], change["recorded_by"]) == ("2020-03-01", RETURN["reason"], "fengdu")
    assert (await household_of(registry, lifted["id"]))["status"] == "returned"
    history = (await registry.get(f"{HOUSEHOLDS}/{lifted['id']}/status-changes", HR)).json()
    assert history == [change]


async def test_the_return_is_published_written_to_the_ledger_and_audited(registry, lifted):
    change = (await registry.post(returning(lifted["id"]), FENGDU, json=RETURN)).json()
    [event] = await published(registry, "household.status_changed")
    assert (event["household_id"], event["county_code"]) == (lifted["id"], "500230")
    assert event["data"] == {
        "household_id": lifted["id"], "county_code": "500230", "from_status": "lifted", "to_status": "returned",
        "changed_on": "2020-03-01", "reason": RETURN["reason"],
    }  # fmt: skip
    [entry] = await ledger_of(registry, lifted["id"])
    assert (entry["event_type"], entry["summary"]) == ("household.status_changed", "返贫：户主确诊，因病返贫")
    [audit] = await audit_entries(registry, AUDITOR, action="household.return_to_poverty")
    assert (audit["entity_id"], audit["actor"], audit["county_code"]) == (lifted["id"], "fengdu", "500230")
    assert audit["changes"] == {
        "status": ["lifted", "returned"], "changed_on": "2020-03-01", "reason": RETURN["reason"],
        "status_change_id": change["id"],
    }  # fmt: skip


async def test_a_household_lifted_without_policies_may_return(registry):
    household = await make_household(registry, VILLAGE, status="lifted_no_policy")
    response = await registry.post(returning(household["id"]), json=RETURN)
    assert response.status_code == 201, response.text
    assert response.json()["from_status"] == "lifted_no_policy"


async def test_a_household_returned_already_is_409(registry, lifted):
    assert (await registry.post(returning(lifted["id"]), json=RETURN)).status_code == 201
    problem = assert_problem(
        await registry.post(returning(lifted["id"]), json=RETURN), 409, "household_already_returned"
    )
    assert problem["title"] == "该户已标记为返贫"
    assert len(await published(registry, "household.status_changed")) == 1


async def test_a_household_not_yet_lifted_cannot_return(registry):
    household = await make_household(registry, VILLAGE, status="not_lifted")
    assert_problem(await registry.post(returning(household["id"]), json=RETURN), 409, "household_not_lifted")
    assert (await household_of(registry, household["id"]))["status"] == "not_lifted"


async def test_the_return_may_be_dated_today_not_tomorrow(registry, lifted):
    tomorrow = {**RETURN, "changed_on": (today() + timedelta(days=1)).isoformat()}
    assert_problem(
        await registry.post(returning(lifted["id"]), json=tomorrow), 422, "date_in_future", field="changed_on"
    )
    response = await registry.post(returning(lifted["id"]), json={**RETURN, "changed_on": today().isoformat()})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [({"changed_on": "2020-03-01"}, "reason"), ({**RETURN, "reason": ""}, "reason"), ({"reason": "x"}, "changed_on")],
)
async def test_return_validation(registry, lifted, body, field):
    assert_problem(await registry.post(returning(lifted["id"]), json=body), 422, "validation_failed", field=field)


async def test_return_scope_and_permissions(registry, lifted):
    assert_problem(await registry.post(returning(lifted["id"]), WANZHOU, json=RETURN), 404, "household_not_found")
    assert_problem(
        await registry.get(f"{HOUSEHOLDS}/{lifted['id']}/status-changes", WANZHOU), 404, "household_not_found"
    )
    assert_problem(await registry.post(returning("nope"), json=RETURN), 404, "household_not_found")
    for caller in (AUDITOR, CIVIL, HR):
        assert_problem(await registry.post(returning(lifted["id"]), caller, json=RETURN), 403, "forbidden")
    assert (await registry.post(returning(lifted["id"]), HUWEI_TOWNSHIP, json=RETURN)).status_code == 201


async def test_a_village_cadre_marks_paired_households_only(registry, lifted):
    other = await make_household(registry, VILLAGE, status="lifted")
    cadre = await make_cadre(registry, VILLAGE, username=CADRE.subject)
    await make_pairing(registry, cadre["id"], lifted["id"])
    assert (await registry.post(returning(lifted["id"]), CADRE, json=RETURN)).status_code == 201
    assert_problem(await registry.post(returning(other["id"]), CADRE, json=RETURN), 404, "household_not_found")


async def test_a_repeated_return_with_its_key_is_replayed(registry, lifted):
    headers = {"Idempotency-Key": "return-1"}
    first = await registry.post(returning(lifted["id"]), json=RETURN, headers=headers)
    second = await registry.post(returning(lifted["id"]), json=RETURN, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true" and second.json() == first.json()
    assert len(await published(registry, "household.status_changed")) == 1


# --- dibao referrals --------------------------------------------------------------------------------------------------


async def refer(registry, household_id: str, caller=CITY_ADMIN, **overrides) -> dict:
    response = await registry.post(referrals_of(household_id), caller, json={**REFERRAL, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


async def test_referring_a_household(registry, lifted):
    referral = await refer(registry, lifted["id"], FENGDU)
    assert (referral["household_id"], referral["household_no"], referral["head_name"]) == (
        lifted["id"], lifted["household_no"], "张秀华",
    )  # fmt: skip
    assert (referral["referred_on"], referral["reason"], referral["referred_by"]) == (
        "2020-03-02", REFERRAL["reason"], "fengdu",
    )  # fmt: skip
    assert (referral["decision"], referral["decided_on"], referral["decided_by"]) == ("pending", None, None)
    assert (referral["county_code"], referral["township_code"]) == ("500230", "500230101")
    assert (await registry.get(referrals_of(lifted["id"]), HR)).json() == [referral]
    [audit] = await audit_entries(registry, AUDITOR, entity_id=referral["id"])
    assert (audit["action"], audit["actor"]) == ("dibao_referral.create", "fengdu")
    assert audit["changes"] == {"household_id": lifted["id"], "referred_on": "2020-03-02", "reason": REFERRAL["reason"]}


async def test_civil_affairs_approve_and_the_household_gets_dibao(registry, lifted):
    referral = await refer(registry, lifted["id"])
    response = await registry.post(decision_of(referral["id"]), CIVIL, json=APPROVE)
    assert response.status_code == 200, response.text
    decided = response.json()
    assert (decided["decision"], decided["decided_on"], decided["decision_note"], decided["decided_by"]) == (
        "approved", "2020-03-10", "符合条件", "civil",
    )  # fmt: skip
    assert (await household_of(registry, lifted["id"]))["dibao"] is True
    [audit] = await audit_entries(registry, AUDITOR, action="dibao_referral.decide")
    assert (audit["entity_id"], audit["actor"], audit["county_code"]) == (referral["id"], "civil", "500230")
    assert audit["changes"] == {
        "decision": "approved", "decided_on": "2020-03-10", "note": "符合条件", "household_dibao": [False, True],
    }  # fmt: skip


async def test_a_rejection_leaves_the_household_as_it_was_and_allows_a_new_referral(registry, lifted):
    referral = await refer(registry, lifted["id"])
    rejected = await registry.post(decision_of(referral["id"]), CIVIL, json={**APPROVE, "decision": "rejected"})
    assert rejected.json()["decision"] == "rejected"
    assert (await household_of(registry, lifted["id"]))["dibao"] is False
    again = await refer(registry, lifted["id"], referred_on="2020-04-01")
    assert [r["id"] for r in (await registry.get(referrals_of(lifted["id"]))).json()] == [again["id"], referral["id"]]


async def test_a_referral_is_decided_once(registry, lifted):
    referral = await refer(registry, lifted["id"])
    assert (await registry.post(decision_of(referral["id"]), CIVIL, json=APPROVE)).status_code == 200
    second = await registry.post(decision_of(referral["id"]), CIVIL, json={**APPROVE, "decision": "rejected"})
    problem = assert_problem(second, 409, "dibao_referral_decided")
    assert problem["title"] == "该低保推荐已有决定，不能再次决定"
    assert (await registry.get(referrals_of(lifted["id"]))).json()[0]["decision"] == "approved"


async def test_a_repeated_decision_with_its_key_is_replayed_not_refused(registry, lifted):
    referral = await refer(registry, lifted["id"])
    headers = {"Idempotency-Key": "decision-1"}
    first = await registry.post(decision_of(referral["id"]), CIVIL, json=APPROVE, headers=headers)
    second = await registry.post(decision_of(referral["id"]), CIVIL, json=APPROVE, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()


async def test_no_referral_for_a_household_on_dibao_or_with_one_pending(registry, lifted):
    on_dibao = await make_household(registry, VILLAGE, dibao=True)
    assert_problem(await registry.post(referrals_of(on_dibao["id"]), json=REFERRAL), 409, "household_has_dibao")
    await refer(registry, lifted["id"])
    assert_problem(await registry.post(referrals_of(lifted["id"]), json=REFERRAL), 409, "dibao_referral_pending")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({**APPROVE, "decided_on": "2020-03-01"}, 422, "decision_before_referral", "decided_on"),
        ({**APPROVE, "decision": "pending"}, 422, "validation_failed", "decision"),
        ({"decision": "approved"}, 422, "validation_failed", "decided_on"),
    ],
)
async def test_decision_refusals(registry, lifted, body, status, code, field):
    referral = await refer(registry, lifted["id"])
    assert_problem(await registry.post(decision_of(referral["id"]), CIVIL, json=body), status, code, field=field)


async def test_decision_on_the_referral_day_is_fine_and_tomorrow_is_not(registry, lifted):
    referral = await refer(registry, lifted["id"])
    tomorrow = {**APPROVE, "decided_on": (today() + timedelta(days=1)).isoformat()}
    assert_problem(
        await registry.post(decision_of(referral["id"]), CIVIL, json=tomorrow),
        422,
        "date_in_future",
        field="decided_on",
    )
    same_day = {**APPROVE, "decided_on": referral["referred_on"]}
    assert (await registry.post(decision_of(referral["id"]), CIVIL, json=same_day)).status_code == 200


async def test_a_referral_may_not_be_dated_tomorrow(registry, lifted):
    tomorrow = {**REFERRAL, "referred_on": (today() + timedelta(days=1)).isoformat()}
    assert_problem(
        await registry.post(referrals_of(lifted["id"]), json=tomorrow), 422, "date_in_future", field="referred_on"
    )


async def test_who_refers_and_who_decides(registry, lifted):
    assert_problem(await registry.post(referrals_of(lifted["id"]), CIVIL, json=REFERRAL), 403, "forbidden")
    referral = await refer(registry, lifted["id"], FENGDU)
    for caller in (FENGDU, CITY_ADMIN, AUDITOR):
        assert_problem(await registry.post(decision_of(referral["id"]), caller, json=APPROVE), 403, "forbidden")
    assert_problem(await registry.post(decision_of(referral["id"]), WANZHOU_CIVIL, json=APPROVE), 404,
                   "dibao_referral_not_found")  # fmt: skip
    assert_problem(await registry.post(decision_of("nope"), CIVIL, json=APPROVE), 404, "dibao_referral_not_found")


async def test_referral_scope(registry, lifted):
    assert_problem(await registry.post(referrals_of(lifted["id"]), WANZHOU, json=REFERRAL), 404, "household_not_found")
    assert_problem(await registry.get(referrals_of(lifted["id"]), WANZHOU), 404, "household_not_found")
    other = await make_household(registry, VILLAGE, dibao=False)
    cadre = await make_cadre(registry, VILLAGE, username=CADRE.subject)
    await make_pairing(registry, cadre["id"], lifted["id"])
    mine = await refer(registry, lifted["id"], CADRE)
    assert_problem(await registry.post(referrals_of(other["id"]), CADRE, json=REFERRAL), 404, "household_not_found")
    await refer(registry, other["id"])
    assert_problem(await registry.get(referrals_of(other["id"]), CADRE), 404, "household_not_found")
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{other['id']}/status-changes", CADRE), 404, "household_not_found")
    listed = (await registry.get(REFERRALS, CADRE, params={"decision": "pending"})).json()["items"]
    assert [r["id"] for r in listed] == [mine["id"]]


async def test_the_list_by_decision_is_scoped_and_pages(registry, lifted):
    wanzhou = await make_household(registry, "500101001201", dibao=False)
    other = await make_household(registry, VILLAGE, dibao=False)
    first = await refer(registry, lifted["id"])
    second = await refer(registry, wanzhou["id"])
    third = await refer(registry, other["id"])
    await registry.post(decision_of(first["id"]), CIVIL, json=APPROVE)

    async def ids(caller=CITY_ADMIN, **params) -> list[str]:
        response = await registry.get(REFERRALS, caller, params={"limit": 200, **params})
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids() == [third["id"], second["id"], first["id"]]
    assert await ids(CIVIL, decision="pending") == [third["id"], second["id"]]
    assert await ids(decision="approved") == [first["id"]]
    assert await ids(decision="rejected") == []
    assert await ids(FENGDU, decision="pending") == [third["id"]]
    assert await ids(WANZHOU) == [second["id"]]
    assert await ids(WANZHOU_CIVIL, decision="pending") == [second["id"]]
    page = (await registry.get(REFERRALS, params={"limit": 2})).json()
    rest = (await registry.get(REFERRALS, params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [r["id"] for r in page["items"] + rest["items"]] == [third["id"], second["id"], first["id"]]
    assert rest["next_cursor"] is None
    assert_problem(
        await registry.get(REFERRALS, params={"decision": "x"}), 422, "validation_failed", field="query.decision"
    )
