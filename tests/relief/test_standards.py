"""Dibao standards (低保标准) through the API: entered by civil affairs with their history, the one in force on a
day, refusals as problems naming the field; the relief parameters; the demo standards."""

import csv
from pathlib import Path

import pytest

from services.relief.demo import DEMO_NOTE, load_demo_standards
from services.relief.standards.units import COUNTIES, UNITS
from tests.support.callers import AUDITOR, CITY_ADMIN, CIVIL, FENGDU, Caller
from tests.support.registry import assert_problem
from tests.support.relief import PARAMETERS, STANDARDS, add_standard, set_eligible

BODY = {"unit_code": "500230", "area_class": "rural", "monthly_fen": 49_600, "effective_from": "2019-07-01"}


async def listed(relief, caller=CITY_ADMIN, **params) -> list[dict]:
    response = await relief.get(STANDARDS, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


async def in_force(relief, unit_code: str, area_class: str, on: str | None, caller=CITY_ADMIN):
    params = {"unit_code": unit_code, "area_class": area_class, **({"on": on} if on else {})}
    return await relief.get(f"{STANDARDS}/in-force", caller, params=params)


# --- entering and reading ---------------------------------------------------------------------------------------------


async def test_civil_affairs_enters_a_standard(relief):
    response = await relief.post(STANDARDS, CIVIL, json={**BODY, "note": "丰都县民政局通知"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] and created["created_at"]
    assert {k: created[k] for k in (*BODY, "unit_name", "example", "note", "created_by")} == {
        **BODY, "unit_name": "丰都县", "example": False, "note": "丰都县民政局通知", "created_by": "civil",
    }  # fmt: skip
    again = await relief.get(f"{STANDARDS}/{created['id']}", FENGDU)
    assert again.status_code == 200 and again.json() == created


async def test_a_new_amount_is_a_new_row_and_the_history_stays(relief):
    first = await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    second = await add_standard(relief, "500230", "rural", 52_600, "2020-07-01")
    rows = await listed(relief, unit_code="500230", area_class="rural")
    assert [(r["id"], r["monthly_fen"], r["effective_from"]) for r in rows] == [
        (second["id"], 52_600, "2020-07-01"),
        (first["id"], 49_600, "2019-07-01"),
    ]
    refused = await relief.post(STANDARDS, CIVIL, json={**BODY, "monthly_fen": 50_000})
    assert_problem(refused, 409, "standard_exists", "effective_from")
    assert [r["monthly_fen"] for r in await listed(relief, unit_code="500230")] == [52_600, 49_600]


async def test_entering_a_standard_is_audited(relief):
    created = await add_standard(relief, "wansheng", "urban", 62_000, "2019-07-01")
    response = await relief.get("/api/v1/relief/audit", AUDITOR, params={"entity_id": created["id"]})
    [entry] = response.json()["items"]
    assert (entry["actor"], entry["action"], entry["county_code"]) == ("civil", "dibao_standard.create", "500110")
    assert entry["changes"] == {"unit_code": "wansheng", "area_class": "urban", "monthly_fen": 62_000,
                                "effective_from": "2019-07-01"}  # fmt: skip


@pytest.mark.parametrize(("on", "expected"), [
    ("2019-06-30", None),
    ("2019-07-01", 49_600),
    ("2020-06-30", 49_600),
    ("2020-07-01", 52_600),
    ("2021-03-01", 52_600),
])  # fmt: skip
async def test_the_standard_in_force_on_a_day(relief, on, expected):
    await add_standard(relief, "500230", "rural", 52_600, "2020-07-01")
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    await add_standard(relief, "500230", "urban", 70_000, "2019-01-01")  # another class
    await add_standard(relief, "500101", "rural", 40_000, "2019-01-01")  # another unit
    response = await in_force(relief, "500230", "rural", on)
    if expected is None:
        assert_problem(response, 404, "standard_not_in_force")
    else:
        assert response.status_code == 200, response.text
        assert (response.json()["monthly_fen"], response.json()["unit_code"]) == (expected, "500230")


async def test_the_standard_in_force_defaults_to_today(relief):
    await add_standard(relief, "500101", "urban", 62_000, "2019-07-01")
    await add_standard(relief, "500101", "urban", 65_000, "2020-07-01")
    response = await in_force(relief, "500101", "urban", None)
    assert response.json()["monthly_fen"] == 65_000


async def test_the_list_filters_by_unit_class_and_day_in_force(relief):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    await add_standard(relief, "500230", "rural", 52_600, "2020-07-01")
    await add_standard(relief, "500230", "urban", 62_000, "2019-07-01")
    await add_standard(relief, "wansheng", "rural", 48_000, "2019-07-01")
    in_force_rows = await listed(relief, in_force_on="2020-03-01")
    assert sorted((r["unit_code"], r["area_class"], r["monthly_fen"]) for r in in_force_rows) == [
        ("500230", "rural", 49_600), ("500230", "urban", 62_000), ("wansheng", "rural", 48_000),
    ]  # fmt: skip
    assert [r["monthly_fen"] for r in await listed(relief, unit_code="wansheng")] == [48_000]
    assert [r["monthly_fen"] for r in await listed(relief, area_class="urban")] == [62_000]
    assert await listed(relief, in_force_on="2019-06-30") == []
    assert await listed(relief, example="true") == []


async def test_the_list_pages_newest_first(relief):
    made = [(await add_standard(relief, "500230", "rural", 40_000 + i, f"201{i}-01-01"))["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await relief.get(STANDARDS, params=params)).json()
        seen += [r["id"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(made))


# --- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"unit_code": "500199"}, 422, "unit_code_invalid", "unit_code"),  # not one of the 38
    ({"unit_code": "510101"}, 422, "unit_code_invalid", "unit_code"),  # Sichuan
    ({"unit_code": "500230101"}, 422, "unit_code_invalid", "unit_code"),  # a township
    ({"unit_code": "万盛"}, 422, "validation_failed", "unit_code"),
    ({"monthly_fen": 0}, 422, "validation_failed", "monthly_fen"),
    ({"monthly_fen": -100}, 422, "validation_failed", "monthly_fen"),
    ({"monthly_fen": 496.5}, 422, "validation_failed", "monthly_fen"),  # fen are whole
    ({"monthly_fen": 2**63}, 422, "validation_failed", "monthly_fen"),  # beyond any standard (and a BIGINT)
    ({"monthly_fen": "a lot"}, 422, "validation_failed", "monthly_fen"),
    ({"area_class": "suburban"}, 422, "validation_failed", "area_class"),
    ({"effective_from": "2020-02-30"}, 422, "validation_failed", "effective_from"),
    ({"effective_from": None}, 422, "validation_failed", "effective_from"),
    ({"example": True}, 422, "validation_failed", "example"),  # only the demo loader marks examples
])  # fmt: skip
async def test_bad_input_is_a_problem_naming_the_field(relief, change, status, code, field):
    response = await relief.post(STANDARDS, CIVIL, json={**BODY, **change})
    assert_problem(response, status, code, field)
    assert await listed(relief) == []


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("", {"unit_code": "500199"}, 422, "unit_code_invalid"),
    ("", {"area_class": "x"}, 422, "validation_failed"),
    ("", {"cursor": "bm9wZQ"}, 400, "invalid_cursor"),
    ("/in-force", {"unit_code": "500230"}, 422, "validation_failed"),  # area_class missing
    ("/in-force", {"unit_code": "nowhere", "area_class": "rural"}, 422, "unit_code_invalid"),
    ("/in-force", {"unit_code": "500230", "area_class": "rural", "on": "2020-13-01"}, 422, "validation_failed"),
    ("/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", {}, 404, "standard_not_found"),
])  # fmt: skip
async def test_bad_reads_are_problems(relief, path, params, status, code):
    assert_problem(await relief.get(f"{STANDARDS}{path}", params=params), status, code)


@pytest.mark.parametrize("caller", [CITY_ADMIN, FENGDU, AUDITOR])
async def test_only_civil_affairs_enters_standards(relief, caller):
    assert_problem(await relief.post(STANDARDS, caller, json=BODY), 403, "forbidden")


async def test_a_caller_without_relief_read_cannot_list(relief):
    hr = Caller("hr", ("human_resources",), ("500000",))
    assert_problem(await relief.get(STANDARDS, hr), 403, "forbidden")
    assert_problem(await relief.get(STANDARDS, None), 401, "unauthenticated")


async def test_a_repeat_with_the_same_idempotency_key_returns_the_first_answer(relief):
    headers = {"Idempotency-Key": "std-1"}
    first = await relief.post(STANDARDS, CIVIL, json=BODY, headers=headers)
    again = await relief.post(STANDARDS, CIVIL, json=BODY, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = await relief.post(STANDARDS, CIVIL, json={**BODY, "monthly_fen": 1}, headers=headers)
    assert_problem(other, 409, "idempotency_key_reused")
    assert len(await listed(relief)) == 1


# --- units ----------------------------------------------------------------------------------------------------------


def test_the_units_are_the_registrys_38_counties_and_wansheng():
    path = Path(__file__).parents[2] / "services/registry/data/chongqing_counties_2019.csv"
    with path.open(encoding="utf-8") as f:
        registry_counties = {row["code"]: row["name"] for row in csv.DictReader(f)}
    assert COUNTIES == registry_counties
    assert len(COUNTIES) == 38
    assert set(UNITS) == {*COUNTIES, "wansheng"}


# --- parameters -----------------------------------------------------------------------------------------------------


async def test_the_eligible_statuses_default_to_not_lifted_lifted_and_returned(relief):
    response = await relief.get(f"{PARAMETERS}/relief_eligible_statuses", FENGDU)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["default"] == body["current"] == ["not_lifted", "lifted", "returned"]
    assert body["history"] == []


async def test_civil_affairs_sets_the_eligible_statuses_from_a_date(relief):
    await set_eligible(relief, ["returned", "not_lifted", "returned"], "2020-01-01")
    await set_eligible(relief, ["not_lifted"], "2099-01-01")
    body = (await relief.get(PARAMETERS)).json()
    [parameter] = body
    assert parameter["key"] == "relief_eligible_statuses"
    assert parameter["current"] == ["not_lifted", "returned"]  # in force today; duplicates dropped
    assert [(h["effective_from"], h["value"], h["set_by"]) for h in parameter["history"]] == [
        ("2020-01-01", ["not_lifted", "returned"], "civil"),
        ("2099-01-01", ["not_lifted"], "civil"),
    ]
    audit = (await relief.get("/api/v1/relief/audit", AUDITOR, params={"action": "parameter.set"})).json()
    assert [e["changes"]["effective_from"] for e in audit["items"]] == ["2099-01-01", "2020-01-01"]


@pytest.mark.parametrize(("key", "value", "status", "code"), [
    ("relief_eligible_statuses", ["rich"], 422, "parameter_value_invalid"),
    ("relief_eligible_statuses", [], 422, "parameter_value_invalid"),
    ("relief_eligible_statuses", "not_lifted", 422, "parameter_value_invalid"),
    ("care_overdue_days", 3, 404, "parameter_not_found"),  # the registry's, not relief's
])  # fmt: skip
async def test_bad_parameter_values_are_problems(relief, key, value, status, code):
    response = await relief.request(
        "PUT", f"{PARAMETERS}/{key}", CIVIL, json={"value": value, "effective_from": "2020-01-01"}
    )
    assert_problem(response, status, code, "value" if status == 422 else None)


async def test_only_civil_affairs_sets_relief_parameters(relief):
    body = {"value": ["not_lifted"], "effective_from": "2020-01-01"}
    response = await relief.request("PUT", f"{PARAMETERS}/relief_eligible_statuses", FENGDU, json=body)
    assert_problem(response, 403, "forbidden")


# --- demo values ----------------------------------------------------------------------------------------------------


async def test_demo_standards_cover_every_unit_and_class_and_are_marked_as_examples(relief):
    async with relief.app.state.session_factory() as session:
        summary = await load_demo_standards(session)
        await session.commit()
    assert (summary.units, summary.standards) == (39, 39 * 2 * 2)
    rows = await listed(relief, example="true", in_force_on="2020-03-01")
    assert len(rows) == 78
    assert {(r["unit_code"], r["area_class"]) for r in rows} == {(u, c) for u in UNITS for c in ("rural", "urban")}
    assert all(r["example"] and r["note"] == DEMO_NOTE for r in rows)
    assert {(r["area_class"], r["monthly_fen"]) for r in rows} == {("rural", 49_600), ("urban", 62_000)}
    raised = await in_force(relief, "wansheng", "rural", "2020-07-01")
    assert raised.json()["monthly_fen"] > 49_600
    assert await listed(relief, example="false") == []


async def test_demo_standards_load_only_into_an_empty_database(relief):
    await add_standard(relief, "500230", "rural", 49_600, "2019-07-01")
    async with relief.app.state.session_factory() as session:
        summary = await load_demo_standards(session)
        await session.commit()
    assert summary.standards == 0
    assert len(await listed(relief)) == 1
