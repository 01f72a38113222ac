"""The contact log (measure 5): channels, no visits where there are cases (measure 22), the event, the ledger, scope."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.pagination import encode_cursor
from tests.support.callers import AUDITOR, CITY_ADMIN, FENGDU, HR, HUWEI_TOWNSHIP, WANZHOU, Caller
from tests.support.registry import (
    CADRES,
    CONTACTS,
    HOUSEHOLDS,
    assert_problem,
    audit_entries,
    contact_body,
    field_error,
    flag_case_region,
    ledger_of,
    listed,
    make_cadre,
    make_contact,
    make_household,
    make_paired,
    published,
)

VILLAGE = "500230101201"
CADRE = Caller("cadre-li", ("village_cadre",), (VILLAGE,))


@pytest.fixture
async def paired(registry) -> dict:
    return await make_paired(registry, VILLAGE, CADRE.subject)


# --- recording --------------------------------------------------------------------------------------------------


async def test_officer_records_a_contact_by_a_cadre(registry, paired):
    household, cadre = paired["household"], paired["cadre"]
    body = contact_body(household["id"], cadre_id=cadre["id"], channel="wechat", kind="prevention_education")
    response = await registry.post(CONTACTS, FENGDU, json=body)
    assert response.status_code == 201, response.text
    contact = response.json()
    assert (contact["household_id"], contact["cadre_id"], contact["cadre_name"]) == (
        household["id"],
        cadre["id"],
        "李明",
    )
    assert (contact["channel"], contact["kind"], contact["notes"]) == ("wechat", "prevention_education", "询问身体状况")
    assert datetime.fromisoformat(contact["contacted_at"]) == datetime(2020, 2, 12, 2, 0, tzinfo=UTC)
    assert contact["recorded_by"] == "fengdu"
    [entry] = await audit_entries(registry, AUDITOR, entity_id=contact["id"])
    assert (entry["action"], entry["actor"], entry["county_code"]) == ("contact.create", "fengdu", "500230")
    assert entry["changes"]["channel"] == "wechat" and entry["changes"]["cadre_id"] == cadre["id"]


async def test_a_village_cadre_records_as_themselves_by_default(registry, paired):
    contact = await make_contact(registry, paired["household"]["id"], CADRE)
    assert (contact["cadre_id"], contact["cadre_name"]) == (paired["cadre"]["id"], "李明")
    assert contact["recorded_by"] == CADRE.subject


async def test_an_officer_without_a_cadre_record_records_for_the_office(registry, paired):
    contact = await make_contact(registry, paired["household"]["id"], FENGDU)
    assert (contact["cadre_id"], contact["cadre_name"]) == (None, None)


async def test_contact_recorded_event_and_ledger_entry(registry, paired):
    household = paired["household"]
    contact = await make_contact(registry, household["id"], CADRE, channel="phone", kind="care")
    [event] = await published(registry, "contact.recorded")
    assert (event["source"], event["version"], event["household_id"]) == ("registry", 1, household["id"])
    assert event["county_code"] == "500230"
    data = event["data"]
    assert data["contact_id"] == contact["id"] and data["cadre_id"] == paired["cadre"]["id"]
    assert (data["channel"], data["kind"], data["household_id"]) == ("phone", "care", household["id"])
    assert datetime.fromisoformat(data["contacted_at"]) == datetime.fromisoformat(contact["contacted_at"])
    [entry] = [e for e in await ledger_of(registry, household["id"]) if e["event_type"] == "contact.recorded"]
    assert entry["summary"] == "电话慰问（李明）"
    assert entry["source"] == "registry"
    assert entry["details"]["contact_id"] == contact["id"]


@pytest.mark.parametrize(
    ("channel", "kind", "summary"),
    [
        ("wechat", "prevention_education", "微信防疫宣传（李明）"),
        ("letter", "counselling", "书信心理疏导（李明）"),
        ("visit", "supplies_help", "入户帮购防护物资（李明）"),
    ],
)
async def test_ledger_summary_names_channel_kind_and_cadre(registry, paired, channel, kind, summary):
    await make_contact(registry, paired["household"]["id"], CADRE, channel=channel, kind=kind)
    assert [e["summary"] for e in await ledger_of(registry, paired["household"]["id"])] == [summary]


async def test_ledger_summary_names_the_officer_without_a_cadre(registry, paired):
    await make_contact(registry, paired["household"]["id"], FENGDU, kind="agricultural_guidance")
    assert [e["summary"] for e in await ledger_of(registry, paired["household"]["id"])] == ["电话农技指导（fengdu）"]


async def test_a_repeat_with_the_same_key_records_one_contact(registry, paired):
    body = contact_body(paired["household"]["id"])
    headers = {"Idempotency-Key": "mobile-1"}
    first = await registry.post(CONTACTS, CADRE, json=body, headers=headers)
    again = await registry.post(CONTACTS, CADRE, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert [c["id"] for c in await listed(registry, CONTACTS)] == [first.json()["id"]]
    assert len(await published(registry, "contact.recorded")) == 1
    assert len(await ledger_of(registry, paired["household"]["id"])) == 1
    other = await registry.post(CONTACTS, CADRE, json={**body, "kind": "other"}, headers=headers)
    assert_problem(other, 409, "idempotency_key_reused", field="Idempotency-Key")


# --- RULE: no in-person visits where there are cases (measures 5, 22) ------------------------------------------------


async def test_a_visit_to_a_flagged_village_is_refused(registry, paired):
    await flag_case_region(registry, VILLAGE)
    response = await registry.post(CONTACTS, CADRE, json=contact_body(paired["household"]["id"], channel="visit"))
    problem = assert_problem(response, 409, "visit_refused_case_village", field="channel")
    assert problem["title"].startswith("该村（社区）或所在乡镇有疫情")
    assert await listed(registry, CONTACTS) == []
    assert await published(registry, "contact.recorded") == []
    assert await ledger_of(registry, paired["household"]["id"]) == []


async def test_a_visit_refusal_in_english(registry, paired):
    await flag_case_region(registry, VILLAGE)
    response = await registry.post(
        CONTACTS,
        CADRE,
        json=contact_body(paired["household"]["id"], channel="visit"),
        headers={"Accept-Language": "en"},
    )
    problem = assert_problem(response, 409, "visit_refused_case_village")
    assert problem["title"].startswith("The village or its township has cases")


async def test_a_visit_is_refused_when_the_township_is_flagged(registry, paired):
    await flag_case_region(registry, VILLAGE[:9])
    response = await registry.post(CONTACTS, CADRE, json=contact_body(paired["household"]["id"], channel="visit"))
    assert_problem(response, 409, "visit_refused_case_village", field="channel")


@pytest.mark.parametrize("channel", ["phone", "sms", "qq", "wechat", "letter"])
async def test_contactless_channels_are_fine_in_a_flagged_village(registry, paired, channel):
    await flag_case_region(registry, VILLAGE)
    contact = await make_contact(registry, paired["household"]["id"], CADRE, channel=channel)
    assert contact["channel"] == channel


async def test_a_visit_is_fine_where_there_is_no_flag_or_the_flag_is_off(registry, paired):
    await flag_case_region(registry, "500230101202")  # a neighbouring village
    await flag_case_region(registry, "500230102")  # another township
    first = await make_contact(registry, paired["household"]["id"], CADRE, channel="visit")
    await flag_case_region(registry, VILLAGE)
    refused = await registry.post(CONTACTS, CADRE, json=contact_body(paired["household"]["id"], channel="visit"))
    assert_problem(refused, 409, "visit_refused_case_village")
    await flag_case_region(registry, VILLAGE, flagged=False)
    second = await make_contact(registry, paired["household"]["id"], CADRE, channel="visit")
    assert {c["id"] for c in await listed(registry, CONTACTS)} == {first["id"], second["id"]}


# --- refusals ---------------------------------------------------------------------------------------------------


async def test_contacted_at_in_the_future_is_refused(registry, paired):
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await registry.post(CONTACTS, CADRE, json=contact_body(paired["household"]["id"], contacted_at=later))
    problem = assert_problem(response, 422, "date_in_future", field="contacted_at")
    assert field_error(problem, "contacted_at")["message"] == "不能晚于当前时间"


async def test_contacted_at_a_minute_ahead_is_taken_as_now(registry, paired):
    """A phone's clock may run a little ahead."""
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    await make_contact(registry, paired["household"]["id"], CADRE, contacted_at=ahead)


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"contacted_at": "2020-02-12T10:00:00"}, "contacted_at", "timezone_aware"),
        ({"contacted_at": "yesterday"}, "contacted_at", "datetime_from_date_parsing"),
        ({"contacted_at": "1999-12-31T23:59:59+00:00"}, "contacted_at", "greater_than_equal"),
        ({"channel": "pigeon"}, "channel", "enum"),
        ({"kind": "gossip"}, "kind", "enum"),
        ({"notes": "x" * 2001}, "notes", "string_too_long"),
        ({"household_id": None}, "household_id", "string_type"),
        ({"extra": 1}, "extra", "extra_forbidden"),
    ],
)
async def test_contact_validation(registry, paired, overrides, field, code):
    response = await registry.post(CONTACTS, CADRE, json={**contact_body(paired["household"]["id"]), **overrides})
    problem = assert_problem(response, 422, "validation_failed", field=field)
    assert field_error(problem, field)["code"] == code


