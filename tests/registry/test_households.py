"""Households (建档立卡户) and persons: every route, masking, filters, pagination, validation and conflicts."""

import json
from datetime import date

import pytest

from tests.support.callers import AUDITOR, CITY_ADMIN, CIVIL, FENGDU, HR, HUWEI_TOWNSHIP
from tests.support.registry import (
    HOUSEHOLDS,
    PERSONS,
    assert_problem,
    audit_entries,
    field_error,
    household_body,
    id_number,
    instant,
    make_household,
    make_village,
    masked,
)

VILLAGE = "500230101201"  # a village of 虎威镇, 丰都县


def member(name: str = "李小明", relation: str = "child", **overrides) -> dict:
    return {"name": name, "id_number": id_number("500230", "20100606"), "relation": relation, **overrides}


async def post_household(registry, body: dict, caller=CITY_ADMIN, **kwargs):
    await make_village(registry, body["village_code"])
    return await registry.post(HOUSEHOLDS, caller, json=body, **kwargs)


async def listed_ids(registry, caller=CITY_ADMIN, **params) -> list[str]:
    response = await registry.get(HOUSEHOLDS, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    return [h["id"] for h in page["items"]]


# --- create ----------------------------------------------------------------------------------------------------------


async def test_create_household_returns_it_with_members(registry):
    body = household_body(VILLAGE, address="虎威镇红岩村3组")
    response = await post_household(registry, body)
    assert response.status_code == 201, response.text
    household = response.json()
    assert household["household_no"] == body["household_no"]
    assert household["village_code"] == VILLAGE
    assert household["township_code"] == "500230101"
    assert household["county_code"] == "500230"
    assert (household["status"], household["attribute"], household["dibao"]) == ("not_lifted", "dibao", True)
    assert household["area_class"] == "rural"
    assert household["address"] == "虎威镇红岩村3组"
    assert household["head_name"] == "张秀华"
    assert household["member_count"] == 2
    assert household["created_at"] and household["updated_at"]
    head, spouse = household["members"]
    assert (head["name"], head["relation"]) == ("张秀华", "head")
    assert (spouse["name"], spouse["relation"]) == ("李明", "spouse")
    for out, sent in zip(household["members"], body["members"], strict=True):
        assert out["household_id"] == household["id"]
        assert out["id_number"] == sent["id_number"]
        assert out["labour_capacity"] == "ordinary"
        assert out["migrant_status"] == "not_working"
        assert out["phone"] is None
    assert head["birth_date"] == "1970-01-01"
    assert spouse["birth_date"] == "1975-05-05"
    assert head["gender"] == ("male" if int(body["members"][0]["id_number"][16]) % 2 else "female")


async def test_member_fields_and_lower_case_x_are_kept(registry):
    body = household_body(
        VILLAGE,
        members=[
            {
                "name": "王芳",
                "id_number": "11010519491231002x",
                "relation": "head",
                "labour_capacity": "lost",
                "migrant_status": "stranded",
                "phone": "+86 139 0000 2222",
            }
        ],
    )
    response = await post_household(registry, body)
    assert response.status_code == 201, response.text
    [head] = response.json()["members"]
    assert head["id_number"] == "11010519491231002X"
    assert (head["gender"], head["birth_date"]) == ("female", "1949-12-31")
    assert (head["labour_capacity"], head["migrant_status"]) == ("lost", "stranded")
    assert head["phone"] == "13900002222"
    assert response.json()["member_count"] == 1


async def test_household_without_phone(registry):
    response = await post_household(registry, household_body(VILLAGE, phone=None))
    assert response.status_code == 201, response.text
    assert response.json()["phone"] is None


async def test_create_is_audited_without_personal_data(registry):
    body = household_body(VILLAGE)
    household = (await post_household(registry, body)).json()
    [entry] = await audit_entries(registry, AUDITOR, entity_id=household["id"], action="household.create")
    assert entry["actor"] == "admin"
    assert entry["actor_roles"] == ["city_admin"]
    assert entry["entity"] == "household"
    assert entry["county_code"] == "500230"
    assert entry["changes"] == {
        "household_no": body["household_no"],
        "village_code": VILLAGE,
        "status": "not_lifted",
        "members": [m["id"] for m in household["members"]],
    }
    everything = json.dumps(await audit_entries(registry, AUDITOR), ensure_ascii=False)
    for sent in body["members"]:
        assert sent["id_number"] not in everything
    assert body["phone"] not in everything


async def test_township_officer_creates_in_own_township(registry):
    body = household_body(VILLAGE)
    response = await post_household(registry, body, HUWEI_TOWNSHIP)
    assert response.status_code == 201, response.text
    assert [m["id_number"] for m in response.json()["members"]] == [masked(m["id_number"]) for m in body["members"]]


async def test_officer_cannot_create_outside_scope(registry):
    await make_village(registry, "500230102201")
    response = await registry.post(HOUSEHOLDS, HUWEI_TOWNSHIP, json=household_body("500230102201"))
    problem = assert_problem(response, 403, "out_of_scope", field="village_code")
    assert problem["title"] == "该地区不在您的管辖范围内"
    assert await listed_ids(registry) == []


# --- masking ---------------------------------------------------------------------------------------------------------


async def test_city_admin_sees_full_id_numbers_and_phone(registry):
    body = household_body(VILLAGE)
    household = await make_household(registry, VILLAGE, members=body["members"])
    fetched = (await registry.get(f"{HOUSEHOLDS}/{household['id']}", CITY_ADMIN)).json()
    assert [m["id_number"] for m in fetched["members"]] == [m["id_number"] for m in body["members"]]
    assert fetched["phone"] == "13812341234"


@pytest.mark.parametrize("caller", [HR, HUWEI_TOWNSHIP, AUDITOR])
async def test_callers_without_pii_read_see_masked_values(registry, caller):
    body = household_body(VILLAGE, members=[member("张秀华", "head", phone="13700001234")])
    household = await make_household(registry, VILLAGE, members=body["members"])
    fetched = (await registry.get(f"{HOUSEHOLDS}/{household['id']}", caller)).json()
    [head] = fetched["members"]
    number = body["members"][0]["id_number"]
    assert head["id_number"] == masked(number)
    assert head["id_number"][6:14] == "********"
    assert head["phone"] == "137****1234"
    assert fetched["phone"] == "138****1234"
    listed = (await registry.get(HOUSEHOLDS, caller)).json()["items"]
    assert [h["phone"] for h in listed] == ["138****1234"]
    person = (await registry.get(f"{PERSONS}/{head['id']}", caller)).json()
    assert person["id_number"] == masked(number)
    assert person["phone"] == "137****1234"


@pytest.mark.parametrize("caller", [CITY_ADMIN, FENGDU, CIVIL])
async def test_callers_with_pii_read_see_full_values(registry, caller):
    body = household_body(VILLAGE)
    household = await make_household(registry, VILLAGE, members=body["members"])
    fetched = (await registry.get(f"{HOUSEHOLDS}/{household['id']}", caller)).json()
    assert [m["id_number"] for m in fetched["members"]] == [m["id_number"] for m in body["members"]]
    assert fetched["phone"] == "13812341234"


async def test_unmasked_reads_are_audited_masked_ones_not(registry):
    household = await make_household(registry, VILLAGE)
    await registry.get(f"{HOUSEHOLDS}/{household['id']}", HR)
    assert await audit_entries(registry, AUDITOR, action="pii.read", actor="hr") == []
    await registry.get(f"{HOUSEHOLDS}/{household['id']}", CIVIL)
    [entry] = await audit_entries(registry, AUDITOR, action="pii.read", actor="civil")
    assert (entry["entity"], entry["entity_id"]) == ("household", household["id"])
    assert entry["changes"] == {"ids": [household["id"]]}
    person_id = household["members"][0]["id"]
    await registry.get(f"{PERSONS}/{person_id}", CIVIL)
    reads = await audit_entries(registry, AUDITOR, action="pii.read", entity_id=person_id)
    assert [(e["entity"], e["actor"]) for e in reads] == [("person", "civil")]


# --- get -------------------------------------------------------------------------------------------------------------


async def test_get_household(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.get(f"{HOUSEHOLDS}/{household['id']}")
    assert response.status_code == 200
    assert response.json() == household


async def test_get_unknown_household_is_404(registry):
    response = await registry.get(f"{HOUSEHOLDS}/01a22531-0000-7000-8000-000000000000")
    problem = assert_problem(response, 404, "household_not_found")
    assert problem["title"] == "未找到该贫困户"
    english = await registry.get(f"{HOUSEHOLDS}/nope", headers={"Accept-Language": "en"})
    assert assert_problem(english, 404, "household_not_found")["title"] == "Household not found"


# --- list and filters ------------------------------------------------------------------------------------------------


@pytest.fixture
async def spread(registry) -> dict[str, dict]:
    """Households across regions, statuses and attributes, by a short name."""
    made = {
        "huwei": await make_household(registry, "500230101201"),
        "huwei_lifted": await make_household(
            registry, "500230101202", status="lifted", attribute="ordinary", dibao=False
        ),
        "shetan": await make_household(registry, "500230102201", attribute="destitute", dibao=False),
        "wanzhou": await make_household(registry, "500101001201", status="returned"),
        "wansheng": await make_household(registry, "500110004201", attribute="ordinary"),
        "gunan": await make_household(registry, "500110001201", status="lifted"),
    }
    return made


def ids(spread, *names) -> list[str]:
    """The ids of these households, newest first as lists are."""
    return sorted((spread[n]["id"] for n in names), reverse=True)


async def test_list_is_newest_first(registry, spread):
    assert await listed_ids(registry) == ids(spread, *spread)


@pytest.mark.parametrize(
    ("region", "names"),
    [
        ("500000", ["huwei", "huwei_lifted", "shetan", "wanzhou", "wansheng", "gunan"]),
        ("500230", ["huwei", "huwei_lifted", "shetan"]),
        ("500230101", ["huwei", "huwei_lifted"]),
        ("500230101202", ["huwei_lifted"]),
        ("500101", ["wanzhou"]),
        ("wansheng", ["wansheng"]),
        ("500110004", ["wansheng"]),
        ("500231", []),
    ],
)
async def test_list_by_region(registry, spread, region, names):
    assert await listed_ids(registry, region=region) == ids(spread, *names)


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"status": "lifted"}, ["huwei_lifted", "gunan"]),
        ({"status": "returned"}, ["wanzhou"]),
        ({"status": "lifted_no_policy"}, []),
        ({"attribute": "ordinary"}, ["huwei_lifted", "wansheng"]),
        ({"attribute": "destitute"}, ["shetan"]),
        ({"dibao": "true"}, ["huwei", "wanzhou", "wansheng", "gunan"]),
        ({"dibao": "false"}, ["huwei_lifted", "shetan"]),
        ({"region": "500230", "dibao": "true"}, ["huwei"]),
        ({"region": "500230", "status": "not_lifted", "attribute": "destitute"}, ["shetan"]),
    ],
)
async def test_list_filters(registry, spread, params, names):
    assert await listed_ids(registry, **params) == ids(spread, *names)


