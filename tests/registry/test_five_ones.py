"""RULE the five ones (五个一, measure 6): per active pairing, over the campaign window, rolled up; the to-do lists."""

import io
from datetime import date
from types import SimpleNamespace

import openpyxl
import pytest
import sqlalchemy as sa

from services.registry.contacts.rollup import average, percent
from services.registry.fiveones import repository, rules, service, upkeep
from services.registry.fiveones.schemas import FiveOnesLevel
from services.registry.fiveones.service import Campaign
from services.registry.models import FiveOnesWindow
from shared.auth import Principal, permissions_of
from tests.support.callers import AUDITOR, CITY_ADMIN, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    CADRES,
    FIVE_ONES,
    PAIRINGS,
    assert_problem,
    field_error,
    make_cadre,
    make_contact,
    make_household,
    make_income_plan,
    make_needs_survey,
    make_pairing,
    set_five_ones_window,
    tomorrow,
)

VILLAGE = "500230101201"
CADRE = Caller("cadre-li", ("village_cadre",), (VILLAGE,))
ALL = ["phone_call", "prevention_education", "supplies_help", "needs_survey", "income_plan"]
NONE_DONE = dict.fromkeys(ALL, 0)


# --- arithmetic -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(2, 3, 66.7), (1, 3, 33.3), (1, 16, 6.3), (1, 8, 12.5), (3, 7, 42.9), (0, 5, 0.0), (5, 5, 100.0), (0, 0, None)],
)
def test_percent_to_one_decimal_halves_up(part, whole, expected):
    assert percent(part, whole) == expected


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [(5, 2, 3), (4, 3, 1), (7, 2, 4), (0, 1, 0), (10_000_001, 2, 5_000_001), (9, 0, None)],
)
def test_average_in_whole_fen_halves_up(total, count, expected):
    assert average(total, count) == expected


# --- helpers ----------------------------------------------------------------------------------------------------


async def pair(registry, village=VILLAGE, cadre=None, start_date="2020-02-09", **household) -> dict:
    """A household in `village` paired with `cadre` (a new one by default); returns ids."""
    made = await make_household(registry, village, **household)
    if cadre is None:
        cadre = await make_cadre(registry, village[:9])
    pairing = await make_pairing(registry, cadre["id"], made["id"], start_date=start_date)
    return {"household": made, "cadre": cadre, "pairing": pairing, "id": pairing["id"]}


async def contact(registry, p: dict, at: str = "2020-02-12T10:00:00+08:00", **body) -> dict:
    return await make_contact(registry, p["household"]["id"], cadre_id=p["cadre"]["id"], contacted_at=at, **body)


async def all_five(registry, p: dict) -> None:
    await contact(registry, p, channel="phone", kind="care")
    await contact(registry, p, channel="wechat", kind="prevention_education")
    await contact(registry, p, channel="sms", kind="supplies_help")
    await make_needs_survey(registry, p["household"]["id"])
    await make_income_plan(registry, p["household"]["id"])


