"""Regions: the seeded city, counties, 万盛经开区 and townships; villages registered through the API."""

import pytest

from shared.regions import WANSHENG_TOWNSHIPS
from tests.support.callers import AUDITOR, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import assert_problem, audit_entries, field_error

REGIONS = "/api/v1/registry/regions"

COUNTIES = {
    "500101", "500102", "500103", "500104", "500105", "500106", "500107", "500108", "500109", "500110",
    "500111", "500112", "500113", "500114", "500115", "500116", "500117", "500118", "500119", "500120",
    "500151", "500152", "500153", "500154", "500155", "500156", "500229", "500230", "500231", "500233",
    "500235", "500236", "500237", "500238", "500240", "500241", "500242", "500243",
}  # fmt: skip
QIJIANG_OWN_TOWNSHIPS = {"500110001", "500110002", "500110003"} | {f"500110{n}" for n in range(108, 125)}


# --- reading ---------------------------------------------------------------------------------------------------------


async def test_get_county(registry):
    response = await registry.get(f"{REGIONS}/500230", HR)
    assert response.status_code == 200
    assert response.json() == {"code": "500230", "name": "丰都县", "level": "county", "parent_code": "500000"}


async def test_get_city(registry):
    response = await registry.get(f"{REGIONS}/500000")
    assert response.json() == {"code": "500000", "name": "重庆市", "level": "city", "parent_code": None}


async def test_get_wansheng_reporting_unit(registry):
    response = await registry.get(f"{REGIONS}/wansheng")
    assert response.status_code == 200
    assert response.json() == {
        "code": "wansheng",
        "name": "万盛经开区",
        "level": "reporting_unit",
        "parent_code": "500000",
    }


async def test_get_township(registry):
    response = await registry.get(f"{REGIONS}/500230101")
    assert response.json() == {"code": "500230101", "name": "虎威镇", "level": "township", "parent_code": "500230"}


async def test_wansheng_township_hangs_under_wansheng(registry):
    response = await registry.get(f"{REGIONS}/500110004")
    assert response.json() == {"code": "500110004", "name": "万盛街道", "level": "township", "parent_code": "wansheng"}


async def test_children_of_city_are_38_counties_and_wansheng(registry):
    response = await registry.get(f"{REGIONS}/500000/children")
    assert response.status_code == 200
    children = response.json()
    assert len(children) == 39
    assert {c["code"] for c in children} == COUNTIES | {"wansheng"}
    assert {c["parent_code"] for c in children} == {"500000"}
    by_code = {c["code"]: c for c in children}
    assert by_code["wansheng"] == {
        "code": "wansheng",
        "name": "万盛经开区",
        "level": "reporting_unit",
        "parent_code": "500000",
    }
    assert {c["level"] for c in children if c["code"] != "wansheng"} == {"county"}
    assert [c["code"] for c in children] == sorted(c["code"] for c in children)


async def test_children_of_wansheng_are_its_ten_townships(registry):
    children = (await registry.get(f"{REGIONS}/wansheng/children")).json()
    assert {c["code"] for c in children} == WANSHENG_TOWNSHIPS
    assert {c["level"] for c in children} == {"township"}
    assert {c["parent_code"] for c in children} == {"wansheng"}
    assert {"万盛街道", "东林街道", "黑山镇"} <= {c["name"] for c in children}


async def test_children_of_qijiang_exclude_the_wansheng_townships(registry):
    children = (await registry.get(f"{REGIONS}/500110/children")).json()
    codes = {c["code"] for c in children}
    assert codes == QIJIANG_OWN_TOWNSHIPS
    assert not codes & WANSHENG_TOWNSHIPS


async def test_children_of_township_are_its_registered_villages(registry):
    assert (await registry.get(f"{REGIONS}/500230101/children")).json() == []
    await registry.post(REGIONS, json={"code": "500230101202", "name": "二村"})
    await registry.post(REGIONS, json={"code": "500230101201", "name": "一村"})
    await registry.post(REGIONS, json={"code": "500230102201", "name": "社坛一村"})
    children = (await registry.get(f"{REGIONS}/500230101/children")).json()
    assert children == [
        {"code": "500230101201", "name": "一村", "level": "village", "parent_code": "500230101"},
        {"code": "500230101202", "name": "二村", "level": "village", "parent_code": "500230101"},
    ]


