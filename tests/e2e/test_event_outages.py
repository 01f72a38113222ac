"""Events that survive outages and arrive in any order, with real processes: a discharge delivered with (or before)
its confirmation after relief was down leaves one case closed at the discharge; relief down for longer than the old
delivery horizon loses nothing and gets what waited within seconds of its return; 1,000 events about 100 people
posted to relief's inbox in a random order leave the cases the registry's timelines call for; a consumer answering
500 for a while gets every event once, in order, when it answers 200 again."""

import asyncio
import json
import random
import secrets
import time
from datetime import date, timedelta

import pytest

from shared.events import SIGNATURE_HEADER, sign
from tests.support.e2e import EVENTS_SECRET, VILLAGE, Stack, cases_of, civil_headers, free_port, record, until
from tests.support.registry import household_body
from tests.support.webhook import Webhook

pytestmark = pytest.mark.e2e

STANDARD_FEN = 44_000  # 丰都县 rural dibao standard of these tests: a relief period pays 880.00 yuan
OLD_MAX_ATTEMPTS = 8  # before: a delivery was dead after 8 attempts (about two minutes)


async def household(stack: Stack, **overrides) -> dict:
    headers = await stack.auth()
    village = await stack.http.post("/api/v1/registry/regions", json={"code": VILLAGE, "name": "e2e 测试村"},
                                    headers=headers)  # fmt: skip
    assert village.status_code in (201, 409), village.text
    created = await stack.http.post(
        "/api/v1/registry/households", json=household_body(VILLAGE, **overrides),
        headers={**headers, "Idempotency-Key": secrets.token_hex(8)},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture(scope="module")
async def standard(stack: Stack) -> None:
    response = await stack.http.post(
        "/api/v1/relief/standards", headers=await civil_headers(stack),
        json={"unit_code": "500230", "area_class": "rural", "monthly_fen": STANDARD_FEN, "effective_from": "2019-07-01"},
    )  # fmt: skip
    assert response.status_code == 201, response.text


async def relief_subscription(stack: Stack) -> dict:
    response = await stack.http.get("/api/v1/registry/subscriptions", headers=await stack.auth())
    assert response.status_code == 200, response.text
    [subscription] = [s for s in response.json() if s["name"] == "internal:relief"]
    return subscription


async def deliveries_of(stack: Stack, subscription_id: str) -> list[dict]:
    response = await stack.http.get(
        "/api/v1/registry/deliveries", params={"subscription_id": subscription_id, "limit": 200},
        headers=await stack.auth(),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def schedule_totals(stack: Stack, case_id: str, as_of: str) -> dict:
    response = await stack.http.get(
        f"/api/v1/relief/cases/{case_id}/schedule", params={"as_of": as_of}, headers=await civil_headers(stack)
    )
    assert response.status_code == 200, response.text
    return response.json()["totals"]


# --- run 1: a confirmation and its discharge delivered together after relief was down -------------------------------


async def test_a_discharge_delivered_with_its_confirmation_closes_the_case_at_the_discharge(stack, standard):
    patients = [(await household(stack))["members"][0] for _ in range(4)]
    assert stack.relief is not None
    stack.relief.stop()
    try:
        for person in patients:
            await record(stack, person["id"], {"kind": "confirmed", "occurred_on": "2020-02-01",
                                               "hospital": "丰都县人民医院", "hospitalised": True})  # fmt: skip
            await record(stack, person["id"], {"kind": "discharged", "occurred_on": "2020-02-20"})
        await asyncio.sleep(2.0)  # the registry's dispatcher tries, and fails, meanwhile
    finally:
        await stack.start_relief()

    for person in patients:

        async def closed(person_id=person["id"]):
            return [c for c in await cases_of(stack, person_id) if c["status"] == "closed"]

        [case] = await until(closed, "relief closes the case at the discharge")
        assert (case["diagnosed_on"], case["closed_on"], case["close_reason"]) == (
            "2020-02-01", "2020-02-20", "discharged",
        )  # fmt: skip
        assert len(await cases_of(stack, person["id"])) == 1
        totals = await schedule_totals(stack, case["id"], "2020-12-01")
        assert (totals["periods"], totals["entitled_fen"], totals["due_fen"]) == (1, 88_000, 88_000)  # 880.00 yuan


# --- run 2: relief down for longer than the old horizon ---------------------------------------------------------------


async def test_relief_down_past_the_old_horizon_loses_nothing_and_catches_up_within_seconds(stack, standard):
    subscription = await relief_subscription(stack)
    person = (await household(stack))["members"][0]
    assert stack.relief is not None
    stack.relief.stop()
    try:
        await record(stack, person["id"], {"kind": "confirmed", "occurred_on": "2020-02-05",
                                           "hospital": "丰都县人民医院", "hospitalised": False})  # fmt: skip

        async def tried_past_the_old_horizon():
            mine = [d for d in await deliveries_of(stack, subscription["id"]) if d["attempts"] > OLD_MAX_ATTEMPTS]
            return mine and all(d["status"] == "pending" for d in mine) and mine

        waiting = await until(tried_past_the_old_horizon, "more attempts than the old 8, still pending")
        assert all(d["last_status"] is None and d["last_error"] for d in waiting)  # no answer: connection refused
    finally:
        await stack.start_relief()
    back = time.monotonic()

    async def opened():
        return await cases_of(stack, person["id"])

    [case] = await until(opened, "the case opens once relief is back")
    assert time.monotonic() - back < 10.0  # the probe finds relief back within seconds, not a long backoff
    assert (case["status"], case["diagnosed_on"]) == ("open", "2020-02-05")
    assert not [d for d in await deliveries_of(stack, subscription["id"]) if d["status"] == "dead"]


# --- any order: 1,000 events about 100 people, posted to the inbox shuffled -----------------------------------------

# Ten health events a person, day offsets from the first; the second half ends in a death for every third person.
EPISODES = [
    ("suspected", 0), ("isolated", 0), ("confirmed", 1), ("discharged", 16), ("suspected", 30),
    ("cleared", 32), ("isolated", 40), ("released", 54), ("confirmed", 60), ("discharged", 75),
]  # fmt: skip
DETAILS = {
    "confirmed": {"hospital": "丰都县人民医院", "hospitalised": True},
    "isolated": {"isolation_place": "home", "isolation_reason": "close_contact"},
}


def timeline_of(n: int) -> list[dict]:
    start = date(2020, 1, 20) + timedelta(days=n % 7)
    events = []
    for kind, offset in EPISODES:
        if kind == "discharged" and offset == 75 and n % 3 == 0:
            kind = "deceased"
        events.append(
            {"kind": kind, "occurred_on": (start + timedelta(days=offset)).isoformat(), **DETAILS.get(kind, {})}
        )
    return events


def expected_cases(events: list[dict]) -> list[tuple[str, str, str]]:
    """(diagnosed_on, closed_on, reason) newest first, as the timelines above are written."""
    confirmed = [e["occurred_on"] for e in events if e["kind"] == "confirmed"]
    closed = [(e["occurred_on"], e["kind"]) for e in events if e["kind"] in ("discharged", "deceased")]
    return sorted(((d, c, r) for d, (c, r) in zip(confirmed, closed, strict=True)), reverse=True)


async def signed_post(stack: Stack, event: dict) -> int:
    assert stack.relief is not None
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(EVENTS_SECRET, body)}
    response = await stack.http.post(f"{stack.relief.url}/api/v1/relief/events/inbox", content=body, headers=headers)
    return response.status_code


async def test_events_in_a_random_order_leave_the_cases_the_timelines_call_for(stack, standard):
    subscription = await relief_subscription(stack)
    switch = f"/api/v1/registry/subscriptions/{subscription['id']}"
    off = await stack.http.patch(switch, json={"active": False}, headers=await stack.auth())
    assert off.status_code == 200, off.text  # relief gets these events only as this test posts them
    try:
        people: dict[str, dict] = {}
        for n in range(100):
            made = await household(stack, status="lifted_no_policy" if n % 10 == 9 else "not_lifted")
            people[made["members"][0]["id"]] = {"n": n, "status": made["status"], "events": timeline_of(n)}
        semaphore = asyncio.Semaphore(8)

        async def record_all(person_id: str, events: list[dict]) -> None:
            async with semaphore:
                for body in events:
                    await record(stack, person_id, body)

        await asyncio.gather(*(record_all(pid, p["events"]) for pid, p in people.items()))
    finally:
        on = await stack.http.patch(switch, json={"active": True}, headers=await stack.auth())
        assert on.status_code == 200, on.text

    published: list[dict] = []
    params: dict = {"type": "person.health_changed", "limit": 200}
    while True:
        page = await stack.http.get("/api/v1/registry/events", params=params, headers=await stack.auth())
        assert page.status_code == 200, page.text
        published += [e for e in page.json()["items"] if e["data"]["person_id"] in people]
        if not page.json()["next_cursor"]:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert len(published) == 1000
    random.Random(20200209).shuffle(published)
    # a sixth delivered twice, as at-least-once delivery may
    sends = published + published[::6]
    semaphore = asyncio.Semaphore(8)

    async def send(event: dict) -> int:
        async with semaphore:
            for _ in range(20):  # a 503 (the registry busy) is delivered again, as the dispatcher would
                status = await signed_post(stack, event)
                if status != 503:
                    return status
                await asyncio.sleep(0.2)
            return status

    statuses = await asyncio.gather(*(send(e) for e in sends))
    assert set(statuses) == {200}

    for person_id, person in people.items():
        cases = await cases_of(stack, person_id)
        got = sorted(((c["diagnosed_on"], c["closed_on"], c["close_reason"]) for c in cases), reverse=True)
        want = [] if person["status"] == "lifted_no_policy" else expected_cases(person["events"])
        assert got == want, (person["n"], got, want)


# --- a consumer answering 500 for a while, then 200 ------------------------------------------------------------------


async def test_a_consumer_answering_500_for_a_while_gets_every_event_once_in_order(stack):
    consumer = await Webhook(EVENTS_SECRET, status=500).start(free_port())
    try:
        subscription = await stack.http.post(
            "/api/v1/registry/subscriptions", headers=await stack.auth(),
            json={"name": "e2e 内部消费者", "kind": "internal", "url": f"{consumer.url}",
                  "event_types": ["contact.recorded"]},
        )  # fmt: skip
        assert subscription.status_code == 201, subscription.text
        subscription_id = subscription.json()["id"]
        households = [await household(stack) for _ in range(3)]
        for hour in (9, 10, 11):
            for made in households:
                contact = await stack.http.post(
                    "/api/v1/registry/contacts", headers=await stack.auth(),
                    json={"household_id": made["id"], "channel": "phone", "kind": "care",
                          "contacted_at": f"2020-02-12T{hour:02d}:00:00+08:00"},
                )  # fmt: skip
                assert contact.status_code == 201, contact.text

        async def failing_past_the_old_horizon():
            waiting = await deliveries_of(stack, subscription_id)
            return max((d["attempts"] for d in waiting), default=0) > OLD_MAX_ATTEMPTS

        await until(failing_past_the_old_horizon, "the consumer refused more than the old 8 attempts")
        assert {d["status"] for d in await deliveries_of(stack, subscription_id)} == {"pending"}
        consumer.status = 200
        back = time.monotonic()

        async def all_delivered():
            waiting = await deliveries_of(stack, subscription_id)
            return len(waiting) == 9 and {d["status"] for d in waiting} == {"delivered"}

        await until(all_delivered, "every event delivered once the consumer answers 200")
        assert time.monotonic() - back < 10.0
        received = [e for e in consumer.received if e.type == "contact.recorded"]
        assert len({e.id for e in received}) == len(received) == 9
        for made in households:  # each household's contacts in the order they were written
            mine = [e.id for e in received if e.household_id == made["id"]]
            assert mine == sorted(mine)
    finally:
        await consumer.stop()
        await stack.http.patch(f"/api/v1/registry/subscriptions/{subscription_id}", json={"active": False},
                               headers=await stack.auth())  # fmt: skip
