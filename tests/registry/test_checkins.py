"""Isolation check-ins (measure 7), one per person and day, and front-line cadres' health checks (measure 21)."""

import pytest
import sqlalchemy as sa

from services.registry.models import IsolationCheckin
from shared.dates import today
from tests.support.callers import AUDITOR, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    CADRES,
    PERSONS,
    assert_problem,
    audit_entries,
    field_error,
    ledger_of,
    listed,
    make_cadre,
    make_household,
    make_paired,
    tomorrow,
)

VILLAGE = "500230101201"
CADRE = Caller("cadre-li", ("village_cadre",), (VILLAGE,))


def checkin_body(**overrides) -> dict:
    body = {
        "checked_on": "2020-02-14",
        "temperature_c": 36.8,
        "symptoms": ["cough", "fatigue", "cough"],
        "living_needs": "需代购大米",
        "counselling": True,
        "stays_home": True,
        "no_gatherings": True,
        "temperature_taken": True,
        "mask_worn": True,
        "help_given": "已代购大米 25 公斤",
    }
    body.update(overrides)
    return body


@pytest.fixture
async def paired(registry) -> dict:
    paired = await make_paired(registry, VILLAGE, CADRE.subject)
    head, spouse = paired["household"]["members"]
    return {**paired, "head": head, "spouse": spouse}


def checkins_path(person: dict) -> str:
    return f"{PERSONS}/{person['id']}/isolation-checkins"


async def checkin(registry, person: dict, caller=CADRE, **overrides) -> dict:
    response = await registry.post(checkins_path(person), caller, json=checkin_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


# --- isolation check-ins ----------------------------------------------------------------------------------------


async def test_record_a_checkin(registry, paired):
    made = await checkin(registry, paired["head"])
    assert (made["person_id"], made["household_id"]) == (paired["head"]["id"], paired["household"]["id"])
    assert (made["checked_on"], made["temperature_c"], made["symptoms"]) == ("2020-02-14", 36.8, ["cough", "fatigue"])
    assert (made["living_needs"], made["counselling"], made["help_given"]) == ("需代购大米", True, "已代购大米 25 公斤")
    assert [made[k] for k in ("stays_home", "no_gatherings", "temperature_taken", "mask_worn")] == [True] * 4
    assert made["rules_kept"] is True
    assert made["recorded_by"] == CADRE.subject
    [entry] = await audit_entries(registry, AUDITOR, entity_id=made["id"])
    assert (entry["action"], entry["county_code"]) == ("isolation_checkin.create", "500230")
    assert entry["changes"]["temperature_c"] == "36.8"
    [ledger] = await ledger_of(registry, paired["household"]["id"])
    assert (ledger["event_type"], ledger["summary"]) == (
        "isolation_checkin.recorded",
        "隔离人员随访：张秀华，体温 36.8℃",
    )


async def test_temperature_is_kept_in_tenths_of_a_degree(registry, paired):
    made = await checkin(registry, paired["head"], temperature_c=37.3)
    async with registry.app.state.session_factory() as session:
        stored = await session.scalar(
            sa.select(IsolationCheckin.temperature_dc).where(IsolationCheckin.id == made["id"])
        )
    assert stored == 373
    assert made["temperature_c"] == 37.3


@pytest.mark.parametrize("temperature", [34.0, 43.0, 39, None])
async def test_temperature_bounds_are_included_and_it_may_be_left_out(registry, paired, temperature):
    made = await checkin(registry, paired["head"], temperature_c=temperature)
    assert made["temperature_c"] == temperature
    if temperature is None:
        assert [e["summary"] for e in await ledger_of(registry, paired["household"]["id"])] == ["隔离人员随访：张秀华"]


async def test_a_broken_rule_shows(registry, paired):
    made = await checkin(registry, paired["head"], mask_worn=False, symptoms=[])
    assert (made["mask_worn"], made["rules_kept"], made["symptoms"]) == (False, False, [])


async def test_one_checkin_per_person_and_day(registry, paired):
    await checkin(registry, paired["head"])
    again = await registry.post(checkins_path(paired["head"]), CADRE, json=checkin_body(temperature_c=37.0))
    problem = assert_problem(again, 409, "checkin_exists", field="checked_on")
    assert problem["title"] == "该人员当日已有随访记录"
    await checkin(registry, paired["head"], checked_on="2020-02-15")
    await checkin(registry, paired["spouse"])
    assert len(await listed(registry, checkins_path(paired["head"]))) == 2


async def test_a_repeat_with_the_same_key_gets_the_first_answer_not_a_conflict(registry, paired):
    headers = {"Idempotency-Key": "checkin-1"}
    first = await registry.post(checkins_path(paired["head"]), CADRE, json=checkin_body(), headers=headers)
    again = await registry.post(checkins_path(paired["head"]), CADRE, json=checkin_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


async def test_checkin_today_is_fine_and_tomorrow_is_refused(registry, paired):
    await checkin(registry, paired["head"], checked_on=today().isoformat())
    response = await registry.post(checkins_path(paired["head"]), CADRE, json=checkin_body(checked_on=tomorrow()))
    assert_problem(response, 422, "date_in_future", field="checked_on")


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"temperature_c": 33.9}, "temperature_c", "greater_than_equal"),
        ({"temperature_c": 43.1}, "temperature_c", "less_than_equal"),
        ({"temperature_c": 36.85}, "temperature_c", "decimal_max_places"),
        ({"temperature_c": "hot"}, "temperature_c", "decimal_parsing"),
        ({"symptoms": ["sneezing"]}, "symptoms.0", "enum"),
        ({"stays_home": None}, "stays_home", "bool_type"),
        ({"checked_on": "2020-02-30"}, "checked_on", "date_from_datetime_parsing"),
        ({"visited": True}, "visited", "extra_forbidden"),
    ],
)
async def test_checkin_validation(registry, paired, overrides, field, code):
    response = await registry.post(checkins_path(paired["head"]), CADRE, json=checkin_body(**overrides))
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_the_four_rules_must_be_answered(registry, paired):
    body = checkin_body()
    del body["no_gatherings"]
    response = await registry.post(checkins_path(paired["head"]), CADRE, json=body)
    problem = assert_problem(response, 422, "validation_failed", field="no_gatherings")
    assert field_error(problem, "no_gatherings")["message"] == "必填字段"


