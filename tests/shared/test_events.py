"""The outbox, the dispatcher (signing, retries with backoff, dead, replay, leases) and the inbox."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.catalog import internal_subscriptions
from services.registry.models import events
from shared.db import Database
from shared.events import (
    DeliveryPolicy,
    Dispatcher,
    ensure_internal_subscriptions,
    envelope,
    sign,
    verify_signature,
)
from shared.pii import PiiCipher
from shared.schemas.events import ContactRecordedV1, EventEnvelope
from shared.settings import common_settings
from tests.support.events import SECRET, contact_event, delivery_rows, produce, subscribe
from tests.support.webhook import Webhook


def dispatcher(db: Database, cipher: PiiCipher, **kwargs) -> Dispatcher:
    kwargs.setdefault("policy", DeliveryPolicy(base_delay_s=0.05))
    return Dispatcher(db, events, cipher, **kwargs)


async def test_a_published_event_is_delivered_signed(db, cipher):
    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url, ["contact.recorded"])
        event = contact_event()
        await produce(db, event)
        sender = dispatcher(db, cipher)
        assert await sender.dispatch_once() == 1
        await sender.stop()
    assert [e.id for e in receiver.received] == [event.id]
    assert receiver.received[0].data["channel"] == "phone"
    [row] = await delivery_rows(db)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 1, 200)


async def test_only_subscribed_types_are_delivered(db, cipher):
    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url, ["person.health_changed"])
        await subscribe(db, cipher, receiver.url, ["*"])
        await produce(db, contact_event())
    rows = await delivery_rows(db)
    assert len(rows) == 1  # only the "*" subscription wanted a contact event


async def test_a_failing_subscriber_is_retried_with_backoff_then_dead(db, cipher):
    async with Webhook(SECRET, status=500) as receiver:
        await subscribe(db, cipher, receiver.url, ["*"])
        await produce(db, contact_event())
        sender = dispatcher(db, cipher, policy=DeliveryPolicy(webhook_max_attempts=3, base_delay_s=0.2))
        assert await sender.dispatch_once() == 1
        [row] = await delivery_rows(db)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
        assert row.next_attempt_at > datetime.now(UTC)  # backing off: not due yet
        assert await sender.dispatch_once() == 0
        for _ in range(2):
            await asyncio.sleep(0.6)
            assert await sender.dispatch_once() == 1
        await sender.stop()
    [row] = await delivery_rows(db)
    assert (row.status, row.attempts) == ("dead", 3)


def test_backoff_doubles_and_is_capped():
    policy = DeliveryPolicy(base_delay_s=1.0, retry_cap_s=10.0)
    delays = [policy.delay_s("internal", n) for n in (1, 2, 3, 4, 5, 6)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert 3.2 <= delays[2] <= 4.8
    assert all(8.0 <= d <= 12.0 for d in delays[4:])


async def test_a_subscriber_down_gets_every_event_once_back(db, cipher):
    receiver = await Webhook(SECRET).start()
    port, url = receiver.port, receiver.url
    await receiver.stop()  # the department's system is down while events happen
    await subscribe(db, cipher, url, ["*"])
    produced = [contact_event(f"h{i}") for i in range(5)]
    await produce(db, *produced)
    sender = dispatcher(db, cipher)
    assert await sender.dispatch_once() == 5
    assert {r.status for r in await delivery_rows(db)} == {"pending"}
    back = await Webhook(SECRET).start(port)  # back, at the same address
    try:
        deadline = time.monotonic() + 10
        while len(back.received) < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            await sender.dispatch_once()
    finally:
        await back.stop()
        await sender.stop()
    assert sorted(e.id for e in back.received) == sorted(e.id for e in produced)
    assert {r.status for r in await delivery_rows(db)} == {"delivered"}


async def test_two_dispatchers_never_send_a_delivery_twice(db, cipher):
    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url, ["*"])
        await produce(db, *[contact_event(f"h{i}") for i in range(20)])
        first, second = dispatcher(db, cipher), dispatcher(db, cipher)
        counts = await asyncio.gather(first.dispatch_once(), second.dispatch_once())
        await first.stop()
        await second.stop()
    assert sum(counts) == 20
    assert len(receiver.received) == 20
    assert len({e.id for e in receiver.received}) == 20


async def test_a_dead_delivery_can_be_replayed(db, cipher):
    async with Webhook(SECRET, status=500) as receiver:
        await subscribe(db, cipher, receiver.url, ["*"])
        await produce(db, contact_event())
        sender = dispatcher(db, cipher, policy=DeliveryPolicy(webhook_max_attempts=1))
        await sender.dispatch_once()
        [row] = await delivery_rows(db)
        assert row.status == "dead"
        receiver.status = 200
        async with db.sessions.begin() as session:
            await session.execute(
                events.deliveries.update().values(status="pending", attempts=0, next_attempt_at=datetime.now(UTC))
            )
        assert await sender.dispatch_once() == 1
        await sender.stop()
    assert len(receiver.received) == 1


async def test_the_dispatcher_wakes_when_a_transaction_publishes(db, cipher):
    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url, ["*"])
        sender = dispatcher(db, cipher, poll_s=30.0)  # it would not poll again within the test
        sender.start()
        await asyncio.sleep(0.2)
        await produce(db, contact_event())
        await asyncio.wait_for(receiver.arrived.wait(), 5)
        await sender.stop()
    assert len(receiver.received) == 1


def test_signatures():
    body = b'{"id":"x"}'
    header = sign(SECRET, body)
    assert verify_signature([SECRET], header, body)
    assert verify_signature(["another-one", SECRET], header, body)
    assert not verify_signature(["wrong-secret"], header, body)
    assert not verify_signature([SECRET], header, body + b" ")
    assert not verify_signature([SECRET], None, body)
    assert not verify_signature([SECRET], "v1=abc", body)
    stale = sign(SECRET, body, timestamp=int(time.time()) - 301)
    assert not verify_signature([SECRET], stale, body)


def test_an_envelope_must_carry_its_types_payload():
    with pytest.raises(ValueError):
        envelope(source="registry", payload=ContactRecordedV1.model_construct(), event_type="person.health_changed")


async def test_the_outbox_keeps_the_envelope(db):
    event = contact_event("h9")
    await produce(db, event)
    async with db.sessions() as session:
        row = (await session.execute(sa.select(events.outbox))).one()
    assert EventEnvelope.model_validate(row.payload) == event
    assert row.occurred_at - event.occurred_at < timedelta(seconds=1)
    assert json.loads(json.dumps(row.payload))["type"] == "contact.recorded"


# --- the other services' subscriptions, kept from the catalog ------------------------------------------------------


async def subscriptions_named(db: Database, name: str) -> list:
    async with db.sessions() as session:
        subs = events.subscriptions
        return list((await session.execute(sa.select(subs).where(subs.c.name == name))).all())


async def test_internal_subscriptions_are_made_once_and_kept_up_to_date(db, cipher):
    wanted = [("internal:relief", "http://127.0.0.1:8002/api/v1/relief/events/inbox", ["person.health_changed"])]
    for _ in range(2):
        async with db.sessions.begin() as session:
            await ensure_internal_subscriptions(session, events, cipher, wanted)
    [row] = await subscriptions_named(db, "internal:relief")
    assert (row.kind, row.url, row.event_types, row.active) == ("internal", wanted[0][1], wanted[0][2], True)
    assert cipher.decrypt(row.secret_enc) == common_settings().internal_events_secret()

    moved = [("internal:relief", "http://relief:8002/api/v1/relief/events/inbox", ["person.health_changed"])]
    async with db.sessions.begin() as session:
        await session.execute(events.subscriptions.update().values(active=False))  # an operator switched it off
        await ensure_internal_subscriptions(session, events, cipher, moved)
    [row] = await subscriptions_named(db, "internal:relief")
    assert (row.url, row.active) == (moved[0][1], False)


async def test_processes_starting_at_once_make_an_internal_subscription_once(db, cipher):
    """Two worker processes of a service start together: the second waits for the first's transaction and finds
    its subscription (on SQLite the write lock does it; on PostgreSQL an advisory lock)."""
    wanted = [("internal:relief", "http://127.0.0.1:8002/api/v1/relief/events/inbox", ["person.health_changed"])]

    async def second() -> None:
        async with db.sessions.begin() as session:
            await ensure_internal_subscriptions(session, events, cipher, wanted)

    async with db.sessions.begin() as first:
        await ensure_internal_subscriptions(first, events, cipher, wanted)
        starting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not starting.done()  # waits for the first
    await starting
    assert len(await subscriptions_named(db, "internal:relief")) == 1


def test_the_catalog_subscribes_relief_to_health_events_and_the_registry_to_relief_events():
    [(name, url, types)] = internal_subscriptions("registry")
    assert (name, types) == ("internal:relief", ["person.health_changed"])
    assert url.endswith("/api/v1/relief/events/inbox/batch")
    [(name, url, types)] = internal_subscriptions("relief")
    assert (name, types) == ("internal:registry", ["*"])
    assert url.endswith("/api/v1/registry/events/inbox/batch")
