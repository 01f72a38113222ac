"""Assistance cadres (帮扶干部) and their pairings with households (结对帮扶), with scope on every route."""

import pytest

from tests.support.callers import AUDITOR, CITY_ADMIN, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    CADRES,
    PAIRINGS,
    assert_problem,
    audit_entries,
    cadre_body,
    field_error,
    instant,
    make_cadre,
    make_household,
    make_pairing,
    make_village,
)

CADRE = Caller("cadre-x", ("village_cadre",), ("500230101201",))


async def listed(registry, path, caller=CITY_ADMIN, **params) -> list[dict]:
    response = await registry.get(path, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


# --- cadres ----------------------------------------------------------------------------------------------------------


async def test_create_cadre(registry):
    await make_village(registry, "500230101201")
    body = cadre_body("500230101201", name="李明", username="liming")
    response = await registry.post(CADRES, FENGDU, json=body)
    assert response.status_code == 201, response.text
    cadre = response.json()
    assert (cadre["name"], cadre["unit"], cadre["position"]) == ("李明", "丰都县扶贫办", "第一书记")
    assert (cadre["region_code"], cadre["county_code"]) == ("500230101201", "500230")
    assert (cadre["username"], cadre["active"], cadre["phone"]) == ("liming", True, "13900001111")
    assert cadre["id"] and cadre["created_at"] and cadre["updated_at"]
    [entry] = await audit_entries(registry, AUDITOR, entity_id=cadre["id"])
    assert entry["action"] == "cadre.create"
    assert entry["actor"] == "fengdu"
    assert entry["changes"] == {"name": "李明", "region_code": "500230101201", "username": "liming"}


@pytest.mark.parametrize("region_code", ["500230", "500230101"])
async def test_create_cadre_at_county_or_township(registry, region_code):
    cadre = await make_cadre(registry, region_code, position=None, phone=None)
    assert (cadre["region_code"], cadre["county_code"]) == (region_code, "500230")
    assert cadre["position"] is None and cadre["phone"] is None and cadre["username"] is None


async def test_create_cadre_in_wansheng_keeps_qijiang_county(registry):
    cadre = await make_cadre(registry, "500110004")
    assert cadre["county_code"] == "500110"


async def test_get_cadre(registry):
    cadre = await make_cadre(registry, "500230")
    response = await registry.get(f"{CADRES}/{cadre['id']}", FENGDU)
    assert response.status_code == 200
    assert response.json() == cadre


async def test_cadre_phone_is_masked_without_pii_read(registry):
    cadre = await make_cadre(registry, "500230")
    assert (await registry.get(f"{CADRES}/{cadre['id']}", HR)).json()["phone"] == "139****1111"
    assert [c["phone"] for c in await listed(registry, CADRES, HR)] == ["139****1111"]


async def test_get_unknown_cadre_is_404(registry):
    problem = assert_problem(await registry.get(f"{CADRES}/nope"), 404, "cadre_not_found")
    assert problem["title"] == "未找到该帮扶干部"


async def test_list_cadres_newest_first_and_by_active(registry):
    first = await make_cadre(registry, "500230")
    second = await make_cadre(registry, "500230101")
    third = await make_cadre(registry, "500101")
    await registry.patch(f"{CADRES}/{second['id']}", json={"active": False})
    assert [c["id"] for c in await listed(registry, CADRES)] == [third["id"], second["id"], first["id"]]
    assert [c["id"] for c in await listed(registry, CADRES, active="true")] == [third["id"], first["id"]]
    assert [c["id"] for c in await listed(registry, CADRES, active="false")] == [second["id"]]


async def test_list_cadres_pages(registry):
    made = [(await make_cadre(registry, "500230"))["id"] for _ in range(5)]
    first = (await registry.get(CADRES, params={"limit": 2})).json()
    second = (await registry.get(CADRES, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    third = (await registry.get(CADRES, params={"limit": 2, "cursor": second["next_cursor"]})).json()
    assert third["next_cursor"] is None
    seen = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert seen == sorted(made, reverse=True)


async def test_list_cadres_is_scoped(registry):
    county = await make_cadre(registry, "500230")
    township = await make_cadre(registry, "500230101")
    other_township = await make_cadre(registry, "500230102")
    wanzhou = await make_cadre(registry, "500101")

    def ids(cadres):
        return {c["id"] for c in cadres}

    assert ids(await listed(registry, CADRES, FENGDU)) == {county["id"], township["id"], other_township["id"]}
    assert ids(await listed(registry, CADRES, HUWEI_TOWNSHIP)) == {township["id"]}
    assert ids(await listed(registry, CADRES, WANZHOU)) == {wanzhou["id"]}
    assert_problem(await registry.get(f"{CADRES}/{county['id']}", WANZHOU), 404, "cadre_not_found")
    assert_problem(await registry.get(f"{CADRES}/{county['id']}", HUWEI_TOWNSHIP), 404, "cadre_not_found")


async def test_village_cadre_sees_only_own_record(registry):
    me = await make_cadre(registry, "500230101", username=CADRE.subject)
    colleague = await make_cadre(registry, "500230101", username="cadre-y")
    assert [c["id"] for c in await listed(registry, CADRES, CADRE)] == [me["id"]]
    assert (await registry.get(f"{CADRES}/{me['id']}", CADRE)).status_code == 200
    assert_problem(await registry.get(f"{CADRES}/{colleague['id']}", CADRE), 404, "cadre_not_found")


async def test_username_must_be_unique(registry):
    await make_cadre(registry, "500230", username="liming")
    response = await registry.post(CADRES, json=cadre_body("500101", username="liming"))
    problem = assert_problem(response, 409, "cadre_username_duplicate", field="username")
    assert problem["title"] == "该登录名已绑定其他干部"
    assert len(await listed(registry, CADRES)) == 1


async def test_many_cadres_may_have_no_username(registry):
    await make_cadre(registry, "500230")
    await make_cadre(registry, "500230")
    assert len(await listed(registry, CADRES)) == 2


@pytest.mark.parametrize("region_code", ["500230199", "500000", "500230101299"])
async def test_cadre_region_must_exist_below_the_city(registry, region_code):
    response = await registry.post(CADRES, json=cadre_body(region_code))
    assert_problem(response, 404, "region_not_found", field="region_code")


async def test_officer_cannot_create_cadre_outside_scope(registry):
    response = await registry.post(CADRES, WANZHOU, json=cadre_body("500230"))
    problem = assert_problem(response, 403, "out_of_scope", field="region_code")
    assert field_error(problem, "region_code")["message"] == "该地区不在您的管辖范围内"
    response = await registry.post(CADRES, HUWEI_TOWNSHIP, json=cadre_body("500230102"))
    assert_problem(response, 403, "out_of_scope", field="region_code")
    assert await listed(registry, CADRES) == []


@pytest.mark.parametrize("caller", [HR, AUDITOR, CADRE])
async def test_readers_cannot_manage_cadres(registry, caller):
    response = await registry.post(CADRES, caller, json=cadre_body("500230"))
    problem = assert_problem(response, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 cadres:manage）"
    cadre = await make_cadre(registry, "500230", username=None if caller is not CADRE else CADRE.subject)
    response = await registry.patch(f"{CADRES}/{cadre['id']}", caller, json={"position": "组长"})
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"region_code": "5002"}, "region_code", "region_code_invalid"),
        ({"name": ""}, "name", "string_too_short"),
        ({"unit": "x" * 101}, "unit", "string_too_long"),
        ({"phone": "12345"}, "phone", "phone_invalid"),
        ({"active": False}, "active", "extra_forbidden"),
    ],
)
async def test_create_cadre_validation(registry, overrides, field, code):
    response = await registry.post(CADRES, json={**cadre_body("500230"), **overrides})
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_patch_cadre(registry):
    cadre = await make_cadre(registry, "500230")
    response = await registry.patch(
        f"{CADRES}/{cadre['id']}",
        FENGDU,
        json={"position": "驻村工作队员", "unit": "丰都县农业农村委", "active": False},
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["position"], patched["unit"], patched["active"]) == ("驻村工作队员", "丰都县农业农村委", False)
    assert (patched["name"], patched["phone"]) == (cadre["name"], cadre["phone"])
    assert instant(patched["updated_at"]) > instant(cadre["updated_at"])
    assert (await registry.get(f"{CADRES}/{cadre['id']}")).json() == patched
    [entry] = await audit_entries(registry, AUDITOR, entity_id=cadre["id"], action="cadre.update")
    assert entry["changes"] == {
        "position": ["第一书记", "驻村工作队员"],
        "unit": ["丰都县扶贫办", "丰都县农业农村委"],
        "active": [True, False],
    }


