"""Needs surveys and income plans (measure 6), clean-ups (measure 8) and impact surveys with their roll-up (measure 19)."""

import pytest

from tests.support.callers import AUDITOR, CITY_ADMIN, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    HOUSEHOLDS,
    assert_problem,
    audit_entries,
    field_error,
    income_plan_body,
    ledger_of,
    listed,
    make_household,
    make_income_plan,
    make_needs_survey,
    make_paired,
    tomorrow,
)

VILLAGE = "500230101201"
CADRE = Caller("cadre-li", ("village_cadre",), (VILLAGE,))


@pytest.fixture
async def paired(registry) -> dict:
    paired = await make_paired(registry, VILLAGE, CADRE.subject)
    return {**paired, "id": paired["household"]["id"]}


def path(household: dict | str, what: str) -> str:
    household_id = household if isinstance(household, str) else household["id"]
    return f"{HOUSEHOLDS}/{household_id}/{what}"


# --- needs surveys ----------------------------------------------------------------------------------------------


async def test_record_a_needs_survey(registry, paired):
    body = {"surveyed_on": "2020-02-20", "needs": ["employment", "sales", "employment"], "difficulties": "生猪滞销"}
    response = await registry.post(path(paired, "needs-surveys"), CADRE, json=body)
    assert response.status_code == 201, response.text
    survey = response.json()
    assert (survey["household_id"], survey["cadre_id"]) == (paired["id"], paired["cadre"]["id"])
    assert (survey["surveyed_on"], survey["needs"], survey["difficulties"]) == (
        "2020-02-20",
        ["employment", "sales"],
        "生猪滞销",
    )
    assert survey["recorded_by"] == CADRE.subject
    [entry] = await audit_entries(registry, AUDITOR, entity_id=survey["id"])
    assert entry["action"] == "needs_survey.create"
    assert entry["changes"]["needs"] == ["employment", "sales"]
    [ledger] = await ledger_of(registry, paired["id"])
    assert (ledger["event_type"], ledger["summary"]) == ("needs_survey.recorded", "脱贫需求调查：就业、销售")
    assert ledger["details"]["id"] == survey["id"]


async def test_an_officer_names_the_cadre_or_records_for_the_office(registry, paired):
    named = await make_needs_survey(registry, paired["id"], caller=FENGDU, cadre_id=paired["cadre"]["id"])
    office = await make_needs_survey(registry, paired["id"], caller=FENGDU)
    assert (named["cadre_id"], office["cadre_id"]) == (paired["cadre"]["id"], None)


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"needs": []}, "needs", "too_short"),
        ({"needs": ["luck"]}, "needs.0", "enum"),
        ({"surveyed_on": None}, "surveyed_on", "date_type"),
        ({"difficulties": "x" * 2001}, "difficulties", "string_too_long"),
    ],
)
async def test_needs_survey_validation(registry, paired, overrides, field, code):
    body = {"surveyed_on": "2020-02-20", "needs": ["medical"], **overrides}
    problem = assert_problem(await registry.post(path(paired, "needs-surveys"), json=body), 422, "validation_failed")
    assert field_error(problem, field)["code"] == code


async def test_needs_survey_cannot_be_in_the_future(registry, paired):
    body = {"surveyed_on": tomorrow(), "needs": ["medical"]}
    response = await registry.post(path(paired, "needs-surveys"), json=body)
    assert_problem(response, 422, "date_in_future", field="surveyed_on")