@pytest.mark.parametrize("path", ["/999999", "/999999/children", "/500230199", "/nowhere/children"])
async def test_unknown_region_is_404(registry, path):
    response = await registry.get(f"{REGIONS}{path}")
    problem = assert_problem(response, 404, "region_not_found")
    assert problem["title"] == "未找到该行政区划"
    assert "errors" not in problem


async def test_unknown_region_message_in_english(registry):
    response = await registry.get(f"{REGIONS}/999999", headers={"Accept-Language": "en"})
    assert assert_problem(response, 404, "region_not_found")["title"] == "Region not found"


async def test_search_by_name(registry):
    response = await registry.get(REGIONS, params={"name": "丰都"})
    assert response.status_code == 200
    assert response.json() == [{"code": "500230", "name": "丰都县", "level": "county", "parent_code": "500000"}]


async def test_search_by_name_part_finds_every_match(registry):
    codes = [r["code"] for r in (await registry.get(REGIONS, params={"name": "虎威"})).json()]
    assert codes == ["500230101"]
    wansheng = (await registry.get(REGIONS, params={"name": "万盛"})).json()
    assert {r["code"] for r in wansheng} == {"wansheng", "500110004"}


async def test_search_by_level_and_limit(registry):
    response = await registry.get(REGIONS, params={"name": "镇", "level": "township", "limit": 5})
    found = response.json()
    assert len(found) == 5
    assert all(r["level"] == "township" and "镇" in r["name"] for r in found)
    assert [r["code"] for r in found] == sorted(r["code"] for r in found)
    units = (await registry.get(REGIONS, params={"level": "reporting_unit"})).json()
    assert [r["code"] for r in units] == ["wansheng"]


@pytest.mark.parametrize("name", ["%", "_", "镇%", "\\"])
async def test_search_treats_like_wildcards_literally(registry, name):
    response = await registry.get(REGIONS, params={"name": name})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"level": "province"}, "query.level"), ({"limit": 201}, "query.limit"), ({"name": "x" * 51}, "query.name")],
)
async def test_search_validation(registry, params, field):
    response = await registry.get(REGIONS, params=params)
    assert_problem(response, 422, "validation_failed", field=field)


async def test_reading_regions_needs_a_token(registry):
    response = await registry.get(f"{REGIONS}/500230", None)
    assert_problem(response, 401, "unauthenticated")


# --- registering villages --------------------------------------------------------------------------------------------


async def test_create_village(registry):
    response = await registry.post(REGIONS, json={"code": "500230101201", "name": "红岩村"})
    assert response.status_code == 201, response.text
    expected = {"code": "500230101201", "name": "红岩村", "level": "village", "parent_code": "500230101"}
    assert response.json() == expected
    assert (await registry.get(f"{REGIONS}/500230101201", HR)).json() == expected


async def test_create_village_is_audited(registry):
    await registry.post(REGIONS, json={"code": "500230101201", "name": "红岩村"})
    [entry] = await audit_entries(registry, AUDITOR, entity_id="500230101201")
    assert entry["action"] == "region.create"
    assert entry["entity"] == "region"
    assert entry["actor"] == "admin"
    assert entry["county_code"] == "500230"
    assert entry["changes"] == {"name": "红岩村"}


async def test_county_officer_creates_village_in_own_county(registry):
    response = await registry.post(REGIONS, FENGDU, json={"code": "500230102201", "name": "社坛村"})
    assert response.status_code == 201, response.text
    assert response.json()["parent_code"] == "500230102"


