"""RULE care overdue (measure 1), with worked examples at the date edges.

A confirmation on d is overdue on as_of when as_of > d + N (N in force on d, 3 by default) and the household had no
care or counselling contact dated, in Asia/Shanghai, from d to as_of.
"""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from shared.dates import today
from tests.support.callers import CITY_ADMIN, FENGDU, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    add_contact,
    assert_problem,
    make_cadre,
    make_contact,
    make_household,
    make_pairing,
    record_health,
)

CARE_OVERDUE = "/api/v1/registry/care-overdue"
PARAMETER = "/api/v1/registry/parameters/care_overdue_days"
VILLAGE = "500230101201"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CADRE = Caller("cadre-x", ("village_cadre",), ("500230101201",))


def local(value: str) -> datetime:
    """A moment in Beijing time, e.g. local("2020-02-06 23:30")."""
    return datetime.fromisoformat(value).replace(tzinfo=SHANGHAI)


async def overdue(registry, as_of: str | None, caller=CITY_ADMIN, **params) -> list[dict]:
    query = {"limit": 200, **params, **({"as_of": as_of} if as_of else {})}
    response = await registry.get(CARE_OVERDUE, caller, params=query)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def days_overdue(registry, as_of: str, caller=CITY_ADMIN) -> list[int]:
    return [row["days_overdue"] for row in await overdue(registry, as_of, caller)]


@pytest.fixture
async def patient(registry) -> dict:
    """A household whose head is confirmed on d = 2020-02-03; with N = 3 the care is due by 2020-02-06."""
    household = await make_household(registry, VILLAGE)
    await record_health(registry, household["members"][0]["id"], "confirmed", "2020-02-03")
    return household


async def test_in_time_until_the_due_date_then_one_day_overdue(registry, patient):
    assert await overdue(registry, "2020-02-03") == []
    assert await overdue(registry, "2020-02-06") == []
    [row] = await overdue(registry, "2020-02-07")
    head = patient["members"][0]
    assert row == {
        "health_event_id": row["health_event_id"], "household_id": patient["id"],
        "household_no": patient["household_no"], "head_name": "张秀华", "county_code": "500230",
        "township_code": "500230101", "village_code": VILLAGE, "village_name": "测试村", "person_id": head["id"],
        "person_name": "张秀华", "diagnosed_on": "2020-02-03", "due_on": "2020-02-06", "days_overdue": 1,
    }  # fmt: skip
    assert await days_overdue(registry, "2020-02-16") == [10]


async def test_a_care_contact_on_the_due_date_is_in_time(registry, patient):
    await add_contact(registry, patient, local("2020-02-06 23:30"))
    assert await overdue(registry, "2020-02-07") == []
    assert await overdue(registry, "2020-03-31") == []


async def test_a_contact_on_the_diagnosis_day_counts_one_the_day_before_does_not(registry, patient):
    await add_contact(registry, patient, local("2020-02-02 23:50"))
    assert await days_overdue(registry, "2020-02-07") == [1]
    await add_contact(registry, patient, local("2020-02-03 00:10"))
    assert await overdue(registry, "2020-02-07") == []


async def test_the_contact_date_is_taken_in_shanghai_not_utc(registry, patient):
    # 2020-02-02 16:30 UTC is 2020-02-03 00:30 in Beijing: on the diagnosis day.
    await add_contact(registry, patient, datetime(2020, 2, 2, 16, 30, tzinfo=UTC))
    assert await overdue(registry, "2020-02-07") == []


async def test_counselling_counts_as_care(registry, patient):
    await add_contact(registry, patient, local("2020-02-04 10:00"), kind="counselling", channel="wechat")
    assert await overdue(registry, "2020-02-07") == []


async def test_other_contacts_and_other_households_do_not_count(registry, patient):
    neighbour = await make_household(registry, VILLAGE)
    await add_contact(registry, patient, local("2020-02-04 10:00"), kind="five_ones_call")
    await add_contact(registry, neighbour, local("2020-02-04 10:00"))
    assert await days_overdue(registry, "2020-02-07") == [1]


async def test_a_late_contact_clears_the_household_from_its_date_on(registry, patient):
    await add_contact(registry, patient, local("2020-02-10 09:00"))
    assert await days_overdue(registry, "2020-02-09") == [3]
    assert await overdue(registry, "2020-02-10") == []
    assert await overdue(registry, "2020-02-20") == []


async def test_a_confirmation_after_as_of_is_not_judged(registry, patient):
    assert await overdue(registry, "2020-02-02") == []


async def test_changing_n_through_the_parameters_api_changes_the_result(registry, patient):
    response = await registry.request("PUT", PARAMETER, json={"value": 5, "effective_from": "2020-02-01"})
    assert response.status_code == 200, response.text
    assert await overdue(registry, "2020-02-08") == []
    [row] = await overdue(registry, "2020-02-09")
    assert (row["due_on"], row["days_overdue"]) == ("2020-02-08", 1)


