"""Idempotency-Key on the registry's writes: a repeat gets the first answer; another body under the key gets 409."""

import json

import sqlalchemy as sa

from tests.support.callers import CITY_ADMIN, FENGDU
from tests.support.registry import (
    CADRES,
    HOUSEHOLDS,
    PAIRINGS,
    assert_problem,
    audit_entries,
    cadre_body,
    household_body,
    id_number,
    make_cadre,
    make_household,
    make_village,
)

VILLAGE = "500230101201"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def household_count(registry) -> int:
    response = await registry.get(HOUSEHOLDS, params={"limit": 200})
    return len(response.json()["items"])


async def test_repeat_returns_the_first_answer_and_creates_one_household(registry):
    await make_village(registry, VILLAGE)
    body = household_body(VILLAGE)
    first = await registry.post(HOUSEHOLDS, json=body, headers=key("k-1"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = await registry.post(HOUSEHOLDS, json=body, headers=key("k-1"))
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.json()["id"] == first.json()["id"]
    assert await household_count(registry) == 1
    assert len(await audit_entries(registry, CITY_ADMIN, action="household.create")) == 1


async def test_same_key_with_another_body_is_409(registry):
    await make_village(registry, VILLAGE)
    first = await registry.post(HOUSEHOLDS, json=household_body(VILLAGE), headers=key("k-2"))
    assert first.status_code == 201
    other = await registry.post(HOUSEHOLDS, json=household_body(VILLAGE), headers=key("k-2"))
    problem = assert_problem(other, 409, "idempotency_key_reused", field="Idempotency-Key")
    assert problem["title"] == "该 Idempotency-Key 已用于另一个请求"
    assert await household_count(registry) == 1


async def test_key_reused_message_in_english(registry):
    await make_village(registry, VILLAGE)
    await registry.post(HOUSEHOLDS, json=household_body(VILLAGE), headers=key("k-3"))
    other = await registry.post(
        HOUSEHOLDS, json=household_body(VILLAGE), headers={**key("k-3"), "Accept-Language": "en"}
    )
    problem = assert_problem(other, 409, "idempotency_key_reused")
    assert problem["title"] == "This Idempotency-Key was already used for a different request"


async def test_key_belongs_to_its_caller(registry):
    await make_village(registry, VILLAGE)
    mine = await registry.post(HOUSEHOLDS, CITY_ADMIN, json=household_body(VILLAGE), headers=key("shared"))
    theirs = await registry.post(HOUSEHOLDS, FENGDU, json=household_body(VILLAGE), headers=key("shared"))
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert await household_count(registry) == 2


async def test_without_a_key_a_repeat_is_a_conflict(registry):
    await make_village(registry, VILLAGE)
    body = household_body(VILLAGE)
    assert (await registry.post(HOUSEHOLDS, json=body)).status_code == 201
    assert_problem(await registry.post(HOUSEHOLDS, json=body), 409, "household_no_duplicate")


async def test_refused_request_does_not_use_up_the_key(registry):
    existing = await make_household(registry, VILLAGE)
    body = household_body(VILLAGE, household_no=existing["household_no"])
    refused = await registry.post(HOUSEHOLDS, json=body, headers=key("k-4"))
    assert_problem(refused, 409, "household_no_duplicate")
    corrected = household_body(VILLAGE)
    retried = await registry.post(HOUSEHOLDS, json=corrected, headers=key("k-4"))
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    again = await registry.post(HOUSEHOLDS, json=corrected, headers=key("k-4"))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == retried.json()["id"]


async def test_same_key_on_another_route_is_409(registry):
    household = await make_household(registry, VILLAGE)
    assert (await registry.post(CADRES, json=cadre_body("500230"), headers=key("k-5"))).status_code == 201
    response = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", json={"status": "lifted"}, headers=key("k-5"))
    assert_problem(response, 409, "idempotency_key_reused")
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()["status"] == "not_lifted"


async def test_repeated_patch_is_applied_once(registry):
    household = await make_household(registry, VILLAGE)
    path = f"{HOUSEHOLDS}/{household['id']}"
    first = await registry.patch(path, json={"status": "lifted", "status_reason": "r"}, headers=key("p-1"))
    assert first.status_code == 200
    # Someone else changes the household in between: the repeat must not undo it.
    assert (await registry.patch(path, json={"status": "returned", "status_reason": "r"})).status_code == 200
    repeat = await registry.patch(path, json={"status": "lifted", "status_reason": "r"}, headers=key("p-1"))
    assert repeat.status_code == 200
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json() == first.json()
    assert (await registry.get(path)).json()["status"] == "returned"
    updates = await audit_entries(registry, CITY_ADMIN, entity_id=household["id"], action="household.update")
    assert [e["changes"] for e in updates] == [
        {"status": ["lifted", "returned"], "status_reason": "r"},
        {"status": ["not_lifted", "lifted"], "status_reason": "r"},
    ]


async def test_repeated_member_and_pairing_are_created_once(registry):
    household = await make_household(registry, VILLAGE)
    member = {"name": "张小华", "id_number": id_number("500230", "20120101"), "relation": "child"}
    path = f"{HOUSEHOLDS}/{household['id']}/members"
    first = await registry.post(path, json=member, headers=key("m-1"))
    repeat = await registry.post(path, json=member, headers=key("m-1"))
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}")).json()["member_count"] == 3

    cadre = await make_cadre(registry, "500230101")
    pairing = {"cadre_id": cadre["id"], "household_id": household["id"], "start_date": "2020-02-09"}
    first = await registry.post(PAIRINGS, json=pairing, headers=key("pair-1"))
    repeat = await registry.post(PAIRINGS, json=pairing, headers=key("pair-1"))
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json()["id"] == first.json()["id"]
    assert len((await registry.get(PAIRINGS)).json()["items"]) == 1


async def test_key_longer_than_200_characters_is_refused(registry):
    await make_village(registry, VILLAGE)
    response = await registry.post(HOUSEHOLDS, json=household_body(VILLAGE), headers=key("k" * 201))
    assert_problem(response, 422, "validation_failed", field="header.Idempotency-Key")
    assert await household_count(registry) == 0


async def test_remembered_answers_hold_no_plain_personal_data(registry):
    """ID numbers and phones are stored encrypted; the remembered answer of a write must not keep them in clear."""
    await make_village(registry, VILLAGE)
    body = household_body(VILLAGE)
    response = await registry.post(HOUSEHOLDS, json=body, headers=key("pii-1"))
    assert response.status_code == 201
    table = registry.app.state.db.tables.idempotency_keys
    async with registry.app.state.session_factory() as session:
        stored = (await session.execute(sa.select(table.c.response).where(table.c.key == "pii-1"))).scalar_one()
    text = json.dumps(stored, ensure_ascii=False)
    for member in body["members"]:
        assert member["id_number"] not in text
    assert body["phone"] not in text