async def report(registry, caller=CITY_ADMIN, **params) -> dict:
    response = await registry.get(FIVE_ONES, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def rows(registry, caller=CITY_ADMIN, **params) -> list[dict]:
    return (await report(registry, caller, level="pairing", **params))["items"]


async def row_of(registry, p: dict, caller=CITY_ADMIN, **params) -> dict:
    [row] = [r for r in await rows(registry, caller, **params) if r["pairing_id"] == p["id"]]
    return row


async def done(registry, p: dict, **params) -> list[str]:
    return (await row_of(registry, p, **params))["done"]


# --- per pairing ------------------------------------------------------------------------------------------------


async def test_all_five_items_make_a_pairing_complete(registry):
    p = await pair(registry)
    await all_five(registry, p)
    row = await row_of(registry, p)
    assert (row["done"], row["missing"], row["complete"]) == (ALL, [], True)
    assert (row["cadre_id"], row["cadre_name"]) == (p["cadre"]["id"], p["cadre"]["name"])
    assert (row["household_id"], row["household_no"]) == (p["household"]["id"], p["household"]["household_no"])
    assert (row["head_name"], row["village_code"], row["household_status"]) == ("张秀华", VILLAGE, "not_lifted")


async def test_nothing_done_lists_all_five_missing(registry):
    p = await pair(registry)
    row = await row_of(registry, p)
    assert (row["done"], row["missing"], row["complete"]) == ([], ALL, False)


async def test_the_report_names_its_window_and_date(registry):
    await pair(registry)
    body = await report(registry, level="pairing", as_of="2020-03-01")
    assert (body["level"], body["as_of"], body["window"]) == (
        "pairing",
        "2020-03-01",
        {"start": "2020-02-09", "end": None},
    )


async def test_a_phone_call_is_any_contact_by_phone_and_a_kind_on_any_channel(registry):
    p = await pair(registry)
    await contact(registry, p, channel="phone", kind="prevention_education")
    assert await done(registry, p) == ["phone_call", "prevention_education"]
    await contact(registry, p, channel="visit", kind="supplies_help")
    assert await done(registry, p) == ["phone_call", "prevention_education", "supplies_help"]


async def test_other_channels_and_kinds_do_not_count(registry):
    p = await pair(registry)
    for channel, kind in (("wechat", "care"), ("sms", "counselling"), ("letter", "agricultural_guidance")):
        await contact(registry, p, channel=channel, kind=kind)
    assert await done(registry, p) == []


async def test_survey_and_plan_count_as_records_or_as_contacts_of_that_kind(registry):
    by_records, by_contacts = await pair(registry), await pair(registry)
    await make_needs_survey(registry, by_records["household"]["id"])
    await make_income_plan(registry, by_records["household"]["id"])
    await contact(registry, by_contacts, channel="wechat", kind="needs_survey")
    await contact(registry, by_contacts, channel="wechat", kind="income_plan")
    assert await done(registry, by_records) == ["needs_survey", "income_plan"]
    assert await done(registry, by_contacts) == ["needs_survey", "income_plan"]


async def test_window_start_is_the_notice_date_in_shanghai(registry):
    p = await pair(registry)
    await contact(registry, p, at="2020-02-08T23:59:59+08:00", channel="phone")
    await make_needs_survey(registry, p["household"]["id"], surveyed_on="2020-02-08")
    await make_income_plan(registry, p["household"]["id"], planned_on="2020-02-08")
    assert await done(registry, p) == []
    await contact(registry, p, at="2020-02-08T16:00:00+00:00", channel="phone")  # 2020-02-09 00:00 in Shanghai
    await make_needs_survey(registry, p["household"]["id"], surveyed_on="2020-02-09")
    assert await done(registry, p) == ["phone_call", "needs_survey"]


async def test_window_end_is_included_and_the_day_after_is_not(registry):
    await set_five_ones_window(registry, "2020-02-09", "2020-03-31")
    p = await pair(registry)
    await contact(registry, p, at="2020-04-01T00:00:00+08:00", channel="phone")
    await contact(registry, p, at="2020-03-31T16:00:00+00:00", kind="supplies_help")  # 1 April in Shanghai
    await make_needs_survey(registry, p["household"]["id"], surveyed_on="2020-04-01")
    await make_income_plan(registry, p["household"]["id"], planned_on="2020-04-01")
    assert await done(registry, p) == []
    await contact(registry, p, at="2020-03-31T23:59:59+08:00", channel="phone")
    await make_income_plan(registry, p["household"]["id"], planned_on="2020-03-31")
    assert await done(registry, p) == ["phone_call", "income_plan"]
    body = await report(registry, level="pairing")
    assert body["window"] == {"start": "2020-02-09", "end": "2020-03-31"}


async def test_changing_the_window_changes_the_result(registry):
    p = await pair(registry)
    await contact(registry, p, at="2020-02-05T09:00:00+08:00", channel="phone")
    await contact(registry, p, at="2020-05-05T09:00:00+08:00", channel="wechat", kind="prevention_education")
    assert await done(registry, p) == ["prevention_education"]
    await set_five_ones_window(registry, "2020-02-01", "2020-04-30")
    assert await done(registry, p) == ["phone_call"]
    await set_five_ones_window(registry, "2020-02-01", None)
    assert await done(registry, p) == ["phone_call", "prevention_education"]


async def test_a_window_in_force_later_does_not_change_an_earlier_as_of(registry):
    p = await pair(registry)
    await contact(registry, p, at="2020-02-05T09:00:00+08:00", channel="phone")
    await set_five_ones_window(registry, "2020-02-01", None, effective_from="2020-06-01")
    assert await done(registry, p, as_of="2020-05-31") == []
    assert await done(registry, p, as_of="2020-06-01") == ["phone_call"]


async def test_as_of_cuts_the_window(registry):
    p = await pair(registry)
    await contact(registry, p, at="2020-02-20T23:59:59+08:00", channel="phone")
    await contact(registry, p, at="2020-02-21T00:00:00+08:00", kind="prevention_education")
    await make_needs_survey(registry, p["household"]["id"], surveyed_on="2020-02-21")
    assert await done(registry, p, as_of="2020-02-20") == ["phone_call"]
    assert await done(registry, p, as_of="2020-02-21") == ["phone_call", "prevention_education", "needs_survey"]


async def test_a_pairing_that_starts_after_as_of_is_not_due_yet(registry):
    p = await pair(registry, start_date="2020-03-01")
    assert await rows(registry, as_of="2020-02-29") == []
    assert [r["pairing_id"] for r in await rows(registry, as_of="2020-03-01")] == [p["id"]]


async def test_another_cadres_phone_call_does_not_count(registry):
    p = await pair(registry)
    stranger = await make_cadre(registry, VILLAGE[:9])
    household_id = p["household"]["id"]
    await make_contact(registry, household_id, cadre_id=stranger["id"], channel="phone", kind="prevention_education")
    await make_contact(registry, household_id, cadre_id=stranger["id"], kind="needs_survey")
    await make_contact(registry, household_id, FENGDU, channel="phone", kind="supplies_help")  # the office, no cadre
    assert await done(registry, p) == []


async def test_a_household_with_two_cadres(registry):
    first = await pair(registry)
    second_cadre = await make_cadre(registry, VILLAGE[:9])
    second_pairing = await make_pairing(registry, second_cadre["id"], first["household"]["id"])
    second = {**first, "cadre": second_cadre, "pairing": second_pairing, "id": second_pairing["id"]}
    await contact(registry, first, channel="phone", kind="income_plan")
    await contact(registry, second, channel="wechat", kind="prevention_education")
    await make_needs_survey(registry, first["household"]["id"])  # a record counts for the household
    assert await done(registry, first) == ["phone_call", "needs_survey", "income_plan"]
    assert await done(registry, second) == ["prevention_education", "needs_survey"]
    body = await report(registry, level="city")
    assert body["total"]["pairings"] == 2
    assert body["total"]["by_item"] == {**NONE_DONE, "phone_call": 1, "prevention_education": 1, "needs_survey": 2,
                                        "income_plan": 1}  # fmt: skip


async def test_an_ended_pairing_is_excluded(registry):
    ended, kept = await pair(registry), await pair(registry)
    await all_five(registry, ended)
    response = await registry.post(f"{PAIRINGS}/{ended['id']}/end", json={"end_date": "2020-03-01"})
    assert response.status_code == 200
    assert [r["pairing_id"] for r in await rows(registry)] == [kept["id"]]
    total = (await report(registry, level="city"))["total"]
    assert (total["pairings"], total["pairings_complete"], total["items_done"]) == (1, 0, 0)


async def test_rows_kept_current_record_by_record_equal_rows_built_at_once(registry):
    """After a first report built the window's rows, every pairing, end and record updates them: the reports then
    equal the reports of rows built afresh from the same records."""
    early = await pair(registry)
    ended = await pair(registry)
    await report(registry, level="pairing")  # builds the rows of the window from 2020-02-09
    late = await pair(registry, start_date="2020-02-20")  # paired after the build
    stranger = await make_cadre(registry, VILLAGE[:9])
    await contact(registry, early, channel="phone", kind="care")
    await contact(registry, early, at="2020-03-01T09:00:00+08:00", channel="phone", kind="care")  # a later one
    await contact(registry, early, at="2020-02-08T23:00:00+08:00", kind="supplies_help")  # before the window
    await make_contact(
        registry, early["household"]["id"], cadre_id=stranger["id"], channel="wechat", kind="prevention_education",
        contacted_at="2020-02-15T09:00:00+08:00",
    )  # fmt: skip
    await make_needs_survey(registry, early["household"]["id"], surveyed_on="2020-02-08")  # before the window
    await make_income_plan(registry, early["household"]["id"], planned_on="2020-03-10")
    await all_five(registry, late)
    await contact(registry, ended, channel="phone", kind="care")
    response = await registry.post(f"{PAIRINGS}/{ended['id']}/end", json={"end_date": "2020-03-01"})
    assert response.status_code == 200, response.text
    views = [{"level": "pairing"}, {"level": "cadre"}, {"level": "county"}, {"level": "pairing", "as_of": "2020-02-29"}]
    kept = [await report(registry, **view) for view in views]
    assert [r["pairing_id"] for r in kept[0]["items"]] == [late["id"], early["id"]]
    assert [r["done"] for r in kept[0]["items"]] == [ALL, ["phone_call", "income_plan"]]
    assert [r["done"] for r in kept[3]["items"]] == [ALL, ["phone_call"]]

    async with registry.app.state.session_factory() as session:
        await upkeep.forget(session)
        await session.commit()
    assert [await report(registry, **view) for view in views] == kept


# --- roll-ups ---------------------------------------------------------------------------------------------------


async def test_rollup_counts_and_percentages(registry):
    """Three pairings of one cadre: one complete, one with two items, one with none."""
    cadre = await make_cadre(registry, VILLAGE[:9], name="李明")
    complete, partial, idle = [await pair(registry, cadre=cadre) for _ in range(3)]
    await all_five(registry, complete)
    await contact(registry, partial, channel="phone", kind="supplies_help")
    body = await report(registry, level="cadre")
    expected = {
        "code": cadre["id"],
        "name": "李明",
        "pairings": 3,
        "pairings_complete": 1,
        "pairings_complete_pct": 33.3,
        "items_due": 15,
        "items_done": 7,
        "items_done_pct": 46.7,
        "by_item": {**NONE_DONE, "phone_call": 2, "prevention_education": 1, "supplies_help": 2, "needs_survey": 1,
                    "income_plan": 1},
    }  # fmt: skip
    assert body["items"] == [expected]
    assert body["total"] == {k: v for k, v in expected.items() if k not in ("code", "name")}
    assert (body["level"], body["window"]["start"]) == ("cadre", "2020-02-09")
    assert idle["id"] in {r["pairing_id"] for r in await rows(registry, complete="false")}


async def test_rollup_two_of_three_is_66_7(registry):
    cadre = await make_cadre(registry, VILLAGE[:9])
    pairs = [await pair(registry, cadre=cadre) for _ in range(3)]
    for p in pairs[:2]:
        await all_five(registry, p)
    [row] = (await report(registry, level="cadre"))["items"]
    assert (row["pairings_complete_pct"], row["items_done_pct"]) == (66.7, 66.7)


async def test_rollup_per_township_county_and_city(registry):
    huwei = await pair(registry)
    shetan = await pair(registry, "500230102201")
    wanzhou = await pair(registry, "500101001201")
    for p in (huwei, wanzhou):
        await all_five(registry, p)
    await contact(registry, shetan, channel="phone")

    def summary(body):
        return [(r["code"], r["name"], r["pairings"], r["pairings_complete"], r["items_done"]) for r in body["items"]]

    townships = await report(registry, level="township")
    assert summary(townships) == [
        ("500101001", "高笋塘街道", 1, 1, 5),
        ("500230101", "虎威镇", 1, 1, 5),
        ("500230102", "社坛镇", 1, 0, 1),
    ]
    counties = await report(registry, level="county")
    assert summary(counties) == [("500101", "万州区", 1, 1, 5), ("500230", "丰都县", 2, 1, 6)]
    assert counties["items"][1]["pairings_complete_pct"] == 50.0
    assert counties["items"][1]["items_done_pct"] == 60.0
    city = await report(registry, level="city")
    assert summary(city) == [("500000", "重庆市", 3, 2, 11)]
    assert city["total"]["items_done_pct"] == 73.3
    assert (await report(registry, level="county", region="500230"))["total"]["pairings"] == 2


async def test_wansheng_is_a_county_level_unit_of_its_own(registry):
    qijiang = await pair(registry, "500110001201")
    wansheng = await pair(registry, "500110004201")
    await all_five(registry, wansheng)
    counties = await report(registry, level="county")
    assert [(r["code"], r["name"], r["pairings_complete"]) for r in counties["items"]] == [
        ("500110", "綦江区", 0),
        ("wansheng", "万盛经开区", 1),
    ]
    assert [r["pairing_id"] for r in await rows(registry, region="wansheng")] == [wansheng["id"]]
    assert [r["pairing_id"] for r in await rows(registry, region="500110001")] == [qijiang["id"]]


def principal_of(caller: Caller) -> Principal:
    return Principal(
        subject=caller.subject, kind=caller.kind, roles=caller.roles, regions=caller.regions,
        permissions=permissions_of(caller.roles),
    )  # fmt: skip


async def test_the_tally_counts_as_the_progress_rows_do(registry):
    """County and city roll-ups of an open window are read from the tally; on every as-of day, for every scope the
    tally can serve, they equal the same roll-ups counted from the progress rows."""
    huwei, late = await pair(registry), await pair(registry, start_date="2020-02-20")
    early = await pair(registry, "500101001201", start_date="2020-02-01")
    wansheng, qijiang = await pair(registry, "500110004201"), await pair(registry, "500110001201")
    ended = await pair(registry, "500110001201")
    await report(registry, level="city")  # built now: what follows goes through the updates
    await all_five(registry, huwei)
    await contact(registry, late, at="2020-02-10T09:00:00+08:00", channel="phone")  # before the pairing's start
    await contact(registry, late, at="2020-02-25T23:30:00+08:00", kind="prevention_education")
    await make_needs_survey(registry, late["household"]["id"], surveyed_on="2020-02-26")
    await contact(registry, early, at="2020-02-09T00:00:00+08:00", channel="phone", kind="needs_survey")
    await contact(registry, early, at="2020-02-08T23:59:59+08:00", kind="supplies_help")  # before the window
    await all_five(registry, wansheng)
    await contact(registry, qijiang, at="2020-03-01T12:00:00+08:00", channel="sms", kind="income_plan")
    await all_five(registry, ended)
    assert (await registry.post(f"{PAIRINGS}/{ended['id']}/end", json={"end_date": "2020-03-01"})).status_code == 200

    scopes = [(CITY_ADMIN, None), (CITY_ADMIN, "500230"), (CITY_ADMIN, "wansheng"), (CITY_ADMIN, "500110")]
    scopes.append((FENGDU, None))
    async with registry.app.state.session_factory() as session:
        [start] = (await session.scalars(sa.select(FiveOnesWindow.window_start))).all()
        for as_of in [date(2020, 2, 8), date(2020, 2, 9), date(2020, 2, 11), date(2020, 2, 20), date(2020, 2, 26)]:
            for caller, region in scopes:
                principal = principal_of(caller)
                filters = repository.tally_filters(principal, region)
                assert filters is not None
                current = Campaign(as_of, start, None)
                ctx = SimpleNamespace(principal=principal)
                for level, by_unit in ((FiveOnesLevel.county, True), (FiveOnesLevel.city, False)):
                    tallied = await repository.tallied(session, start, as_of, filters, by_unit=by_unit)
                    counted = repository.counted(current.period, service.pairing_filters(ctx, current, region))
                    expected = await repository.five_ones_rollup(session, counted, rules.GROUPS[level])
                    assert tallied == [dict(row) for row in expected], (as_of, caller, region, level)
        assert repository.tally_filters(principal_of(HUWEI_TOWNSHIP), None) is None  # finer than a county
        assert repository.tally_filters(principal_of(CADRE), None) is None
        assert repository.tally_filters(principal_of(CITY_ADMIN), "500230101") is None


async def test_an_empty_region_has_no_percentages(registry):
    body = await report(registry, level="city", region="500230")
    assert body["total"] == {
        "pairings": 0, "pairings_complete": 0, "pairings_complete_pct": None, "items_due": 0, "items_done": 0,
        "items_done_pct": None, "by_item": NONE_DONE,
    }  # fmt: skip
    assert (await report(registry, level="county"))["items"] == []


# --- listing, scope ---------------------------------------------------------------------------------------------


async def test_pairings_are_paged_newest_first_and_filtered_by_completion(registry):
    made = [await pair(registry) for _ in range(5)]
    await all_five(registry, made[1])
    seen, cursor = [], None
    while True:
        params = {"level": "pairing", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await registry.get(FIVE_ONES, params=params)).json()
        seen += [r["pairing_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [p["id"] for p in reversed(made)]
    assert [r["pairing_id"] for r in await rows(registry, complete="true")] == [made[1]["id"]]
    assert len(await rows(registry, complete="false")) == 4


async def test_region_filters_down_to_a_village(registry):
    here = await pair(registry)
    await pair(registry, "500230101202")
    assert [r["pairing_id"] for r in await rows(registry, region=VILLAGE)] == [here["id"]]
    assert len(await rows(registry, region="500230101")) == 2


async def test_five_ones_are_scoped(registry):
    cadre = await make_cadre(registry, VILLAGE[:9], username=CADRE.subject)
    mine = await pair(registry, cadre=cadre)
    colleague = await pair(registry)
    shetan = await pair(registry, "500230102201")
    wanzhou = await pair(registry, "500101001201")
    for p in (mine, colleague, shetan, wanzhou):
        await all_five(registry, p)

    async def ids(caller, **params):
        return {r["pairing_id"] for r in await rows(registry, caller, **params)}

    assert await ids(FENGDU) == {mine["id"], colleague["id"], shetan["id"]}
    assert await ids(HUWEI_TOWNSHIP) == {mine["id"], colleague["id"]}
    assert await ids(WANZHOU) == {wanzhou["id"]}
    assert await ids(CADRE) == {mine["id"]}
    assert await ids(WANZHOU, region="500230") == set()
    assert (await report(registry, WANZHOU, level="city"))["total"]["pairings"] == 1
    assert (await report(registry, CADRE, level="city"))["total"]["items_done"] == 5
    assert [r["code"] for r in (await report(registry, HUWEI_TOWNSHIP, level="county"))["items"]] == ["500230"]
    assert (await report(registry, HR, level="city"))["total"]["pairings"] == 4


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"level": "village"}, "query.level", "enum"),
        ({"as_of": "2020-02-30"}, "query.as_of", "date_from_datetime_parsing"),
        ({"complete": "maybe"}, "query.complete", "bool_parsing"),
    ],
)
async def test_five_ones_validation(registry, params, field, code):
    problem = assert_problem(await registry.get(FIVE_ONES, params=params), 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_as_of_cannot_be_in_the_future(registry):
    for path in (FIVE_ONES, f"{FIVE_ONES}.xlsx", "/api/v1/registry/me/todo"):
        assert_problem(await registry.get(path, params={"as_of": tomorrow()}), 422, "date_in_future", field="as_of")


async def test_a_window_from_year_one_to_the_last_day_is_computed(registry):
    p = await pair(registry)
    await contact(registry, p, channel="phone")
    await set_five_ones_window(registry, "0001-01-01", "9999-12-31")
    assert await done(registry, p) == ["phone_call"]
    assert (await report(registry, level="city"))["total"]["items_done"] == 1


# --- Excel ------------------------------------------------------------------------------------------------------


def sheet(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return list(book["五个一"].iter_rows(values_only=True))


async def test_five_ones_excel_of_a_region(registry):
    p = await pair(registry)
    await contact(registry, p, channel="phone")
    await pair(registry, "500101001201")
    response = await registry.get(f"{FIVE_ONES}.xlsx", params={"region": "500230", "as_of": "2020-03-01"})
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    header, *lines = sheet(response)
    assert header[:7] == ("区县 County", "乡镇 Township", "村（社区） Village", "户编号 Household no.", "户主 Head",
                          "贫困状态 Status", "帮扶干部 Cadre")  # fmt: skip
    assert len(header) == 14
    assert lines == [
        ("丰都县", "虎威镇", "测试村", p["household"]["household_no"], "张秀华", "未脱贫", p["cadre"]["name"],
         "是", "否", "否", "否", "否", 1, "否"),
    ]  # fmt: skip


async def test_five_ones_excel_is_scoped(registry):
    await pair(registry)
    assert len(sheet(await registry.get(f"{FIVE_ONES}.xlsx", WANZHOU))) == 1
    assert len(sheet(await registry.get(f"{FIVE_ONES}.xlsx", AUDITOR))) == 2


# --- to-do lists ------------------------------------------------------------------------------------------------


async def test_a_cadres_todo_lists_the_missing_items(registry):
    cadre = await make_cadre(registry, VILLAGE[:9], name="李明", username=CADRE.subject)
    finished = await pair(registry, cadre=cadre)
    lifted = await pair(registry, cadre=cadre, status="lifted")
    poor = await pair(registry, cadre=cadre)
    await all_five(registry, finished)
    await contact(registry, poor, channel="phone", kind="supplies_help")
    response = await registry.get(f"{CADRES}/{cadre['id']}/todo", FENGDU, params={"as_of": "2020-03-01"})
    assert response.status_code == 200, response.text
    todo = response.json()
    assert (todo["cadre_id"], todo["cadre_name"], todo["as_of"]) == (cadre["id"], "李明", "2020-03-01")
    assert todo["window"] == {"start": "2020-02-09", "end": None}
    assert [(h["household_id"], h["missing"]) for h in todo["households"]] == [
        (poor["household"]["id"], ["prevention_education", "needs_survey", "income_plan"]),
        (lifted["household"]["id"], ALL),
        (finished["household"]["id"], []),
    ]
    mine = await registry.get("/api/v1/registry/me/todo", CADRE, params={"as_of": "2020-03-01"})
    assert mine.json() == todo


async def test_todo_of_a_cadre_out_of_scope_is_404(registry):
    cadre = await make_cadre(registry, VILLAGE[:9], username=CADRE.subject)
    colleague = await make_cadre(registry, VILLAGE[:9], username="cadre-wang")
    for caller, who in ((WANZHOU, cadre), (CADRE, colleague)):
        assert_problem(await registry.get(f"{CADRES}/{who['id']}/todo", caller), 404, "cadre_not_found")
    assert_problem(await registry.get(f"{CADRES}/nope/todo"), 404, "cadre_not_found")


async def test_my_todo_needs_a_cadre_record(registry):
    problem = assert_problem(await registry.get("/api/v1/registry/me/todo", FENGDU), 404, "cadre_not_found")
    assert problem["title"] == "未找到该帮扶干部"


async def test_an_ended_pairing_leaves_the_todo(registry):
    cadre = await make_cadre(registry, VILLAGE[:9], username=CADRE.subject)
    p = await pair(registry, cadre=cadre)
    await registry.post(f"{PAIRINGS}/{p['id']}/end", json={"end_date": "2020-03-01"})
    assert (await registry.get("/api/v1/registry/me/todo", CADRE)).json()["households"] == []
