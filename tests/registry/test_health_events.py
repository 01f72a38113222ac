"""Health events through the API: the person's state, key monitoring, events and ledger, refusals, scope, replay."""

from datetime import timedelta

import pytest

from shared.dates import today
from tests.support.callers import AUDITOR, CITY_ADMIN, CIVIL, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    HEALTH_EVENTS,
    assert_problem,
    audit_entries,
    health_body,
    health_path,
    ledger_of,
    make_cadre,
    make_household,
    make_pairing,
    published,
    record_health,
)

VILLAGE = "500230101201"
CADRE = Caller("cadre-x", ("village_cadre",), ("500230101201",))


@pytest.fixture
async def household(registry) -> dict:
    return await make_household(registry, VILLAGE)


@pytest.fixture
def head(household) -> dict:
    return household["members"][0]


async def history(registry, person_id: str, caller=CITY_ADMIN) -> dict:
    response = await registry.get(health_path(person_id), caller)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(registry, caller=CITY_ADMIN, **params) -> list[dict]:
    response = await registry.get(HEALTH_EVENTS, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


# --- recording and the person's state -----------------------------------------------------------------------------


async def test_confirmation_is_recorded_and_makes_a_key_monitoring_object(registry, household, head):
    body = health_body("confirmed", "2020-02-03", notes="发热三天")
    response = await registry.post(health_path(head["id"]), FENGDU, json=body)
    assert response.status_code == 201, response.text
    event, person = response.json()["event"], response.json()["person"]
    assert event["id"] and event["created_at"]
    assert (event["kind"], event["occurred_on"], event["person_id"], event["person_name"]) == (
        "confirmed", "2020-02-03", head["id"], "张秀华",
    )  # fmt: skip
    assert (event["hospital"], event["hospitalised"], event["notes"]) == ("重庆三峡中心医院", True, "发热三天")
    assert (event["household_id"], event["county_code"], event["township_code"], event["village_code"]) == (
        household["id"], "500230", "500230101", VILLAGE,
    )  # fmt: skip
    assert (event["isolation_place"], event["isolation_reason"], event["recorded_by"]) == (None, None, "fengdu")
    assert person == {
        "person_id": head["id"], "household_id": household["id"], "name": "张秀华", "health_status": "confirmed",
        "diagnosed_on": "2020-02-03", "deceased_on": None, "key_monitoring": True,
    }  # fmt: skip


async def test_a_new_person_has_no_health_status(registry, head):
    state = await history(registry, head["id"])
    assert (state["health_status"], state["key_monitoring"], state["diagnosed_on"], state["events"]) == (
        "none", False, None, [],
    )  # fmt: skip


async def test_history_holds_the_events_oldest_first_and_the_state(registry, head):
    await record_health(registry, head["id"], "isolated", "2020-01-28", isolation_reason="suspected")
    await record_health(registry, head["id"], "suspected", "2020-01-30")
    await record_health(registry, head["id"], "confirmed", "2020-02-01")
    await record_health(registry, head["id"], "discharged", "2020-02-20")
    state = await history(registry, head["id"], HR)
    assert [e["kind"] for e in state["events"]] == ["isolated", "suspected", "confirmed", "discharged"]
    assert state["events"][0]["isolation_reason"] == "suspected"
    assert (state["health_status"], state["diagnosed_on"], state["key_monitoring"]) == (
        "discharged", "2020-02-01", True,
    )  # fmt: skip


async def test_death_sets_the_date_and_nothing_may_follow(registry, head):
    await record_health(registry, head["id"], "confirmed", "2020-02-01")
    result = await record_health(registry, head["id"], "deceased", "2020-02-12")
    assert (result["person"]["health_status"], result["person"]["deceased_on"]) == ("deceased", "2020-02-12")
    for kind in ("discharged", "confirmed", "cleared"):
        response = await registry.post(health_path(head["id"]), json=health_body(kind, "2020-02-13"))
        problem = assert_problem(response, 409, "person_deceased", field="kind")
        assert problem["title"] == "该人员已死亡，不能再登记健康事件"


async def test_a_discharged_patient_confirmed_again_gets_the_new_diagnosis_date(registry, head):
    await record_health(registry, head["id"], "confirmed", "2020-02-01")
    await record_health(registry, head["id"], "discharged", "2020-02-15")
    result = await record_health(registry, head["id"], "confirmed", "2020-03-01")
    assert (result["person"]["diagnosed_on"], result["person"]["key_monitoring"]) == ("2020-03-01", True)
    assert len(await published(registry, "household.monitoring_changed")) == 1


# --- events and ledger ----------------------------------------------------------------------------------------------


async def test_every_health_event_is_published_with_the_household_facts(registry, household, head):
    await record_health(registry, head["id"], "suspected", "2020-02-01")
    recorded = await record_health(registry, head["id"], "confirmed", "2020-02-03")
    await record_health(registry, head["id"], "discharged", "2020-02-20")
    events = await published(registry, "person.health_changed")
    assert [e["data"]["kind"] for e in events] == ["discharged", "confirmed", "suspected"]
    discharged, confirmed, suspected = (e["data"] for e in events)
    assert all(e["household_id"] == household["id"] and e["county_code"] == "500230" for e in events)
    assert confirmed == {
        "person_id": head["id"], "household_id": household["id"], "county_code": "500230",
        "township_code": "500230101", "village_code": VILLAGE, "area_class": "rural",
        "household_status": "not_lifted", "kind": "confirmed", "occurred_on": "2020-02-03",
        "previous_status": "suspected", "status": "confirmed", "hospitalised": True, "hospital": "重庆三峡中心医院",
        "diagnosed_on": "2020-02-03", "health_event_id": recorded["event"]["id"],
    }  # fmt: skip
    assert (suspected["previous_status"], suspected["status"], suspected["diagnosed_on"]) == ("none", "suspected", None)
    assert (discharged["previous_status"], discharged["diagnosed_on"], discharged["hospital"]) == (
        "confirmed", "2020-02-03", None,
    )  # fmt: skip


async def test_confirmation_publishes_monitoring_changed(registry, household, head):
    await record_health(registry, head["id"], "confirmed", "2020-02-03")
    [event] = await published(registry, "household.monitoring_changed")
    assert event["household_id"] == household["id"]
    assert event["data"] == {
        "household_id": household["id"], "county_code": "500230", "person_id": head["id"], "key_monitoring": True,
        "reason": "确诊 confirmed 2020-02-03",
    }  # fmt: skip


async def test_events_short_of_confirmation_make_no_key_monitoring_object(registry, head):
    await record_health(registry, head["id"], "suspected", "2020-02-01")
    await record_health(registry, head["id"], "cleared", "2020-02-02")
    assert await published(registry, "household.monitoring_changed") == []
    assert (await history(registry, head["id"]))["key_monitoring"] is False


async def test_the_ledger_holds_a_line_per_event(registry, household, head):
    await record_health(registry, head["id"], "isolated", "2020-02-01", isolation_place="centralised")
    await record_health(registry, head["id"], "confirmed", "2020-02-03", hospitalised=False)
    summaries = [(e["event_type"], e["summary"]) for e in await ledger_of(registry, household["id"])]
    assert summaries == [
        ("person.health_changed", "张秀华 隔离（集中隔离，密切接触者）"),
        ("person.health_changed", "张秀华 确诊（重庆三峡中心医院，未住院）"),
        ("household.monitoring_changed", "张秀华 确诊，列为重点监测对象"),
    ]


async def test_recording_is_audited(registry, head):
    result = await record_health(registry, head["id"], "confirmed", "2020-02-03", caller=FENGDU)
    [entry] = await audit_entries(registry, AUDITOR, entity_id=result["event"]["id"])
    assert (entry["action"], entry["actor"], entry["county_code"]) == ("health_event.record", "fengdu", "500230")
    assert entry["changes"] == {
        "person_id": head["id"], "kind": "confirmed", "occurred_on": "2020-02-03",
        "health_status": ["none", "confirmed"], "key_monitoring": [False, True],
    }  # fmt: skip


# --- refusals -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "kind", "status", "code"),
    [
        ([], "discharged", 422, "discharge_without_confirmation"),
        ([("suspected", "2020-02-01")], "discharged", 422, "discharge_without_confirmation"),
        ([("confirmed", "2020-02-01"), ("discharged", "2020-02-09")], "discharged", 422,
         "discharge_without_confirmation"),
        ([], "released", 422, "release_without_isolation"),
        ([("suspected", "2020-02-01")], "released", 422, "release_without_isolation"),
        ([], "cleared", 422, "clear_without_suspicion"),
        ([("confirmed", "2020-02-01")], "cleared", 422, "clear_without_suspicion"),
        ([("confirmed", "2020-02-01")], "isolated", 422, "already_confirmed"),
        ([("confirmed", "2020-02-01")], "confirmed", 422, "already_confirmed"),
        ([("suspected", "2020-02-01")], "suspected", 422, "health_status_unchanged"),
        ([("deceased", "2020-02-01")], "suspected", 409, "person_deceased"),
    ],
)  # fmt: skip
async def test_refused_transitions(registry, head, before, kind, status, code):
    for earlier_kind, on in before:
        await record_health(registry, head["id"], earlier_kind, on)
    response = await registry.post(health_path(head["id"]), FENGDU, json=health_body(kind, "2020-02-10"))
    assert_problem(response, status, code, field="kind")
    assert len((await history(registry, head["id"]))["events"]) == len(before)