async def test_contact_needs_a_household_in_scope(registry, paired):
    wanzhou = await make_household(registry, "500101001201")
    for household_id in ("nope", wanzhou["id"]):
        response = await registry.post(CONTACTS, FENGDU, json=contact_body(household_id))
        assert_problem(response, 404, "household_not_found", field="household_id")


async def test_a_village_cadre_cannot_log_for_an_unpaired_household(registry, paired):
    neighbour = await make_household(registry, VILLAGE)
    response = await registry.post(CONTACTS, CADRE, json=contact_body(neighbour["id"]))
    assert_problem(response, 404, "household_not_found", field="household_id")


async def test_the_cadre_must_be_in_scope_and_active(registry, paired):
    household = paired["household"]
    wanzhou_cadre = await make_cadre(registry, "500101")
    response = await registry.post(CONTACTS, FENGDU, json=contact_body(household["id"], cadre_id=wanzhou_cadre["id"]))
    assert_problem(response, 404, "cadre_not_found", field="cadre_id")
    colleague = await make_cadre(registry, VILLAGE[:9], username="cadre-wang")
    response = await registry.post(CONTACTS, CADRE, json=contact_body(household["id"], cadre_id=colleague["id"]))
    assert_problem(response, 404, "cadre_not_found", field="cadre_id")
    await registry.patch(f"{CADRES}/{colleague['id']}", json={"active": False})
    response = await registry.post(CONTACTS, FENGDU, json=contact_body(household["id"], cadre_id=colleague["id"]))
    assert_problem(response, 422, "cadre_inactive", field="cadre_id")