async def test_needs_surveys_newest_first_and_scoped(registry, paired):
    older = await make_needs_survey(registry, paired["id"], surveyed_on="2020-02-10")
    newer = await make_needs_survey(registry, paired["id"], surveyed_on="2020-03-10", caller=CADRE)
    expected = [newer["id"], older["id"]]
    for caller in (CITY_ADMIN, HUWEI_TOWNSHIP, CADRE, HR):
        assert [s["id"] for s in await listed(registry, path(paired, "needs-surveys"), caller)] == expected
    unpaired = await make_household(registry, VILLAGE)
    body = {"surveyed_on": "2020-02-20", "needs": ["medical"]}
    for caller, household in ((WANZHOU, paired), (CADRE, unpaired)):
        assert_problem(
            await registry.post(path(household, "needs-surveys"), caller, json=body), 404, "household_not_found"
        )
        assert_problem(await registry.get(path(household, "needs-surveys"), caller), 404, "household_not_found")
    assert_problem(await registry.post(path(paired, "needs-surveys"), HR, json=body), 403, "forbidden")


# --- income plans -----------------------------------------------------------------------------------------------


async def test_an_income_plan_expects_the_sum_of_its_measures(registry, paired):
    plan = await make_income_plan(registry, paired["id"], caller=CADRE)
    assert plan["expected_income_fen"] == 360000 + 450050
    assert [m["kind"] for m in plan["measures"]] == ["public_post", "industry"]
    assert plan["measures"][1] == {"kind": "industry", "description": "养殖生猪 3 头", "expected_income_fen": 450050}
    assert (plan["planned_on"], plan["cadre_id"]) == ("2020-02-25", paired["cadre"]["id"])
    [entry] = await audit_entries(registry, AUDITOR, entity_id=plan["id"])
    assert entry["action"] == "income_plan.create"
    [ledger] = await ledger_of(registry, paired["id"])
    assert ledger["summary"] == "脱贫增收计划：2 项措施，预计增收 8,100.50 元"
    assert [p["id"] for p in await listed(registry, path(paired, "income-plans"), CADRE)] == [plan["id"]]


async def test_an_income_plan_of_zero_is_fine(registry, paired):
    measures = [{"kind": "other", "description": "暂无增收来源，纳入低保兜底", "expected_income_fen": 0}]
    plan = await make_income_plan(registry, paired["id"], measures=measures)
    assert plan["expected_income_fen"] == 0


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"measures": []}, "measures", "too_short"),
        ({"measures": [{"kind": "other", "description": "x", "expected_income_fen": -1}]},
         "measures.0.expected_income_fen", "greater_than_equal"),
        ({"measures": [{"kind": "other", "description": "x", "expected_income_fen": 1.5}]},
         "measures.0.expected_income_fen", "int_from_float"),
        ({"measures": [{"kind": "lottery", "description": "x", "expected_income_fen": 1}]}, "measures.0.kind", "enum"),
        ({"measures": [{"kind": "other", "description": "", "expected_income_fen": 1}]},
         "measures.0.description", "string_too_short"),
        ({"expected_income_fen": 5}, "expected_income_fen", "extra_forbidden"),
    ],
)  # fmt: skip
async def test_income_plan_validation(registry, paired, overrides, field, code):
    response = await registry.post(path(paired, "income-plans"), json=income_plan_body(**overrides))
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_income_plan_cannot_be_in_the_future_or_out_of_scope(registry, paired):
    response = await registry.post(path(paired, "income-plans"), json=income_plan_body(tomorrow()))
    assert_problem(response, 422, "date_in_future", field="planned_on")
    response = await registry.post(path(paired, "income-plans"), WANZHOU, json=income_plan_body())
    assert_problem(response, 404, "household_not_found")
    assert_problem(await registry.get(path(paired, "income-plans"), WANZHOU), 404, "household_not_found")


async def test_an_income_plan_repeat_with_the_same_key_records_one(registry, paired):
    headers = {"Idempotency-Key": "plan-1"}
    first = await registry.post(path(paired, "income-plans"), CADRE, json=income_plan_body(), headers=headers)
    again = await registry.post(path(paired, "income-plans"), CADRE, json=income_plan_body(), headers=headers)
    assert again.json() == first.json()
    assert len(await listed(registry, path(paired, "income-plans"))) == 1
    assert len(await ledger_of(registry, paired["id"])) == 1