async def test_allowed_path_through_isolation(registry, head):
    await record_health(registry, head["id"], "isolated", "2020-02-01")
    result = await record_health(registry, head["id"], "released", "2020-02-14")
    assert result["person"]["health_status"] == "released"
    await record_health(registry, head["id"], "isolated", "2020-02-20", isolation_reason="returned")
    await record_health(registry, head["id"], "cleared", "2020-02-21")


async def test_event_dated_today_in_shanghai_is_accepted_tomorrow_is_not(registry, head):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = await registry.post(health_path(head["id"]), json=health_body("suspected", tomorrow))
    problem = assert_problem(response, 422, "health_event_in_future", field="occurred_on")
    assert problem["title"] == "事件日期不能晚于今天（北京时间）"
    await record_health(registry, head["id"], "suspected", today().isoformat())


async def test_event_before_birth_is_refused(registry, head):
    assert head["birth_date"] == "1970-01-01"
    response = await registry.post(health_path(head["id"]), json=health_body("suspected", "1969-12-31"))
    assert_problem(response, 422, "health_event_before_birth", field="occurred_on")
    await record_health(registry, head["id"], "suspected", "1970-01-01")


async def test_event_before_the_previous_one_is_refused_the_same_day_is_not(registry, head):
    await record_health(registry, head["id"], "suspected", "2020-02-05")
    response = await registry.post(
        health_path(head["id"]), json=health_body("confirmed", "2020-02-04"), headers={"Accept-Language": "en"}
    )
    problem = assert_problem(response, 422, "health_event_before_previous", field="occurred_on")
    assert problem["title"] == "The event is dated before the person's previous one (2020-02-05)"
    await record_health(registry, head["id"], "confirmed", "2020-02-05")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (health_body("confirmed", "2020-02-03", hospital=None), "health_detail_required", "hospital"),
        (health_body("confirmed", "2020-02-03", hospitalised=None), "health_detail_required", "hospitalised"),
        (health_body("isolated", "2020-02-03", isolation_place=None), "health_detail_required", "isolation_place"),
        (health_body("isolated", "2020-02-03", isolation_reason=None), "health_detail_required", "isolation_reason"),
        (health_body("suspected", "2020-02-03", hospital="x"), "health_detail_not_allowed", "hospital"),
        (
            health_body("confirmed", "2020-02-03", isolation_place="home"),
            "health_detail_not_allowed",
            "isolation_place",
        ),
    ],
)
async def test_details_belong_to_their_kind(registry, head, body, code, field):
    problem = assert_problem(await registry.post(health_path(head["id"]), json=body), 422, code, field=field)
    assert problem["title"].endswith("事件必须填写此项" if code == "health_detail_required" else "事件不填写此项")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "recovered", "occurred_on": "2020-02-03"}, "kind"),
        ({"kind": "suspected"}, "occurred_on"),
        ({"kind": "suspected", "occurred_on": "2020-02-30"}, "occurred_on"),
        (health_body("isolated", "2020-02-03", isolation_place="hotel"), "isolation_place"),
        (health_body("suspected", "2020-02-03", extra=1), "extra"),
    ],
)
async def test_malformed_events_are_refused(registry, head, body, field):
    assert_problem(await registry.post(health_path(head["id"]), json=body), 422, "validation_failed", field=field)


