"""Events with real processes: a department's webhook that is down while the registry records things gets every
event once it is back, each signed; an event delivered twice to the registry's inbox changes its ledger once."""

import asyncio
import json
import time

import pytest

from shared.events import sign
from shared.ids import uuid7
from tests.support.e2e import EVENTS_SECRET, Stack, create_household, free_port
from tests.support.webhook import Webhook

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "the-department-webhook-secret"


async def _published(stack: Stack, household_id: str) -> list[dict]:
    response = await stack.http.get("/api/v1/registry/events?limit=200", headers=await stack.auth())
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["household_id"] == household_id]


async def _deliveries(stack: Stack, subscription_id: str) -> list[dict]:
    response = await stack.http.get(
        f"/api/v1/registry/deliveries?subscription_id={subscription_id}&limit=200", headers=await stack.auth()
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _all_arrived(webhook: Webhook, wanted: set[str]) -> None:
    while True:
        webhook.arrived.clear()
        if {e.id for e in webhook.received} >= wanted:
            return
        await webhook.arrived.wait()


async def test_a_webhook_down_while_events_happen_gets_every_event_once_back(stack):
    port = free_port()  # nothing listens there yet: the department's system is down
    subscription = await stack.http.post(
        "/api/v1/registry/subscriptions",
        headers=await stack.auth(),
        json={"name": "民政局系统", "kind": "webhook", "url": f"http://127.0.0.1:{port}/hook",
              "event_types": ["contact.recorded", "person.health_changed"], "secret": WEBHOOK_SECRET},
    )  # fmt: skip
    assert subscription.status_code == 201, subscription.text
    subscription_id = subscription.json()["id"]

    household = await create_household(stack)
    for hour in (9, 10, 11):
        contact = await stack.http.post(
            "/api/v1/registry/contacts",
            headers=await stack.auth(),
            json={"household_id": household["id"], "channel": "phone", "kind": "care",
                  "contacted_at": f"2020-02-12T{hour:02d}:00:00+08:00"},
        )  # fmt: skip
        assert contact.status_code == 201, contact.text
    person_id = household["members"][0]["id"]
    suspected = await stack.http.post(
        f"/api/v1/registry/persons/{person_id}/health-events",
        headers=await stack.auth(),
        json={"kind": "suspected", "occurred_on": "2020-02-12"},
    )
    assert suspected.status_code == 201, suspected.text
    produced = await _published(stack, household["id"])
    wanted = {e["id"] for e in produced if e["type"] in ("contact.recorded", "person.health_changed")}
    assert len(wanted) == 4

    deadline = time.monotonic() + 20  # the dispatcher has tried and failed the household's first event
    while time.monotonic() < deadline:
        waiting = await _deliveries(stack, subscription_id)
        if [d["attempts"] >= 1 for d in sorted(waiting, key=lambda d: d["event_id"])] == [True, False, False, False]:
            break
        await asyncio.sleep(0.2)
    # one household's events go one after another: the later ones wait for the first, untried
    assert [d["attempts"] >= 1 for d in sorted(waiting, key=lambda d: d["event_id"])] == [True, False, False, False]
    assert {d["status"] for d in waiting} == {"pending"}

    webhook = await Webhook(WEBHOOK_SECRET).start(port)  # back, at the same address
    try:
        await asyncio.wait_for(_all_arrived(webhook, wanted), 30)
    finally:
        await webhook.stop()
    assert sorted(e.id for e in webhook.received) == sorted(wanted)  # every event, each once
    assert [e.id for e in webhook.received] == sorted(wanted)  # in the order they were written
    assert webhook.bad_signatures == 0
    assert {e.source for e in webhook.received} == {"registry"}
    deadline = time.monotonic() + 10  # each delivery is marked once its answer is in
    while {d["status"] for d in await _deliveries(stack, subscription_id)} != {"delivered"}:
        assert time.monotonic() < deadline, await _deliveries(stack, subscription_id)
        await asyncio.sleep(0.2)


async def test_a_duplicate_delivery_to_the_inbox_changes_nothing(stack):
    household = await create_household(stack)
    event = {
        "id": uuid7(), "type": "relief.case_opened", "version": 1, "source": "relief",
        "occurred_at": "2020-02-13T08:00:00+08:00", "household_id": household["id"],
        "county_code": household["county_code"], "data": {"summary": "临时救助立案"},
    }  # fmt: skip
    body = json.dumps(event).encode()
    answers = []
    for _ in range(2):
        response = await stack.http.post(
            "/api/v1/registry/events/inbox",
            content=body,
            headers={"Content-Type": "application/json", "X-Fupin-Signature": sign(EVENTS_SECRET, body)},
        )
        assert response.status_code == 200, response.text
        answers.append(response.json()["accepted"])
    assert answers == [True, False]
    forged = await stack.http.post(
        "/api/v1/registry/events/inbox",
        content=body,
        headers={"Content-Type": "application/json", "X-Fupin-Signature": sign("not-the-secret", body)},
    )
    assert forged.status_code == 401 and forged.json()["code"] == "bad_signature"
    ledger = await stack.http.get(f"/api/v1/registry/households/{household['id']}/ledger", headers=await stack.auth())
    assert [e["summary"] for e in ledger.json()["items"] if e["source"] == "relief"] == ["临时救助立案"]