# --- clean-ups --------------------------------------------------------------------------------------------------


async def put_cleanup(registry, household: dict, campaign: str = "2020-spring", caller=CITY_ADMIN, **body):
    return await registry.request(
        "PUT", path(household, f"cleanups/{campaign}"), caller, json={"done_on": "2020-03-01", **body}
    )


async def test_record_and_replace_a_cleanup(registry, paired):
    created = await put_cleanup(registry, paired, caller=CADRE, notes="房前屋后已清理")
    assert created.status_code == 201, created.text
    cleanup = created.json()
    assert (cleanup["campaign"], cleanup["done_on"], cleanup["notes"]) == (
        "2020-spring",
        "2020-03-01",
        "房前屋后已清理",
    )
    replaced = await put_cleanup(registry, paired, caller=FENGDU, done_on="2020-03-02")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == cleanup["id"]
    assert (replaced.json()["done_on"], replaced.json()["notes"], replaced.json()["recorded_by"]) == (
        "2020-03-02", None, "fengdu",
    )  # fmt: skip
    assert [c["id"] for c in await listed(registry, path(paired, "cleanups"), CADRE)] == [cleanup["id"]]
    entries = await audit_entries(registry, AUDITOR, entity_id=cleanup["id"])
    assert [e["action"] for e in entries] == ["cleanup.update", "cleanup.create"]
    assert entries[0]["changes"] == {"done_on": ["2020-03-01", "2020-03-02"], "notes": ["房前屋后已清理", None]}
    assert [e["summary"] for e in await ledger_of(registry, paired["id"])] == ["房前屋后大扫除（2020-spring）"]


async def test_one_cleanup_per_campaign(registry, paired):
    assert (await put_cleanup(registry, paired, "2020-spring")).status_code == 201
    assert (await put_cleanup(registry, paired, "2020-summer")).status_code == 201
    assert len(await listed(registry, path(paired, "cleanups"))) == 2


@pytest.mark.parametrize(
    ("campaign", "code"), [("春季", "string_pattern_mismatch"), ("x" * 51, "string_pattern_mismatch")]
)
async def test_cleanup_campaign_is_a_code(registry, paired, campaign, code):
    problem = assert_problem(await put_cleanup(registry, paired, campaign), 422, "validation_failed")
    assert field_error(problem, "path.campaign")["code"] == code


async def test_cleanup_refusals(registry, paired):
    assert_problem(await put_cleanup(registry, paired, done_on=tomorrow()), 422, "date_in_future", "done_on")
    assert_problem(await put_cleanup(registry, paired, caller=WANZHOU), 404, "household_not_found")
    assert_problem(await put_cleanup(registry, paired, caller=HR), 403, "forbidden")
    problem = assert_problem(await put_cleanup(registry, paired, done_on="soon"), 422, "validation_failed")
    assert field_error(problem, "done_on")["code"] == "date_from_datetime_parsing"
    unpaired = await make_household(registry, VILLAGE)
    assert_problem(await put_cleanup(registry, unpaired, caller=CADRE), 404, "household_not_found")


async def cleanup_summary(registry, caller=CITY_ADMIN, **params) -> dict:
    response = await registry.get("/api/v1/registry/cleanups", caller, params={"campaign": "2020-spring", **params})
    assert response.status_code == 200, response.text
    return response.json()


def counts(body: dict) -> list[tuple]:
    return [(r["code"], r["name"], r["households"], r["cleaned"], r["cleaned_pct"]) for r in body["items"]]