async def test_unknown_person_is_404(registry):
    response = await registry.post(health_path("nope"), json=health_body("suspected", "2020-02-03"))
    assert_problem(response, 404, "person_not_found")
    assert_problem(await registry.get(health_path("nope")), 404, "person_not_found")


# --- scope and permissions -----------------------------------------------------------------------------------------


async def test_officer_of_another_county_gets_404(registry, head):
    response = await registry.post(health_path(head["id"]), WANZHOU, json=health_body("suspected", "2020-02-03"))
    assert_problem(response, 404, "person_not_found")
    assert_problem(await registry.get(health_path(head["id"]), WANZHOU), 404, "person_not_found")
    assert (await history(registry, head["id"]))["events"] == []


async def test_township_officer_records_in_own_township_only(registry, head):
    await record_health(registry, head["id"], "suspected", "2020-02-03", caller=HUWEI_TOWNSHIP)
    other = await make_household(registry, "500230102201")
    response = await registry.post(
        health_path(other["members"][0]["id"]), HUWEI_TOWNSHIP, json=health_body("suspected", "2020-02-03")
    )
    assert_problem(response, 404, "person_not_found")


async def test_village_cadre_records_for_paired_households_only(registry, household, head):
    other = await make_household(registry, VILLAGE)
    cadre = await make_cadre(registry, VILLAGE, username=CADRE.subject)
    await make_pairing(registry, cadre["id"], household["id"])
    await record_health(registry, head["id"], "suspected", "2020-02-03", caller=CADRE)
    response = await registry.post(
        health_path(other["members"][0]["id"]), CADRE, json=health_body("suspected", "2020-02-03")
    )
    assert_problem(response, 404, "person_not_found")
    assert_problem(await registry.get(health_path(other["members"][0]["id"]), CADRE), 404, "person_not_found")
    assert (await history(registry, head["id"], CADRE))["health_status"] == "suspected"
    assert [e["person_id"] for e in await listed(registry, CADRE)] == [head["id"]]