async def test_patch_cadre_phone_is_audited_without_the_number(registry):
    cadre = await make_cadre(registry, "500230")
    response = await registry.patch(f"{CADRES}/{cadre['id']}", json={"phone": "13712345678"})
    assert response.json()["phone"] == "13712345678"
    [entry] = await audit_entries(registry, AUDITOR, entity_id=cadre["id"], action="cadre.update")
    assert entry["changes"] == {"phone": "changed"}
    cleared = await registry.patch(f"{CADRES}/{cadre['id']}", json={"phone": None})
    assert cleared.json()["phone"] is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "改名"}, "name", "extra_forbidden"),
        ({"username": "someone"}, "username", "extra_forbidden"),
        ({"region_code": "500101"}, "region_code", "extra_forbidden"),
        ({"active": "perhaps"}, "active", "bool_parsing"),
    ],
)
async def test_patch_cadre_validation(registry, body, field, code):
    cadre = await make_cadre(registry, "500230")
    response = await registry.patch(f"{CADRES}/{cadre['id']}", json=body)
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code
    assert (await registry.get(f"{CADRES}/{cadre['id']}")).json() == cadre


@pytest.mark.parametrize("field", ["unit", "active"])
async def test_patch_cadre_required_field_to_null_is_refused(registry, field):
    cadre = await make_cadre(registry, "500230")
    response = await registry.patch(f"{CADRES}/{cadre['id']}", json={field: None})
    assert_problem(response, 422, "validation_failed", field=field)