@pytest.mark.parametrize("caller", [HR, AUDITOR])
async def test_readers_cannot_record_contacts(registry, paired, caller):
    response = await registry.post(CONTACTS, caller, json=contact_body(paired["household"]["id"]))
    problem = assert_problem(response, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 contacts:record）"


async def test_a_token_is_required(registry):
    assert_problem(await registry.get(CONTACTS, None), 401, "unauthenticated")


# --- lists ------------------------------------------------------------------------------------------------------


async def test_contacts_newest_first_by_contact_time_with_paging(registry, paired):
    household_id = paired["household"]["id"]
    times = ["2020-02-12T10:00:00+08:00", "2020-02-10T10:00:00+08:00", "2020-02-14T10:00:00+08:00"]
    made = [await make_contact(registry, household_id, CADRE, contacted_at=at) for at in times]
    same_time = await make_contact(registry, household_id, CADRE, contacted_at=times[0])
    expected = [made[2]["id"], same_time["id"], made[0]["id"], made[1]["id"]]
    assert [c["id"] for c in await listed(registry, CONTACTS)] == expected
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await registry.get(CONTACTS, params=params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    for cursor in ("bm9wZQ", encode_cursor({"at": "2020-02-12T10:00:00", "id": "x"}), encode_cursor({"at": 5})):
        assert_problem(await registry.get(CONTACTS, params={"cursor": cursor}), 400, "invalid_cursor")


async def test_contacts_filters(registry, paired):
    household, cadre = paired["household"], paired["cadre"]
    other = await make_household(registry, VILLAGE)
    phone = await make_contact(registry, household["id"], CADRE, channel="phone", kind="care")
    wechat = await make_contact(registry, household["id"], CADRE, channel="wechat", kind="prevention_education")
    office = await make_contact(registry, other["id"], FENGDU, channel="sms", kind="care")

    async def ids(**params):
        return {c["id"] for c in await listed(registry, CONTACTS, **params)}

    assert await ids(household_id=household["id"]) == {phone["id"], wechat["id"]}
    assert await ids(cadre_id=cadre["id"]) == {phone["id"], wechat["id"]}
    assert await ids(kind="care") == {phone["id"], office["id"]}
    assert await ids(channel="sms") == {office["id"]}
    assert await ids(kind="care", channel="phone") == {phone["id"]}
    problem = assert_problem(await registry.get(CONTACTS, params={"kind": "nope"}), 422, "validation_failed")
    assert field_error(problem, "query.kind")["code"] == "enum"


async def test_contacts_from_and_to_are_shanghai_days_both_included(registry, paired):
    household_id = paired["household"]["id"]
    early = await make_contact(registry, household_id, CADRE, contacted_at="2020-02-10T00:00:00+08:00")
    late = await make_contact(registry, household_id, CADRE, contacted_at="2020-02-10T23:59:59+08:00")
    next_day = await make_contact(registry, household_id, CADRE, contacted_at="2020-02-10T16:00:00+00:00")
    before = await make_contact(registry, household_id, CADRE, contacted_at="2020-02-09T15:59:59+00:00")

    async def ids(**params):
        return {c["id"] for c in await listed(registry, CONTACTS, **params)}

    assert await ids(**{"from": "2020-02-10", "to": "2020-02-10"}) == {early["id"], late["id"]}
    assert await ids(**{"from": "2020-02-11"}) == {next_day["id"]}
    assert await ids(to="2020-02-09") == {before["id"]}
    assert len(await listed(registry, CONTACTS, **{"from": "0001-01-01", "to": "9999-12-31"})) == 4


async def test_household_contacts(registry, paired):
    household_id = paired["household"]["id"]
    other = await make_household(registry, VILLAGE)
    mine = await make_contact(registry, household_id, CADRE)
    await make_contact(registry, other["id"], FENGDU)
    assert [c["id"] for c in await listed(registry, f"{HOUSEHOLDS}/{household_id}/contacts")] == [mine["id"]]
    assert [c["id"] for c in await listed(registry, f"{HOUSEHOLDS}/{household_id}/contacts", CADRE)] == [mine["id"]]


async def test_contacts_are_scoped(registry, paired):
    household_id = paired["household"]["id"]
    mine = await make_contact(registry, household_id, CADRE)
    unpaired = await make_household(registry, VILLAGE)
    theirs = await make_contact(registry, unpaired["id"], FENGDU)
    shetan = await make_household(registry, "500230102201")
    elsewhere = await make_contact(registry, shetan["id"], FENGDU)
    wanzhou = await make_household(registry, "500101001201")
    far = await make_contact(registry, wanzhou["id"], WANZHOU)

    async def ids(caller):
        return {c["id"] for c in await listed(registry, CONTACTS, caller)}

    assert await ids(CITY_ADMIN) == {mine["id"], theirs["id"], elsewhere["id"], far["id"]}
    assert await ids(FENGDU) == {mine["id"], theirs["id"], elsewhere["id"]}
    assert await ids(HUWEI_TOWNSHIP) == {mine["id"], theirs["id"]}
    assert await ids(WANZHOU) == {far["id"]}
    assert await ids(CADRE) == {mine["id"]}
    for caller, household in ((WANZHOU, paired["household"]), (CADRE, unpaired), (HUWEI_TOWNSHIP, shetan)):
        response = await registry.get(f"{HOUSEHOLDS}/{household['id']}/contacts", caller)
        assert_problem(response, 404, "household_not_found")