async def test_list_region_filter_stays_within_scope(registry, spread):
    assert await listed_ids(registry, FENGDU, region="500101") == []
    assert await listed_ids(registry, FENGDU, region="500000") == ids(spread, "huwei", "huwei_lifted", "shetan")


async def test_list_summaries_have_no_members(registry, spread):
    [item] = (await registry.get(HOUSEHOLDS, params={"region": "500101"})).json()["items"]
    expected = {k: v for k, v in spread["wanzhou"].items() if k != "members"}
    assert item == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "poor"}, "query.status"),
        ({"attribute": "rich"}, "query.attribute"),
        ({"dibao": "maybe"}, "query.dibao"),
        ({"region": "5" * 13}, "query.region"),
        ({"updated_since": "yesterday"}, "query.updated_since"),
    ],
)
async def test_list_validation(registry, params, field):
    assert_problem(await registry.get(HOUSEHOLDS, params=params), 422, "validation_failed", field=field)


async def test_pagination_walks_every_household_once(registry):
    made = [(await make_household(registry, VILLAGE))["id"] for _ in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await registry.get(HOUSEHOLDS, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 3
    assert pages == 3
    assert seen == sorted(made, reverse=True)
    assert len(set(seen)) == 7


async def test_pagination_keeps_the_filters(registry):
    lifted = [(await make_household(registry, VILLAGE, status="lifted"))["id"] for _ in range(3)]
    await make_household(registry, VILLAGE)
    first = (await registry.get(HOUSEHOLDS, params={"status": "lifted", "limit": 2})).json()
    second = (
        await registry.get(HOUSEHOLDS, params={"status": "lifted", "limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [h["id"] for h in first["items"] + second["items"]] == sorted(lifted, reverse=True)
    assert second["next_cursor"] is None


async def test_exactly_one_full_page_has_no_next_cursor(registry):
    for _ in range(2):
        await make_household(registry, VILLAGE)
    page = (await registry.get(HOUSEHOLDS, params={"limit": 2})).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"] is None


async def test_updated_since_returns_only_later_changes(registry):
    first = await make_household(registry, VILLAGE)
    second = await make_household(registry, VILLAGE)
    assert await listed_ids(registry, updated_since=first["updated_at"]) == [second["id"]]
    assert await listed_ids(registry, updated_since=second["updated_at"]) == []
    patched = await registry.patch(f"{HOUSEHOLDS}/{first['id']}", json={"status": "lifted", "status_reason": "x"})
    assert patched.status_code == 200
    assert await listed_ids(registry, updated_since=second["updated_at"]) == [first["id"]]
    assert await listed_ids(registry, updated_since="2000-01-01T00:00:00+08:00") == [second["id"], first["id"]]


async def test_updated_since_honours_the_offset(registry):
    household = await make_household(registry, VILLAGE)
    # 2000-01-01 08:00 in Beijing is midnight UTC: everything since is newer.
    assert await listed_ids(registry, updated_since="2000-01-01T08:00:00+08:00") == [household["id"]]
    assert await listed_ids(registry, updated_since="2999-01-01T00:00:00Z") == []


async def test_updated_since_without_offset_is_refused_not_a_crash(registry):
    await make_household(registry, VILLAGE)
    response = await registry.get(HOUSEHOLDS, params={"updated_since": "2020-01-01T00:00:00"})
    assert_problem(response, 422, "validation_failed", field="query.updated_since")


# --- update a household ----------------------------------------------------------------------------------------------


async def test_patch_household(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(
        f"{HOUSEHOLDS}/{household['id']}",
        FENGDU,
        json={"status": "lifted", "status_reason": "稳定增收", "dibao": False, "address": "新址"},
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["status"], patched["dibao"], patched["address"]) == ("lifted", False, "新址")
    assert patched["attribute"] == household["attribute"]
    assert patched["members"] == household["members"]
    assert instant(patched["updated_at"]) > instant(household["updated_at"])
    assert patched["created_at"] == household["created_at"]
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json() == patched


async def test_patch_household_writes_the_diff_to_the_audit_log(registry):
    household = await make_household(registry, VILLAGE)
    body = {"status": "lifted", "status_reason": "稳定增收", "dibao": True}
    await registry.patch(f"{HOUSEHOLDS}/{household['id']}", FENGDU, json=body)
    [entry] = await audit_entries(registry, CITY_ADMIN, entity_id=household["id"], action="household.update")
    assert entry["actor"] == "fengdu"
    assert entry["actor_roles"] == ["county_officer"]
    assert entry["county_code"] == "500230"
    assert entry["entity"] == "household"
    assert entry["changes"] == {"status": ["not_lifted", "lifted"], "status_reason": "稳定增收"}  # dibao was true
    assert entry["request_id"]


async def test_patch_phone_is_audited_without_the_number(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", json={"phone": "13598765432"})
    assert response.json()["phone"] == "13598765432"
    masked_view = (await registry.get(f"{HOUSEHOLDS}/{household['id']}", HR)).json()
    assert masked_view["phone"] == "135****5432"
    [entry] = await audit_entries(registry, AUDITOR, entity_id=household["id"], action="household.update")
    assert entry["changes"] == {"phone": "changed"}
    assert "13598765432" not in json.dumps(entry)


async def test_patch_phone_to_null_clears_it(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", json={"phone": None})
    assert response.status_code == 200
    assert response.json()["phone"] is None
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}", HR)).json()["phone"] is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"status": "poor"}, "status", "enum"),
        ({"household_no": "X123456"}, "household_no", "extra_forbidden"),
        ({"village_code": "500230102201"}, "village_code", "extra_forbidden"),
        ({"phone": "123"}, "phone", "phone_invalid"),
        ({"address": "x" * 201}, "address", "string_too_long"),
    ],
)
async def test_patch_household_validation(registry, body, field, code):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", json=body)
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json() == household


@pytest.mark.parametrize("field", ["status", "attribute", "dibao", "area_class"])
async def test_patch_household_required_field_to_null_is_refused(registry, field):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", json={field: None})
    assert_problem(response, 422, "validation_failed", field=field)


async def test_patch_unknown_household_is_404(registry):
    response = await registry.patch(f"{HOUSEHOLDS}/nope", json={"status": "lifted"})
    assert_problem(response, 404, "household_not_found")


@pytest.mark.parametrize("caller", [HR, AUDITOR, CIVIL])
async def test_readers_cannot_patch(registry, caller):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", caller, json={"status": "lifted"})
    problem = assert_problem(response, 403, "forbidden")
    assert "registry:update" in problem["title"]
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()["status"] == "not_lifted"


# --- members ---------------------------------------------------------------------------------------------------------


async def test_add_member(registry):
    household = await make_household(registry, VILLAGE)
    body = member("张小华", "child", labour_capacity="none")
    response = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", FENGDU, json=body)
    assert response.status_code == 201, response.text
    person = response.json()
    assert person["household_id"] == household["id"]
    assert (person["name"], person["relation"], person["labour_capacity"]) == ("张小华", "child", "none")
    assert person["id_number"] == body["id_number"]
    assert person["birth_date"] == "2010-06-06"
    after = (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()
    assert after["member_count"] == 3
    assert [m["id"] for m in after["members"]] == [m["id"] for m in household["members"]] + [person["id"]]
    assert instant(after["updated_at"]) > instant(household["updated_at"])
    [entry] = await audit_entries(registry, AUDITOR, entity_id=person["id"], action="person.create")
    assert entry["changes"] == {"household_id": household["id"], "relation": "child"}


async def test_township_officer_adds_member_and_sees_it_masked(registry):
    household = await make_household(registry, VILLAGE)
    body = member()
    response = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", HUWEI_TOWNSHIP, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["id_number"] == masked(body["id_number"])


async def test_added_member_cannot_be_a_second_head(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", json=member(relation="head"))
    problem = assert_problem(response, 422, "head_relation_fixed", field="relation")
    assert problem["title"] == "户主关系不能在此修改"
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()["member_count"] == 2


async def test_added_member_id_number_must_be_new(registry):
    household = await make_household(registry, VILLAGE)
    taken = household["members"][1]["id_number"]
    response = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", json=member(id_number=taken))
    assert_problem(response, 409, "id_number_duplicate", field="id_number")
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()["member_count"] == 2


async def test_add_member_validation(registry):
    household = await make_household(registry, VILLAGE)
    body = member(id_number="500230201006061230", surprise=1)
    response = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", json=body)
    problem = assert_problem(response, 422, "validation_failed", field="id_number")
    assert field_error(problem, "id_number")["code"] == "id_number_invalid"
    assert field_error(problem, "surprise")["code"] == "extra_forbidden"


async def test_add_member_to_unknown_household_is_404(registry):
    response = await registry.post(f"{HOUSEHOLDS}/nope/members", json=member())
    assert_problem(response, 404, "household_not_found")


async def test_readers_cannot_add_members(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", HR, json=member())
    assert_problem(response, 403, "forbidden")


# --- persons ---------------------------------------------------------------------------------------------------------


async def test_find_person_by_id_number(registry):
    household = await make_household(registry, VILLAGE)
    spouse = household["members"][1]
    response = await registry.get(PERSONS, FENGDU, params={"id_number": spouse["id_number"]})
    assert response.status_code == 200, response.text
    assert response.json() == spouse


async def test_find_person_accepts_lower_case_x(registry):
    body = household_body(VILLAGE, members=[{"name": "王芳", "id_number": "11010519491231002X", "relation": "head"}])
    household = await make_household(registry, VILLAGE, members=body["members"])
    response = await registry.get(PERSONS, params={"id_number": "11010519491231002x"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == household["members"][0]["id"]


async def test_find_person_masked_for_hr(registry):
    household = await make_household(registry, VILLAGE)
    number = household["members"][0]["id_number"]
    response = await registry.get(PERSONS, HR, params={"id_number": number})
    assert response.status_code == 200
    assert response.json()["id_number"] == masked(number)


async def test_find_unknown_person_is_404(registry):
    await make_household(registry, VILLAGE)
    response = await registry.get(PERSONS, params={"id_number": "34052419800101001X"})
    problem = assert_problem(response, 404, "person_not_found")
    assert problem["title"] == "未找到该人员"


@pytest.mark.parametrize(
    ("params", "code"),
    [({"id_number": "110105194912310021"}, "id_number_invalid"), ({}, "missing")],
)
async def test_find_person_validation(registry, params, code):
    response = await registry.get(PERSONS, params=params)
    problem = assert_problem(response, 422, "validation_failed", field="query.id_number")
    assert field_error(problem, "query.id_number")["code"] == code


async def test_get_person(registry):
    household = await make_household(registry, VILLAGE)
    head = household["members"][0]
    response = await registry.get(f"{PERSONS}/{head['id']}")
    assert response.status_code == 200
    assert response.json() == head


async def test_get_unknown_person_is_404(registry):
    response = await registry.get(f"{PERSONS}/nope", headers={"Accept-Language": "en"})
    assert assert_problem(response, 404, "person_not_found")["title"] == "Person not found"


async def test_patch_person(registry):
    household = await make_household(registry, VILLAGE)
    spouse = household["members"][1]
    response = await registry.patch(
        f"{PERSONS}/{spouse['id']}",
        FENGDU,
        json={"migrant_status": "stranded", "labour_capacity": "weak", "phone": "13611112222", "relation": "other"},
    )
    assert response.status_code == 200, response.text
    person = response.json()
    assert (person["migrant_status"], person["labour_capacity"]) == ("stranded", "weak")
    assert (person["phone"], person["relation"]) == ("13611112222", "other")
    assert (person["id_number"], person["name"]) == (spouse["id_number"], spouse["name"])
    assert (await registry.get(f"{PERSONS}/{spouse['id']}")).json() == person
    [entry] = await audit_entries(registry, AUDITOR, entity_id=spouse["id"], action="person.update")
    assert entry["changes"] == {
        "migrant_status": ["not_working", "stranded"],
        "labour_capacity": ["ordinary", "weak"],
        "relation": ["spouse", "other"],
        "phone": "changed",
    }
    assert entry["county_code"] == "500230"


async def test_renaming_the_head_renames_the_household(registry):
    household = await make_household(registry, VILLAGE)
    head = household["members"][0]
    response = await registry.patch(f"{PERSONS}/{head['id']}", json={"name": "张秀英"})
    assert response.status_code == 200
    assert response.json()["name"] == "张秀英"
    after = (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()
    assert after["head_name"] == "张秀英"
    assert instant(after["updated_at"]) > instant(household["updated_at"])


async def test_renaming_another_member_keeps_the_head_name(registry):
    household = await make_household(registry, VILLAGE)
    await registry.patch(f"{PERSONS}/{household['members'][1]['id']}", json={"name": "李强"})
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()["head_name"] == "张秀华"


@pytest.mark.parametrize(("index", "relation"), [(0, "child"), (1, "head")])
async def test_head_relation_cannot_change(registry, index, relation):
    household = await make_household(registry, VILLAGE)
    person = household["members"][index]
    response = await registry.patch(f"{PERSONS}/{person['id']}", json={"relation": relation})
    assert_problem(response, 422, "head_relation_fixed", field="relation")
    assert (await registry.get(f"{PERSONS}/{person['id']}")).json()["relation"] == person["relation"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"id_number": "11010519491231002X"}, "id_number", "extra_forbidden"),
        ({"migrant_status": "abroad"}, "migrant_status", "enum"),
        ({"name": ""}, "name", "string_too_short"),
        ({"phone": "555"}, "phone", "phone_invalid"),
    ],
)
async def test_patch_person_validation(registry, body, field, code):
    household = await make_household(registry, VILLAGE)
    person = household["members"][1]
    response = await registry.patch(f"{PERSONS}/{person['id']}", json=body)
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code
    assert (await registry.get(f"{PERSONS}/{person['id']}")).json() == person


@pytest.mark.parametrize("field", ["name", "relation", "labour_capacity", "migrant_status"])
async def test_patch_person_required_field_to_null_is_refused(registry, field):
    household = await make_household(registry, VILLAGE)
    person = household["members"][1]
    response = await registry.patch(f"{PERSONS}/{person['id']}", json={field: None})
    assert_problem(response, 422, "validation_failed", field=field)


async def test_patch_unknown_person_is_404(registry):
    assert_problem(await registry.patch(f"{PERSONS}/nope", json={"name": "x"}), 404, "person_not_found")


async def test_readers_cannot_patch_persons(registry):
    household = await make_household(registry, VILLAGE)
    response = await registry.patch(f"{PERSONS}/{household['members'][0]['id']}", AUDITOR, json={"name": "x"})
    assert_problem(response, 403, "forbidden")


# --- validation of a new household -----------------------------------------------------------------------------------


async def test_bad_id_number_names_the_member_field(registry):
    body = household_body(VILLAGE)
    body["members"][0]["id_number"] = body["members"][0]["id_number"][:17] + (
        "0" if body["members"][0]["id_number"][17] != "0" else "1"
    )
    response = await post_household(registry, body)
    problem = assert_problem(response, 422, "validation_failed", field="members.0.id_number")
    assert problem["title"] == "请求数据校验失败"
    assert problem["detail"] == "members.0.id_number"
    assert field_error(problem, "members.0.id_number") == {
        "field": "members.0.id_number",
        "code": "id_number_invalid",
        "message": "身份证号码无效：校验码错误",
    }


async def test_validation_messages_in_english(registry):
    body = household_body(VILLAGE)
    body["members"][1]["id_number"] = "99023019800101123" + "3"
    response = await post_household(registry, body, headers={"Accept-Language": "en"})
    problem = assert_problem(response, 422, "validation_failed", field="members.1.id_number")
    assert problem["title"] == "The request did not validate"
    assert field_error(problem, "members.1.id_number")["message"] == "invalid resident ID number: province"


@pytest.mark.parametrize(
    ("number", "reason_zh"),
    [
        ("1101051949123100", "应为17位数字加1位校验码"),
        ("500230200102301239", "出生日期无效"),
        ("500230209901011239", "出生日期无效"),
        ("990230198001011233", "地址码的省份代码不存在"),
    ],
)
async def test_each_id_number_problem_has_its_chinese_reason(registry, number, reason_zh):
    body = household_body(VILLAGE)
    body["members"][0]["id_number"] = number
    problem = (await post_household(registry, body)).json()
    assert field_error(problem, "members.0.id_number")["message"] == f"身份证号码无效：{reason_zh}"


@pytest.mark.parametrize(
    "relations",
    [["spouse", "child"], ["head", "head"], ["head", "spouse", "head"]],
    ids=["no_head", "two_heads", "three_members_two_heads"],
)
async def test_exactly_one_head_is_required(registry, relations):
    members = [member(f"成员{i}", r) for i, r in enumerate(relations)]
    response = await post_household(registry, household_body(VILLAGE, members=members))
    problem = assert_problem(response, 422, "validation_failed", field="members")
    error = field_error(problem, "members")
    assert error["code"] == "one_head_required"
    assert error["message"] == "家庭成员中必须有且只有一名户主（relation=head）"
    english = await registry.post(
        HOUSEHOLDS, json=household_body(VILLAGE, members=members), headers={"Accept-Language": "en"}
    )
    assert field_error(english.json(), "members")["message"] == "exactly one member must be the head (relation=head)"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"members": []}, "members", "too_short"),
        ({"surprise": True}, "surprise", "extra_forbidden"),
        ({"status": "poor"}, "status", "enum"),
        ({"attribute": None}, "attribute", "enum"),
        ({"area_class": "suburban"}, "area_class", "enum"),
        ({"village_code": "50023010120"}, "village_code", "string_pattern_mismatch"),
        ({"household_no": "12345"}, "household_no", "string_pattern_mismatch"),
        ({"household_no": "户编号123456"}, "household_no", "string_pattern_mismatch"),
        ({"phone": "110"}, "phone", "phone_invalid"),
        ({"dibao": "sometimes"}, "dibao", "bool_parsing"),
        ({"members": "张秀华"}, "members", "list_type"),
    ],
)
async def test_household_body_validation(registry, overrides, field, code):
    body = {**household_body(VILLAGE), **overrides}
    await make_village(registry, VILLAGE)
    response = await registry.post(HOUSEHOLDS, json=body)
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code
    assert await listed_ids(registry) == []


async def test_missing_fields_are_each_named(registry):
    response = await registry.post(HOUSEHOLDS, json={"village_code": VILLAGE})
    problem = assert_problem(response, 422, "validation_failed")
    missing = {e["field"] for e in problem["errors"] if e["code"] == "missing"}
    assert missing == {"status", "attribute", "household_no", "members"}
    assert all(e["message"] == "必填字段" for e in problem["errors"])


async def test_unknown_member_field_is_refused(registry):
    body = household_body(VILLAGE)
    body["members"][1]["nickname"] = "小明"
    problem = assert_problem(await post_household(registry, body), 422, "validation_failed", field="members.1.nickname")
    assert field_error(problem, "members.1.nickname")["code"] == "extra_forbidden"
    assert field_error(problem, "members.1.nickname")["message"] == "不允许的字段"


# --- conflicts -------------------------------------------------------------------------------------------------------


async def test_id_number_registered_in_another_household_is_409(registry):
    first = await make_household(registry, VILLAGE)
    body = household_body(VILLAGE)
    body["members"][1]["id_number"] = first["members"][0]["id_number"]
    response = await post_household(registry, body)
    problem = assert_problem(response, 409, "id_number_duplicate", field="members.1.id_number")
    assert problem["title"] == "该身份证号码已登记"
    assert await listed_ids(registry) == [first["id"]]


async def test_same_id_number_twice_in_one_body_is_409(registry):
    body = household_body(VILLAGE)
    body["members"].append(member(id_number=body["members"][1]["id_number"]))
    response = await post_household(registry, body)
    assert_problem(response, 409, "id_number_duplicate", field="members.2.id_number")
    assert await listed_ids(registry) == []


async def test_id_numbers_differing_only_in_x_case_are_the_same(registry):
    body = household_body(
        VILLAGE,
        members=[
            {"name": "王芳", "id_number": "11010519491231002X", "relation": "head"},
            {"name": "王芳", "id_number": "11010519491231002x", "relation": "sibling"},
        ],
    )
    assert_problem(await post_household(registry, body), 409, "id_number_duplicate", field="members.1.id_number")


async def test_duplicate_household_no_is_409(registry):
    first = await make_household(registry, VILLAGE)
    body = household_body(VILLAGE, household_no=first["household_no"])
    response = await post_household(registry, body, headers={"Accept-Language": "en"})
    problem = assert_problem(response, 409, "household_no_duplicate", field="household_no")
    assert problem["title"] == "This household number exists already"
    assert field_error(problem, "household_no")["message"] == "This household number exists already"
    assert await listed_ids(registry) == [first["id"]]


async def test_unknown_village_is_422(registry):
    response = await registry.post(HOUSEHOLDS, json=household_body("500230101299"))
    problem = assert_problem(response, 422, "village_not_found", field="village_code")
    assert problem["title"] == "村（社区）代码不存在，请先登记该村"


async def test_township_code_padded_is_not_a_village(registry):
    response = await registry.post(HOUSEHOLDS, json=household_body("500230101000"))
    assert_problem(response, 422, "village_not_found", field="village_code")


@pytest.mark.parametrize(
    ("lang", "title"),
    [(None, "户编号已存在"), ("en", "This household number exists already"), ("zh-CN,en;q=0.5", "户编号已存在")],
)
async def test_domain_messages_follow_accept_language(registry, lang, title):
    first = await make_household(registry, VILLAGE)
    headers = {"Accept-Language": lang} if lang else {}
    response = await registry.post(
        HOUSEHOLDS, json=household_body(VILLAGE, household_no=first["household_no"]), headers=headers
    )
    assert response.json()["title"] == title


# --- nothing half-written --------------------------------------------------------------------------------------------


async def test_refused_create_leaves_the_household_no_free(registry):
    existing = await make_household(registry, VILLAGE)
    body = household_body(VILLAGE)
    body["members"][1]["id_number"] = existing["members"][1]["id_number"]
    refused = await post_household(registry, body)
    assert_problem(refused, 409, "id_number_duplicate")
    body["members"][1]["id_number"] = id_number("500230", "19750505")
    retried = await registry.post(HOUSEHOLDS, json=body)
    assert retried.status_code == 201, retried.text
    assert retried.json()["household_no"] == body["household_no"]
    assert sorted(await listed_ids(registry)) == sorted([existing["id"], retried.json()["id"]])
    creates = await audit_entries(registry, AUDITOR, action="household.create")
    assert len(creates) == 2


async def test_refused_create_leaves_its_id_numbers_free(registry):
    body = household_body(VILLAGE)
    body["members"].append(member(id_number=body["members"][0]["id_number"]))
    assert_problem(await post_household(registry, body), 409, "id_number_duplicate")
    for sent in body["members"][:2]:
        assert_problem(await registry.get(PERSONS, params={"id_number": sent["id_number"]}), 404, "person_not_found")
    body["members"].pop()
    retried = await registry.post(HOUSEHOLDS, json=body)
    assert retried.status_code == 201, retried.text


async def test_refused_member_leaves_household_unchanged(registry):
    household = await make_household(registry, VILLAGE)
    taken = household["members"][0]["id_number"]
    await registry.post(f"{HOUSEHOLDS}/{household['id']}/members", json=member(id_number=taken))
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json() == household
    assert await audit_entries(registry, AUDITOR, action="person.create") == []


async def test_birth_date_and_gender_come_from_the_id_number(registry):
    number = id_number("500230", "19880808")
    body = household_body(VILLAGE, members=[{"name": "赵", "id_number": number, "relation": "head"}])
    household = await make_household(registry, VILLAGE, members=body["members"])
    [head] = household["members"]
    assert date.fromisoformat(head["birth_date"]) == date(1988, 8, 8)
    assert head["gender"] == ("male" if int(number[16]) % 2 else "female")


async def test_a_status_change_needs_a_reason_and_is_kept_and_announced(registry):
    household = await make_household(registry, VILLAGE)
    path = f"{HOUSEHOLDS}/{household['id']}"
    refused = await registry.patch(path, FENGDU, json={"status": "lifted"})
    assert_problem(refused, 422, "status_reason_required", "status_reason")
    assert (await registry.get(path)).json()["status"] == "not_lifted"  # nothing half-written
    done = await registry.patch(path, FENGDU, json={"status": "lifted", "status_reason": "务工稳定增收"})
    assert done.status_code == 200 and done.json()["status"] == "lifted"
    changes = (await registry.get(f"{path}/status-changes", FENGDU)).json()
    assert [(c["from_status"], c["to_status"], c["reason"]) for c in changes] == [
        ("not_lifted", "lifted", "务工稳定增收")
    ]
    published = (await registry.get("/api/v1/registry/events?type=household.status_changed")).json()["items"]
    assert [e["data"]["to_status"] for e in published if e["household_id"] == household["id"]] == ["lifted"]
    ledger = (await registry.get(f"{path}/ledger", FENGDU)).json()["items"]
    assert "已脱贫：务工稳定增收" in [e["summary"] for e in ledger]
    same = await registry.patch(path, FENGDU, json={"status": "lifted"})  # no change: no reason needed
    assert same.status_code == 200