async def test_officer_cannot_patch_cadre_outside_scope(registry):
    cadre = await make_cadre(registry, "500230")
    response = await registry.patch(f"{CADRES}/{cadre['id']}", WANZHOU, json={"active": False})
    assert_problem(response, 404, "cadre_not_found")
    assert (await registry.get(f"{CADRES}/{cadre['id']}")).json()["active"] is True


# --- pairings --------------------------------------------------------------------------------------------------------


@pytest.fixture
async def pair(registry) -> dict:
    household = await make_household(registry, "500230101201")
    cadre = await make_cadre(registry, "500230101", username=CADRE.subject)
    return {"household": household, "cadre": cadre}


async def test_create_pairing(registry, pair):
    body = {"cadre_id": pair["cadre"]["id"], "household_id": pair["household"]["id"], "start_date": "2020-02-09"}
    response = await registry.post(PAIRINGS, HUWEI_TOWNSHIP, json=body)
    assert response.status_code == 201, response.text
    pairing = response.json()
    assert pairing["cadre_id"] == pair["cadre"]["id"]
    assert pairing["cadre_name"] == pair["cadre"]["name"]
    assert pairing["household_id"] == pair["household"]["id"]
    assert pairing["household_no"] == pair["household"]["household_no"]
    assert pairing["county_code"] == "500230"
    assert (pairing["start_date"], pairing["end_date"], pairing["active"]) == ("2020-02-09", None, True)
    assert (await registry.get(f"{PAIRINGS}/{pairing['id']}")).json() == pairing
    [entry] = await audit_entries(registry, AUDITOR, entity_id=pairing["id"])
    assert entry["action"] == "pairing.create"
    assert entry["changes"] == body


async def test_duplicate_open_pairing_is_409(registry, pair):
    await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    body = {"cadre_id": pair["cadre"]["id"], "household_id": pair["household"]["id"], "start_date": "2020-03-01"}
    response = await registry.post(PAIRINGS, json=body)
    problem = assert_problem(response, 409, "pairing_exists", field="household_id")
    assert problem["title"] == "该干部与该户已有结对关系"
    assert len(await listed(registry, PAIRINGS)) == 1


async def test_cadre_may_be_paired_again_after_the_pairing_ended(registry, pair):
    first = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    await registry.post(f"{PAIRINGS}/{first['id']}/end", json={"end_date": "2020-06-30"})
    again = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"], start_date="2020-09-01")
    assert again["id"] != first["id"]
    assert again["active"] is True


async def test_one_household_may_have_several_cadres(registry, pair):
    other = await make_cadre(registry, "500230101")
    await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    await make_pairing(registry, other["id"], pair["household"]["id"])
    assert len(await listed(registry, PAIRINGS, household_id=pair["household"]["id"])) == 2