async def test_checkins_newest_day_first(registry, paired):
    days = ["2020-02-14", "2020-02-16", "2020-02-15"]
    made = {day: (await checkin(registry, paired["head"], checked_on=day))["id"] for day in days}
    items = await listed(registry, checkins_path(paired["head"]))
    assert [c["id"] for c in items] == [made["2020-02-16"], made["2020-02-15"], made["2020-02-14"]]
    first = (await registry.get(checkins_path(paired["head"]), params={"limit": 2})).json()
    rest = await registry.get(checkins_path(paired["head"]), params={"limit": 2, "cursor": first["next_cursor"]})
    assert [c["id"] for c in first["items"] + rest.json()["items"]] == [c["id"] for c in items]


async def test_checkins_are_scoped(registry, paired):
    made = await checkin(registry, paired["head"])
    unpaired = await make_household(registry, VILLAGE)
    stranger = unpaired["members"][0]
    for caller, person in ((WANZHOU, paired["head"]), (CADRE, stranger)):
        assert_problem(await registry.post(checkins_path(person), caller, json=checkin_body()), 404, "person_not_found")
        assert_problem(await registry.get(checkins_path(person), caller), 404, "person_not_found")
    assert [c["id"] for c in await listed(registry, checkins_path(paired["head"]), HUWEI_TOWNSHIP)] == [made["id"]]
    assert [c["id"] for c in await listed(registry, checkins_path(paired["head"]), HR)] == [made["id"]]
    assert_problem(await registry.post(checkins_path(paired["head"]), HR, json=checkin_body()), 403, "forbidden")
    assert_problem(
        await registry.post(f"{PERSONS}/nope/isolation-checkins", json=checkin_body()), 404, "person_not_found"
    )


# --- cadre health checks ----------------------------------------------------------------------------------------


def checks_path(cadre: dict) -> str:
    return f"{CADRES}/{cadre['id']}/health-checks"


async def test_record_a_cadre_health_check(registry, paired):
    body = {"checked_on": "2020-02-14", "temperature_c": 36.5, "healthy": True, "notes": "无异常"}
    response = await registry.post(checks_path(paired["cadre"]), CADRE, json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["cadre_id"], made["checked_on"], made["temperature_c"]) == (paired["cadre"]["id"], "2020-02-14", 36.5)
    assert (made["healthy"], made["notes"], made["recorded_by"]) == (True, "无异常", CADRE.subject)
    [entry] = await audit_entries(registry, AUDITOR, entity_id=made["id"])
    assert (entry["action"], entry["county_code"]) == ("cadre_health_check.create", "500230")
    assert await ledger_of(registry, paired["household"]["id"]) == []


async def test_cadre_health_checks_newest_first(registry, paired):
    made = []
    for day, healthy in (("2020-02-14", True), ("2020-02-16", False), ("2020-02-15", True)):
        body = {"checked_on": day, "healthy": healthy}
        made.append((await registry.post(checks_path(paired["cadre"]), FENGDU, json=body)).json())
    items = await listed(registry, checks_path(paired["cadre"]), CADRE)
    assert [c["id"] for c in items] == [made[1]["id"], made[2]["id"], made[0]["id"]]
    assert items[0]["temperature_c"] is None and items[0]["healthy"] is False


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"checked_on": "2020-02-14"}, "healthy", "missing"),
        ({"checked_on": "2020-02-14", "healthy": True, "temperature_c": 50}, "temperature_c", "less_than_equal"),
    ],
)
async def test_cadre_health_check_validation(registry, paired, body, field, code):
    problem = assert_problem(await registry.post(checks_path(paired["cadre"]), json=body), 422, "validation_failed")
    assert field_error(problem, field)["code"] == code


async def test_cadre_health_check_cannot_be_in_the_future(registry, paired):
    body = {"checked_on": tomorrow(), "healthy": True}
    assert_problem(await registry.post(checks_path(paired["cadre"]), json=body), 422, "date_in_future", "checked_on")


async def test_cadre_health_checks_are_scoped(registry, paired):
    colleague = await make_cadre(registry, VILLAGE[:9], username="cadre-wang")
    body = {"checked_on": "2020-02-14", "healthy": True}
    for caller, cadre in ((WANZHOU, paired["cadre"]), (CADRE, colleague), (FENGDU, {"id": "nope"})):
        assert_problem(await registry.post(checks_path(cadre), caller, json=body), 404, "cadre_not_found")
        assert_problem(await registry.get(checks_path(cadre), caller), 404, "cadre_not_found")
    assert_problem(await registry.post(checks_path(paired["cadre"]), AUDITOR, json=body), 403, "forbidden")
    assert (await registry.post(checks_path(colleague), HUWEI_TOWNSHIP, json=body)).status_code == 201