@pytest.mark.parametrize("caller", [AUDITOR, CIVIL, HR])
async def test_readers_cannot_record(registry, head, caller):
    response = await registry.post(health_path(head["id"]), caller, json=health_body("suspected", "2020-02-03"))
    assert_problem(response, 403, "forbidden")
    assert (await registry.get(health_path(head["id"]), caller)).status_code == 200


async def test_no_token_is_401(registry, head):
    response = await registry.post(health_path(head["id"]), None, json=health_body("suspected", "2020-02-03"))
    assert_problem(response, 401, "unauthenticated")
    assert_problem(await registry.get(HEALTH_EVENTS, None), 401, "unauthenticated")


# --- idempotency ----------------------------------------------------------------------------------------------------


async def test_a_repeated_post_returns_the_first_answer_and_records_once(registry, household, head):
    body, headers = health_body("confirmed", "2020-02-03"), {"Idempotency-Key": "mobile-1"}
    first = await registry.post(health_path(head["id"]), FENGDU, json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = await registry.post(health_path(head["id"]), FENGDU, json=body, headers=headers)
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert len((await history(registry, head["id"]))["events"]) == 1
    assert len(await published(registry, "person.health_changed")) == 1
    assert len(await published(registry, "household.monitoring_changed")) == 1
    assert len(await audit_entries(registry, AUDITOR, action="health_event.record")) == 1
    assert len(await ledger_of(registry, household["id"])) == 2


async def test_the_same_key_with_another_event_is_409(registry, head):
    headers = {"Idempotency-Key": "mobile-2"}
    first = await registry.post(health_path(head["id"]), json=health_body("suspected", "2020-02-03"), headers=headers)
    assert first.status_code == 201
    other = await registry.post(health_path(head["id"]), json=health_body("confirmed", "2020-02-04"), headers=headers)
    assert_problem(other, 409, "idempotency_key_reused", field="Idempotency-Key")
    assert len((await history(registry, head["id"]))["events"]) == 1


# --- the list -------------------------------------------------------------------------------------------------------


@pytest.fixture
async def spread(registry, household, head) -> dict[str, str]:
    """Events in two villages of 丰都 and one in 万州; returns {label: event id}."""
    wanzhou = await make_household(registry, "500101001201")
    other_village = await make_household(registry, "500230102201")
    ids = {}
    for label, person, kind, on in [
        ("head-suspected", head["id"], "suspected", "2020-02-01"),
        ("head-confirmed", head["id"], "confirmed", "2020-02-03"),
        ("spouse-isolated", household["members"][1]["id"], "isolated", "2020-02-02"),
        ("other-confirmed", other_village["members"][0]["id"], "confirmed", "2020-02-05"),
        ("wanzhou-suspected", wanzhou["members"][0]["id"], "suspected", "2020-02-04"),
    ]:
        ids[label] = (await record_health(registry, person, kind, on))["event"]["id"]
    return ids


def labels(spread: dict[str, str], items: list[dict]) -> list[str]:
    by_id = {v: k for k, v in spread.items()}
    return [by_id[e["id"]] for e in items]


async def test_list_is_newest_recorded_first_and_scoped(registry, spread):
    assert labels(spread, await listed(registry)) == [
        "wanzhou-suspected", "other-confirmed", "spouse-isolated", "head-confirmed", "head-suspected",
    ]  # fmt: skip
    assert labels(spread, await listed(registry, WANZHOU)) == ["wanzhou-suspected"]
    assert set(labels(spread, await listed(registry, HUWEI_TOWNSHIP))) == {
        "spouse-isolated", "head-confirmed", "head-suspected",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "confirmed"}, {"head-confirmed", "other-confirmed"}),
        ({"region": "500230102"}, {"other-confirmed"}),
        ({"region": "500101"}, {"wanzhou-suspected"}),
        ({"occurred_from": "2020-02-03"}, {"head-confirmed", "other-confirmed", "wanzhou-suspected"}),
        ({"occurred_to": "2020-02-02"}, {"head-suspected", "spouse-isolated"}),
        ({"occurred_from": "2020-02-02", "occurred_to": "2020-02-03", "kind": "isolated"}, {"spouse-isolated"}),
    ],
)
async def test_list_filters(registry, spread, params, expected):
    assert set(labels(spread, await listed(registry, **params))) == expected


async def test_list_region_filter_stays_within_scope(registry, spread):
    assert await listed(registry, WANZHOU, region="500230") == []


async def test_list_pages(registry, spread):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await registry.get(HEALTH_EVENTS, params=params)).json()
        seen += [e["id"] for e in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted(spread.values(), reverse=True)


@pytest.mark.parametrize(
    ("params", "field"), [({"kind": "x"}, "query.kind"), ({"occurred_from": "x"}, "query.occurred_from")]
)
async def test_list_validation(registry, params, field):
    assert_problem(await registry.get(HEALTH_EVENTS, params=params), 422, "validation_failed", field=field)


async def test_bad_cursor_is_400(registry):
    assert_problem(await registry.get(HEALTH_EVENTS, params={"cursor": "!!"}), 400, "invalid_cursor")