async def test_pairing_needs_a_known_cadre_and_household(registry, pair):
    body = {"cadre_id": "nope", "household_id": pair["household"]["id"], "start_date": "2020-02-09"}
    assert_problem(await registry.post(PAIRINGS, json=body), 404, "cadre_not_found", field="cadre_id")
    body = {"cadre_id": pair["cadre"]["id"], "household_id": "nope", "start_date": "2020-02-09"}
    assert_problem(await registry.post(PAIRINGS, json=body), 404, "household_not_found", field="household_id")


async def test_inactive_cadre_cannot_be_paired(registry, pair):
    await registry.patch(f"{CADRES}/{pair['cadre']['id']}", json={"active": False})
    body = {"cadre_id": pair["cadre"]["id"], "household_id": pair["household"]["id"], "start_date": "2020-02-09"}
    problem = assert_problem(await registry.post(PAIRINGS, json=body), 422, "cadre_inactive", field="cadre_id")
    assert problem["title"] == "该干部已停用"


async def test_officer_cannot_pair_outside_scope(registry, pair):
    wanzhou_cadre = await make_cadre(registry, "500101")
    wanzhou_household = await make_household(registry, "500101001201")
    body = {"cadre_id": wanzhou_cadre["id"], "household_id": pair["household"]["id"], "start_date": "2020-02-09"}
    assert_problem(await registry.post(PAIRINGS, FENGDU, json=body), 404, "cadre_not_found", field="cadre_id")
    body = {"cadre_id": pair["cadre"]["id"], "household_id": wanzhou_household["id"], "start_date": "2020-02-09"}
    assert_problem(await registry.post(PAIRINGS, FENGDU, json=body), 404, "household_not_found", field="household_id")
    assert await listed(registry, PAIRINGS) == []


@pytest.mark.parametrize("caller", [HR, AUDITOR, CADRE])
async def test_readers_cannot_create_or_end_pairings(registry, pair, caller):
    body = {"cadre_id": pair["cadre"]["id"], "household_id": pair["household"]["id"], "start_date": "2020-02-09"}
    assert_problem(await registry.post(PAIRINGS, caller, json=body), 403, "forbidden")
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    ended = await registry.post(f"{PAIRINGS}/{pairing['id']}/end", caller, json={"end_date": "2020-12-31"})
    assert_problem(ended, 403, "forbidden")
    assert (await registry.get(f"{PAIRINGS}/{pairing['id']}")).json()["active"] is True


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"start_date": "2020-02-30"}, "start_date", "date_from_datetime_parsing"),
        ({"start_date": None}, "start_date", "date_type"),
        ({"note": "x"}, "note", "extra_forbidden"),
    ],
)
async def test_create_pairing_validation(registry, pair, body, field, code):
    full = {"cadre_id": pair["cadre"]["id"], "household_id": pair["household"]["id"], "start_date": "2020-02-09"}
    response = await registry.post(PAIRINGS, json={**full, **body})
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_end_pairing(registry, pair):
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    response = await registry.post(f"{PAIRINGS}/{pairing['id']}/end", FENGDU, json={"end_date": "2020-12-31"})
    assert response.status_code == 200, response.text
    ended = response.json()
    assert (ended["active"], ended["end_date"], ended["start_date"]) == (False, "2020-12-31", "2020-02-09")
    assert (ended["cadre_name"], ended["household_no"]) == (pairing["cadre_name"], pairing["household_no"])
    assert (await registry.get(f"{PAIRINGS}/{pairing['id']}")).json() == ended
    [entry] = await audit_entries(registry, AUDITOR, entity_id=pairing["id"], action="pairing.end")
    assert entry["changes"] == {"end_date": "2020-12-31"}
    assert entry["actor"] == "fengdu"


async def test_pairing_may_end_on_its_first_day(registry, pair):
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    response = await registry.post(f"{PAIRINGS}/{pairing['id']}/end", json={"end_date": "2020-02-09"})
    assert response.status_code == 200
    assert response.json()["end_date"] == "2020-02-09"


async def test_end_before_start_is_422(registry, pair):
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    response = await registry.post(
        f"{PAIRINGS}/{pairing['id']}/end", json={"end_date": "2020-02-08"}, headers={"Accept-Language": "en"}
    )
    problem = assert_problem(response, 422, "end_before_start", field="end_date")
    assert problem["title"] == "The end date is before the start date"
    assert (await registry.get(f"{PAIRINGS}/{pairing['id']}")).json() == pairing