async def test_n_is_the_one_in_force_on_the_diagnosis_date(registry, patient):
    response = await registry.request("PUT", PARAMETER, json={"value": 10, "effective_from": "2020-02-04"})
    assert response.status_code == 200, response.text
    assert await days_overdue(registry, "2020-02-07") == [1]
    response = await registry.request("PUT", PARAMETER, json={"value": 0, "effective_from": "2020-02-03"})
    assert response.status_code == 200, response.text
    [row] = await overdue(registry, "2020-02-04")
    assert (row["due_on"], row["days_overdue"]) == ("2020-02-03", 1)


async def test_each_confirmation_is_its_own_row_oldest_first(registry, patient):
    spouse = patient["members"][1]
    await record_health(registry, spouse["id"], "confirmed", "2020-02-05")
    rows = await overdue(registry, "2020-02-09")
    assert [(r["person_name"], r["due_on"], r["days_overdue"]) for r in rows] == [
        ("张秀华", "2020-02-06", 3),
        ("李明", "2020-02-08", 1),
    ]
    # A contact on 2020-02-04 is in time for the first patient but before the second one's diagnosis.
    await add_contact(registry, patient, local("2020-02-04 10:00"))
    assert [r["person_name"] for r in await overdue(registry, "2020-02-09")] == ["李明"]


async def test_discharge_or_death_does_not_end_the_watch(registry, patient):
    await record_health(registry, patient["members"][0]["id"], "deceased", "2020-02-05")
    assert await days_overdue(registry, "2020-02-08") == [2]


async def test_as_of_defaults_to_today_in_shanghai(registry, patient):
    expected = (today() - datetime(2020, 2, 6).date()).days
    assert [r["days_overdue"] for r in await overdue(registry, None)] == [expected]


async def test_the_list_is_scoped(registry, patient):
    wanzhou = await make_household(registry, "500101001201")
    await record_health(registry, wanzhou["members"][0]["id"], "confirmed", "2020-02-03")
    assert {r["household_id"] for r in await overdue(registry, "2020-02-10")} == {patient["id"], wanzhou["id"]}
    assert [r["household_id"] for r in await overdue(registry, "2020-02-10", FENGDU)] == [patient["id"]]
    assert [r["household_id"] for r in await overdue(registry, "2020-02-10", HUWEI_TOWNSHIP)] == [patient["id"]]
    assert [r["household_id"] for r in await overdue(registry, "2020-02-10", WANZHOU)] == [wanzhou["id"]]


async def test_a_village_cadre_sees_paired_households_only(registry, patient):
    other = await make_household(registry, VILLAGE)
    await record_health(registry, other["members"][0]["id"], "confirmed", "2020-02-03")
    cadre = await make_cadre(registry, VILLAGE, username=CADRE.subject)
    await make_pairing(registry, cadre["id"], patient["id"])
    assert [r["household_id"] for r in await overdue(registry, "2020-02-10", CADRE)] == [patient["id"]]


async def test_the_list_pages_with_a_cursor(registry):
    made = []
    for on in ("2020-02-01", "2020-02-01", "2020-02-02", "2020-02-03", "2020-02-04"):
        household = await make_household(registry, VILLAGE)
        made.append((await record_health(registry, household["members"][0]["id"], "confirmed", on))["event"]["id"])
    seen, cursor = [], None
    while True:
        params = {"as_of": "2020-03-01", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await registry.get(CARE_OVERDUE, params=params)).json()
        seen += [r["health_event_id"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == made


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"as_of": "2020-02-30"}, 422, "validation_failed"),
    ({"cursor": "bm9wZQ"}, 400, "invalid_cursor"),
])  # fmt: skip
async def test_bad_parameters_are_problems(registry, params, status, code):
    assert_problem(await registry.get(CARE_OVERDUE, params=params), status, code)


async def test_excel_export(registry, patient):
    response = await registry.get(f"{CARE_OVERDUE}.xlsx", FENGDU, params={"as_of": "2020-02-09"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "2020-02-09.xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[0] == "户编号 Household no." and header[-1] == "逾期天数 Days overdue"
    assert len(rows) == 1
    assert rows[0][0] == patient["household_no"]
    assert rows[0][6:] == ["张秀华", datetime(2020, 2, 3), datetime(2020, 2, 6), 3]


async def test_excel_export_is_scoped(registry, patient):
    response = await registry.get(f"{CARE_OVERDUE}.xlsx", WANZHOU, params={"as_of": "2020-02-09"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1


async def test_a_late_contact_in_the_utc_evening_falls_on_the_next_local_day(registry, patient):
    # 2020-02-09 16:30 UTC is 2020-02-10 00:30 in Beijing: it does not clear the row as of 2020-02-09.
    await add_contact(registry, patient, datetime(2020, 2, 9, 16, 30, tzinfo=UTC))
    assert await days_overdue(registry, "2020-02-09") == [3]
    assert await overdue(registry, "2020-02-10") == []


async def test_a_care_contact_recorded_through_the_contacts_api_clears_the_row(registry, patient):
    assert await days_overdue(registry, "2020-02-12") == [6]
    await make_contact(registry, patient["id"], contacted_at="2020-02-12T10:00:00+08:00", kind="care")
    assert await days_overdue(registry, "2020-02-11") == [5]
    assert await overdue(registry, "2020-02-12") == []