async def test_cleanup_completion_per_region(registry, paired):
    huwei = [paired["household"], *[await make_household(registry, VILLAGE) for _ in range(2)]]
    shetan = await make_household(registry, "500230102201")
    wanzhou = await make_household(registry, "500101001201")
    for household in (huwei[0], huwei[1], wanzhou):
        await put_cleanup(registry, household)
    await put_cleanup(registry, huwei[2], "2020-summer")
    body = await cleanup_summary(registry)
    assert (body["campaign"], body["level"]) == ("2020-spring", "township")
    assert counts(body) == [
        ("500101001", "高笋塘街道", 1, 1, 100.0),
        ("500230101", "虎威镇", 3, 2, 66.7),
        ("500230102", "社坛镇", 1, 0, 0.0),
    ]
    assert body["total"] == {"code": None, "name": None, "households": 5, "cleaned": 3, "cleaned_pct": 60.0}
    assert counts(await cleanup_summary(registry, level="county")) == [
        ("500101", "万州区", 1, 1, 100.0),
        ("500230", "丰都县", 4, 2, 50.0),
    ]
    assert counts(await cleanup_summary(registry, level="village", region="500230101")) == [
        (VILLAGE, "测试村", 3, 2, 66.7)
    ]
    assert counts(await cleanup_summary(registry, FENGDU, level="county")) == [("500230", "丰都县", 4, 2, 50.0)]
    assert counts(await cleanup_summary(registry, CADRE, level="county")) == [("500230", "丰都县", 1, 1, 100.0)]
    assert (await cleanup_summary(registry, WANZHOU, region="500230"))["total"]["cleaned_pct"] is None
    assert shetan["id"]


async def test_cleanup_summary_needs_a_campaign(registry):
    problem = assert_problem(await registry.get("/api/v1/registry/cleanups"), 422, "validation_failed")
    assert field_error(problem, "query.campaign")["code"] == "missing"


# --- impact surveys ---------------------------------------------------------------------------------------------


def impact_body(**overrides) -> dict:
    body = {
        "surveyed_on": "2020-03-05",
        "method": "phone",
        "exit_target_at_risk": False,
        "income_expectation": "same",
        "income_change_fen": 0,
        "patient_burden_fen": None,
        "notes": None,
    }
    body.update(overrides)
    return body


async def survey(registry, household: dict, caller=CITY_ADMIN, **overrides) -> dict:
    response = await registry.post(path(household, "impact-surveys"), caller, json=impact_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def test_record_an_impact_survey(registry, paired):
    made = await survey(
        registry, paired, CADRE, exit_target_at_risk=True, income_expectation="decrease",
        income_change_fen=-200000, patient_burden_fen=1500000, notes="外出务工推迟",
    )  # fmt: skip
    assert (made["method"], made["exit_target_at_risk"], made["income_expectation"]) == ("phone", True, "decrease")
    assert (made["income_change_fen"], made["patient_burden_fen"]) == (-200000, 1500000)
    assert [s["id"] for s in await listed(registry, path(paired, "impact-surveys"), CADRE)] == [made["id"]]
    [entry] = await audit_entries(registry, AUDITOR, entity_id=made["id"])
    assert entry["action"] == "impact_survey.create"
    [ledger] = await ledger_of(registry, paired["id"])
    assert ledger["summary"] == "疫情影响调查（电话了解）：脱贫目标有风险"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"method": "rumour"}, "method", "enum"),
        ({"income_expectation": "boom"}, "income_expectation", "enum"),
        ({"patient_burden_fen": -1}, "patient_burden_fen", "greater_than_equal"),
        ({"exit_target_at_risk": None}, "exit_target_at_risk", "bool_type"),
    ],
)
async def test_impact_survey_validation(registry, paired, overrides, field, code):
    response = await registry.post(path(paired, "impact-surveys"), json=impact_body(**overrides))
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_impact_survey_refusals(registry, paired):
    response = await registry.post(path(paired, "impact-surveys"), json=impact_body(surveyed_on=tomorrow()))
    assert_problem(response, 422, "date_in_future", field="surveyed_on")
    response = await registry.post(path(paired, "impact-surveys"), WANZHOU, json=impact_body())
    assert_problem(response, 404, "household_not_found")
    assert_problem(await registry.get(path(paired, "impact-surveys"), WANZHOU), 404, "household_not_found")
    assert_problem(await registry.post(path(paired, "impact-surveys"), AUDITOR, json=impact_body()), 403, "forbidden")