async def test_ending_twice_is_409(registry, pair):
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    await registry.post(f"{PAIRINGS}/{pairing['id']}/end", json={"end_date": "2020-12-31"})
    again = await registry.post(f"{PAIRINGS}/{pairing['id']}/end", json={"end_date": "2021-01-31"})
    problem = assert_problem(again, 409, "pairing_ended")
    assert problem["title"] == "该结对关系已结束"
    assert (await registry.get(f"{PAIRINGS}/{pairing['id']}")).json()["end_date"] == "2020-12-31"


async def test_end_unknown_pairing_is_404(registry):
    response = await registry.post(f"{PAIRINGS}/nope/end", json={"end_date": "2020-12-31"})
    assert_problem(response, 404, "pairing_not_found")
    assert_problem(await registry.get(f"{PAIRINGS}/nope"), 404, "pairing_not_found")


async def test_end_pairing_validation(registry, pair):
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    response = await registry.post(f"{PAIRINGS}/{pairing['id']}/end", json={})
    problem = assert_problem(response, 422, "validation_failed", field="end_date")
    assert field_error(problem, "end_date")["code"] == "missing"


async def test_list_pairings_with_filters(registry, pair):
    other_cadre = await make_cadre(registry, "500230101")
    other_household = await make_household(registry, "500230101201")
    a = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    b = await make_pairing(registry, pair["cadre"]["id"], other_household["id"])
    c = await make_pairing(registry, other_cadre["id"], pair["household"]["id"])
    await registry.post(f"{PAIRINGS}/{b['id']}/end", json={"end_date": "2020-12-31"})

    def ids(items):
        return [p["id"] for p in items]

    assert ids(await listed(registry, PAIRINGS)) == [c["id"], b["id"], a["id"]]
    assert ids(await listed(registry, PAIRINGS, cadre_id=pair["cadre"]["id"])) == [b["id"], a["id"]]
    assert ids(await listed(registry, PAIRINGS, household_id=pair["household"]["id"])) == [c["id"], a["id"]]
    assert ids(await listed(registry, PAIRINGS, active="true")) == [c["id"], a["id"]]
    assert ids(await listed(registry, PAIRINGS, active="false")) == [b["id"]]
    assert ids(await listed(registry, PAIRINGS, cadre_id=pair["cadre"]["id"], active="true")) == [a["id"]]
    first = (await registry.get(PAIRINGS, params={"limit": 2})).json()
    rest = (await registry.get(PAIRINGS, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ids(first["items"] + rest["items"]) == [c["id"], b["id"], a["id"]]
    assert rest["next_cursor"] is None


async def test_pairings_are_scoped(registry, pair):
    pairing = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    shetan_household = await make_household(registry, "500230102201")
    shetan_cadre = await make_cadre(registry, "500230102")
    shetan = await make_pairing(registry, shetan_cadre["id"], shetan_household["id"])
    assert {p["id"] for p in await listed(registry, PAIRINGS, FENGDU)} == {pairing["id"], shetan["id"]}
    assert [p["id"] for p in await listed(registry, PAIRINGS, HUWEI_TOWNSHIP)] == [pairing["id"]]
    assert await listed(registry, PAIRINGS, WANZHOU) == []
    assert_problem(await registry.get(f"{PAIRINGS}/{pairing['id']}", WANZHOU), 404, "pairing_not_found")
    ended = await registry.post(f"{PAIRINGS}/{pairing['id']}/end", WANZHOU, json={"end_date": "2020-12-31"})
    assert_problem(ended, 404, "pairing_not_found")
    assert (await registry.get(f"{PAIRINGS}/{pairing['id']}")).json()["active"] is True


async def test_village_cadre_sees_only_own_pairings(registry, pair):
    mine = await make_pairing(registry, pair["cadre"]["id"], pair["household"]["id"])
    colleague = await make_cadre(registry, "500230101", username="cadre-y")
    theirs = await make_pairing(registry, colleague["id"], pair["household"]["id"])
    assert [p["id"] for p in await listed(registry, PAIRINGS, CADRE)] == [mine["id"]]
    assert (await registry.get(f"{PAIRINGS}/{mine['id']}", CADRE)).status_code == 200
    assert_problem(await registry.get(f"{PAIRINGS}/{theirs['id']}", CADRE), 404, "pairing_not_found")