async def test_township_officer_creates_village_in_own_township_only(registry):
    ok = await registry.post(REGIONS, HUWEI_TOWNSHIP, json={"code": "500230101201", "name": "红岩村"})
    assert ok.status_code == 201, ok.text
    refused = await registry.post(REGIONS, HUWEI_TOWNSHIP, json={"code": "500230102201", "name": "社坛村"})
    assert_problem(refused, 403, "forbidden")


async def test_village_in_wansheng_township(registry):
    wansheng_officer = Caller("ws", ("county_officer",), tuple(sorted(WANSHENG_TOWNSHIPS)))
    response = await registry.post(REGIONS, wansheng_officer, json={"code": "500110004201", "name": "万盛村"})
    assert response.status_code == 201, response.text
    assert response.json()["parent_code"] == "500110004"
    refused = await registry.post(REGIONS, wansheng_officer, json={"code": "500110001201", "name": "古南村"})
    assert_problem(refused, 403, "forbidden")


@pytest.mark.parametrize("code", ["500230199201", "500230000001", "999999999201"])
async def test_village_township_must_exist(registry, code):
    response = await registry.post(REGIONS, json={"code": code, "name": "无名村"})
    problem = assert_problem(response, 422, "township_not_found", field="code")
    assert field_error(problem, "code")["message"] == "所属乡镇（街道）不存在"
    assert (await registry.get(f"{REGIONS}/{code}")).status_code == 404


async def test_duplicate_village_is_409(registry):
    first = await registry.post(REGIONS, json={"code": "500230101201", "name": "红岩村"})
    assert first.status_code == 201
    again = await registry.post(REGIONS, FENGDU, json={"code": "500230101201", "name": "另一个名字"})
    problem = assert_problem(again, 409, "region_exists", field="code")
    assert problem["title"] == "该行政区划代码已存在"
    assert (await registry.get(f"{REGIONS}/500230101201")).json()["name"] == "红岩村"


async def test_out_of_scope_officer_cannot_create_village(registry):
    response = await registry.post(REGIONS, WANZHOU, json={"code": "500230101201", "name": "红岩村"})
    problem = assert_problem(response, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 registry:create）"
    assert (await registry.get(f"{REGIONS}/500230101201")).status_code == 404


@pytest.mark.parametrize("caller", [HR, AUDITOR, Caller("cadre-x", ("village_cadre",), ("500230101201",))])
async def test_readers_cannot_create_villages(registry, caller):
    response = await registry.post(REGIONS, caller, json={"code": "500230101201", "name": "红岩村"})
    assert_problem(response, 403, "forbidden")


async def test_creating_a_village_needs_a_token(registry):
    response = await registry.post(REGIONS, None, json={"code": "500230101201", "name": "红岩村"})
    assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("code", ["50023010120", "5002301012011", "500230101", "50023010120a", "", 500230101201])
async def test_bad_village_code_names_the_field(registry, code):
    response = await registry.post(REGIONS, json={"code": code, "name": "红岩村"})
    problem = assert_problem(response, 422, "validation_failed", field="code")
    assert problem["detail"] == "code"


async def test_village_code_pattern_error_in_both_languages(registry):
    body = {"code": "5002301012", "name": "红岩村"}
    zh = (await registry.post(REGIONS, json=body)).json()
    assert zh["title"] == "请求数据校验失败"
    assert field_error(zh, "code") == {"field": "code", "code": "string_pattern_mismatch", "message": "格式不正确"}
    en = (await registry.post(REGIONS, json=body, headers={"Accept-Language": "en"})).json()
    assert en["title"] == "The request did not validate"
    assert field_error(en, "code")["message"].startswith("String should match pattern")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"code": "500230101201"}, "name", "missing"),
        ({"code": "500230101201", "name": ""}, "name", "string_too_short"),
        ({"code": "500230101201", "name": "x" * 101}, "name", "string_too_long"),
        ({"code": "500230101201", "name": "红岩村", "level": "county"}, "level", "extra_forbidden"),
        ({"name": "红岩村"}, "code", "missing"),
    ],
)
async def test_village_body_validation(registry, body, field, code):
    problem = assert_problem(await registry.post(REGIONS, json=body), 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code