async def impact_summary(registry, caller=CITY_ADMIN, **params) -> dict:
    response = await registry.get("/api/v1/registry/impact-surveys/summary", caller, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_impact_summary_counts_each_household_by_its_latest_survey(registry, paired):
    """Three Fengdu households: A at risk, expecting less, burden 10.00 yuan; B expecting the same, burden 20.01
    yuan; C at risk and expecting more on 5 March, no longer at risk on 20 March. One Wanzhou household at risk."""
    a = paired["household"]
    b = await make_household(registry, VILLAGE)
    c = await make_household(registry, "500230102201")
    d = await make_household(registry, "500101001201")
    await survey(registry, a, exit_target_at_risk=True, income_expectation="decrease", patient_burden_fen=1000)
    await survey(registry, b, method="online", patient_burden_fen=2001)
    await survey(registry, c, exit_target_at_risk=True, income_expectation="increase")
    await survey(registry, c, surveyed_on="2020-03-20", income_expectation="increase", method="data_comparison")
    await survey(registry, d, exit_target_at_risk=True, income_expectation="decrease")
    body = await impact_summary(registry, region="500230")
    fengdu = {
        "code": "500230", "name": "丰都县", "households_surveyed": 3, "at_risk": 1, "at_risk_pct": 33.3,
        "expect_increase": 1, "expect_same": 1, "expect_decrease": 1, "patient_burden_households": 2,
        "patient_burden_total_fen": 3001, "patient_burden_avg_fen": 1501,
    }  # fmt: skip
    assert body["level"] == "county"
    assert body["items"] == [fengdu]
    assert body["total"] == {**fengdu, "code": None, "name": None}
    townships = await impact_summary(registry, region="500230", level="township")
    assert [(r["code"], r["households_surveyed"], r["at_risk"]) for r in townships["items"]] == [
        ("500230101", 2, 1),
        ("500230102", 1, 0),
    ]
    city = await impact_summary(registry)
    assert [(r["code"], r["at_risk"]) for r in city["items"]] == [("500101", 1), ("500230", 1)]
    assert (city["total"]["households_surveyed"], city["total"]["at_risk_pct"]) == (4, 50.0)
    early = await impact_summary(registry, region="500230", to="2020-03-19")
    assert (early["total"]["households_surveyed"], early["total"]["at_risk"]) == (3, 2)
    late = await impact_summary(registry, **{"from": "2020-03-06"})
    assert (late["total"]["households_surveyed"], late["total"]["at_risk"]) == (1, 0)


async def test_impact_summary_is_scoped(registry, paired):
    await survey(registry, paired["household"], exit_target_at_risk=True)
    unpaired = await make_household(registry, VILLAGE)
    await survey(registry, unpaired)
    wanzhou = await make_household(registry, "500101001201")
    await survey(registry, wanzhou)
    assert (await impact_summary(registry, FENGDU))["total"]["households_surveyed"] == 2
    assert (await impact_summary(registry, CADRE))["total"]["households_surveyed"] == 1
    assert (await impact_summary(registry, WANZHOU, region="500230"))["items"] == []
    empty = (await impact_summary(registry, WANZHOU, region="500230"))["total"]
    assert (empty["households_surveyed"], empty["at_risk_pct"], empty["patient_burden_avg_fen"]) == (0, None, None)


async def test_impact_summary_level_is_county_township_or_village(registry):
    response = await registry.get("/api/v1/registry/impact-surveys/summary", params={"level": "city"})
    problem = assert_problem(response, 422, "validation_failed")
    assert field_error(problem, "query.level")["code"] == "enum"
