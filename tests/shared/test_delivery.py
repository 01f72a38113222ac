"""The dispatcher's delivery rules: one subject's events in order, subjects side by side; dead does not block; an
internal subscription never dies of unavailability while a webhook's attempts are bounded (and outlast an hour's
outage); a retried delivery taken pulls the rest forward; the probe; the gauges; subject_of; the policy's table."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from services.registry.models import events
from shared.db import Database, utcnow
from shared.events import DeliveryPolicy, Dispatcher, envelope, publish_many, subject_of
from shared.ids import uuid7
from shared.pii import PiiCipher
from shared.schemas.events import (
    EventEnvelope,
    HouseholdMonitoringChangedV1,
    VillageCaseFlagChangedV1,
)
from tests.support.events import SECRET, contact_event, delivery_rows, produce, subscribe
from tests.support.webhook import Webhook

# --- fixtures and helpers ---------------------------------------------------------------------------------------


class Clock:
    """A clock the test moves: timezone-aware UTC, as shared.db.utcnow."""

    def __init__(self, now: datetime | None = None):
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def delivery_of(db: Database, event_id: str, subscription_id: str | None = None) -> Any:
    rows = [r for r in await delivery_rows(db, subscription_id) if r.event_id == event_id]
    assert len(rows) == 1
    return rows[0]


async def update_deliveries(db: Database, *where: Any, **values: Any) -> None:
    async with db.sessions.begin() as session:
        await session.execute(events.deliveries.update().where(*where).values(**values))


@asynccontextmanager
async def dispatching(db: Database, cipher: PiiCipher, **kwargs: Any) -> AsyncIterator[Dispatcher]:
    sender = Dispatcher(db, events, cipher, **kwargs)
    try:
        yield sender
    finally:
        await sender.stop()


async def advance_to_next_attempt(db: Database, clock: Clock, subscription_id: str | None = None) -> None:
    """Move the clock to the earliest pending delivery's next attempt (never backwards)."""
    due = [r.next_attempt_at for r in await delivery_rows(db, subscription_id) if r.status == "pending"]
    if due:
        clock.now = max(clock.now, min(due))


def ids(received: list[EventEnvelope], household_id: str | None = None) -> list[str]:
    return [e.id for e in received if household_id is None or e.household_id == household_id]


# --- order: one subject after another, subjects side by side ---------------------------------------------------


async def test_a_round_sends_the_oldest_event_of_each_subject_and_rounds_keep_the_written_order(db, cipher):
    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url)
        written = [contact_event(h) for h in ("h1", "h2", "h1", "h3", "h1", "h2")]
        await produce(db, *written)
        rounds: list[set[str]] = []
        async with dispatching(db, cipher) as sender:
            for _ in range(10):
                seen = len(receiver.requests)
                sent = await sender.dispatch_once()
                if not sent:
                    break
                assert sent == len(receiver.requests) - seen
                rounds.append({e.id for e in receiver.requests[seen:]})
    h1a, h2a, h1b, h3a, h1c, h2b = (e.id for e in written)
    assert rounds == [{h1a, h2a, h3a}, {h1b, h2b}, {h1c}]
    for household_id in ("h1", "h2", "h3"):
        assert ids(receiver.received, household_id) == ids(written, household_id)
    assert {r.status for r in await delivery_rows(db)} == {"delivered"}


async def test_events_without_a_subject_are_not_held_back(db, cipher):
    def subjectless() -> EventEnvelope:
        payload = HouseholdMonitoringChangedV1(
            household_id="h1", county_code="500230", person_id="", key_monitoring=True, reason="test"
        )
        return envelope(source="registry", payload=payload, event_type="household.monitoring_changed")

    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url)
        written = [subjectless() for _ in range(3)]
        assert {subject_of(e) for e in written} == {None}
        await produce(db, *written)
        async with dispatching(db, cipher) as sender:
            assert await sender.dispatch_once() == 3
    assert sorted(ids(receiver.received)) == sorted(ids(written))


async def test_a_failing_head_blocks_the_rest_of_its_subject_only(db, cipher):
    down = {"h1"}
    receiver = Webhook(SECRET, answer=lambda e: (503, "busy") if e.household_id in down else (200, ""))
    async with receiver:
        await subscribe(db, cipher, receiver.url)
        written = [contact_event(h) for h in ("h1", "h2", "h1", "h2", "h1")]
        h1a, h2a, h1b, h2b, h1c = (e.id for e in written)
        await produce(db, *written)
        clock = Clock()
        async with dispatching(db, cipher, clock=clock) as sender:
            sent = []
            for _ in range(3):
                sent.append(await sender.dispatch_once())
                clock.advance(hours=1)  # past any backoff: the head is tried again each round
            assert sent == [2, 2, 1]
            assert ids(receiver.requests, "h1") == [h1a, h1a, h1a]  # the later events of h1 never went
            assert ids(receiver.received, "h2") == [h2a, h2b]  # h2 did not wait for h1
            head, *rest = [r for r in await delivery_rows(db) if r.event_id in (h1a, h1b, h1c)]
            assert (head.status, head.attempts, head.last_status) == ("pending", 3, 503)
            assert [(r.status, r.attempts) for r in rest] == [("pending", 0), ("pending", 0)]

            down.clear()  # h1's receiver is back
            for _ in range(5):
                clock.advance(hours=1)
                if not await sender.dispatch_once():
                    break
    assert ids(receiver.received, "h1") == [h1a, h1b, h1c]
    assert {r.status for r in await delivery_rows(db)} == {"delivered"}


@pytest.mark.parametrize("kind", ["webhook", "internal"])
async def test_a_dead_head_does_not_block_its_subject(db, cipher, kind):
    refusal = '{"detail": "household h1 is unknown here"}'
    written = [contact_event("h1") for _ in range(3)]
    receiver = Webhook(SECRET, answer=lambda e: (422, refusal) if e.id == written[0].id else (200, ""))
    async with receiver:
        await subscribe(db, cipher, receiver.url, kind=kind)
        await produce(db, *written)
        async with dispatching(db, cipher) as sender:
            assert await sender.dispatch_once() == 1
            head = await delivery_of(db, written[0].id)
            assert (head.status, head.attempts, head.last_status) == ("dead", 1, 422)
            assert head.last_error == f"HTTP 422: {refusal}"
            assert await sender.dispatch_once() == 1
            assert await sender.dispatch_once() == 1
            assert await sender.dispatch_once() == 0
    assert ids(receiver.requests) == ids(written)
    assert ids(receiver.received) == ids(written[1:])
    assert [r.status for r in await delivery_rows(db)] == ["dead", "delivered", "delivered"]


# --- unavailability: an internal subscription waits, a webhook's attempts are bounded ---------------------------


@pytest.mark.parametrize("down", ["503", "connection refused"])
async def test_an_internal_delivery_never_dies_of_unavailability_a_webhook_does(db, cipher, down):
    receiver = await Webhook(SECRET, status=503).start()
    url = receiver.url
    if down == "connection refused":
        await receiver.stop()
    try:
        internal = await subscribe(db, cipher, url, kind="internal", name="internal:relief")
        webhook = await subscribe(db, cipher, url, kind="webhook", name="dept")
        await produce(db, contact_event())
        clock = Clock()
        many = DeliveryPolicy().webhook_max_attempts + 5
        policy = DeliveryPolicy(webhook_max_attempts=3)
        async with dispatching(db, cipher, policy=policy, clock=clock) as sender:
            for _ in range(2 * many):
                [waiting] = await delivery_rows(db, internal)
                if waiting.attempts >= many:
                    break
                await advance_to_next_attempt(db, clock)
                assert await sender.dispatch_once() >= 1
    finally:
        await receiver.stop()
    [dead] = await delivery_rows(db, webhook)
    assert (dead.status, dead.attempts) == ("dead", 3)
    [waiting] = await delivery_rows(db, internal)
    assert (waiting.status, waiting.attempts) == ("pending", many)
    assert waiting.next_attempt_at - clock.now <= timedelta(seconds=policy.retry_cap_s * 1.2)  # backoff capped
    if down == "503":
        assert (waiting.last_status, waiting.last_error) == (503, "HTTP 503")
        assert len(receiver.requests) == many + 3
    else:
        assert waiting.last_status is None
        assert waiting.last_error.startswith("ConnectError")


async def ride_out_outage(db: Database, cipher: PiiCipher, policy: DeliveryPolicy, outage: timedelta) -> tuple:
    """A webhook down (connection refused) for `outage` of simulated time, then up: the delivery's end, the
    simulated instants of the attempts, and when the receiver came back."""
    async with db.sessions.begin() as session:  # a run of its own: earlier runs' subscriptions take nothing more
        await session.execute(events.subscriptions.update().values(active=False))
    subscription_id = await subscribe(db, cipher, "http://dept.example/hook")
    event = contact_event()
    await produce(db, event)
    clock = Clock()
    back_at = clock.now + outage
    attempts: list[datetime] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(clock.now)
        if clock.now < back_at:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200)

    async with dispatching(db, cipher, policy=policy, clock=clock, transport=httpx.MockTransport(handler)) as sender:
        for _ in range(100):
            [row] = await delivery_rows(db, subscription_id)
            if row.status != "pending":
                break
            await advance_to_next_attempt(db, clock, subscription_id)
            assert await sender.dispatch_once() == 1
    [row] = await delivery_rows(db, subscription_id)
    return row, attempts, back_at


async def test_a_webhook_down_for_an_hour_of_simulated_time_gets_its_event(db, cipher):
    row, attempts, back_at = await ride_out_outage(db, cipher, DeliveryPolicy(), timedelta(hours=1))
    assert row.status == "delivered"
    assert row.attempts == len(attempts) < DeliveryPolicy().webhook_max_attempts
    assert attempts[-2] < back_at <= attempts[-1]  # delivered at the first attempt after the receiver was back
    assert attempts[-1] - back_at < timedelta(hours=1.5)  # and not long after: the backoff is about an hour by now

    # the old default (8 attempts, waits capped at 10 minutes) gave up within minutes of the same outage
    old = DeliveryPolicy(webhook_max_attempts=8, webhook_retry_cap_s=600)
    row, attempts, back_at = await ride_out_outage(db, cipher, old, timedelta(hours=1))
    assert (row.status, row.attempts, len(attempts)) == ("dead", 8, 8)
    assert attempts[-1] < back_at


# --- pulling forward and the probe -------------------------------------------------------------------------------


@pytest.mark.parametrize("retried", [True, False])
async def test_a_retried_delivery_taken_makes_what_waits_for_its_subscription_due(db, cipher, retried):
    async with Webhook(SECRET) as receiver:
        subscription_id = await subscribe(db, cipher, receiver.url, name="a")
        other = await subscribe(db, cipher, receiver.url, name="b")
        written = [contact_event(h) for h in ("h1", "h2", "h3")]
        await produce(db, *written)
        now = utcnow()
        d = events.deliveries
        later = now + timedelta(days=1)
        await update_deliveries(db, d.c.id.isnot(None), attempts=4, next_attempt_at=later, last_status=503)
        first = await delivery_of(db, written[0].id, subscription_id)
        await update_deliveries(db, d.c.id == first.id, attempts=4 if retried else 0, next_attempt_at=now)
        async with dispatching(db, cipher) as sender:
            assert await sender.dispatch_once() == 1
            assert ids(receiver.received) == [written[0].id]
            checked = utcnow()
            rest = [r for r in await delivery_rows(db, subscription_id) if r.status == "pending"]
            assert len(rest) == 2
            if retried:  # the subscriber is back: what waited goes at once
                assert all(r.next_attempt_at <= checked for r in rest)
                assert await sender.dispatch_once() == 2
                assert sorted(ids(receiver.received)) == sorted(ids(written))
            else:  # a first attempt taken says nothing new about the subscriber
                assert all(r.next_attempt_at == later for r in rest)
                assert await sender.dispatch_once() == 0
        # another subscription's deliveries keep their backoff either way
        assert {r.next_attempt_at for r in await delivery_rows(db, other)} == {later}


async def test_a_delivery_refused_in_the_round_a_retried_one_is_taken_keeps_its_backoff(db, cipher):
    """A retried delivery taken pulls forward what *waits*; one the subscriber refused in that same round has just
    been tried and must keep the backoff it was given (else it is tried again at once, burning a webhook's
    attempts)."""
    receiver = Webhook(SECRET, answer=lambda e: (503, "") if e.household_id == "h1" else (200, ""))
    async with receiver:
        await subscribe(db, cipher, receiver.url)
        written = [contact_event(h) for h in ("h1", "h2")]
        await produce(db, *written)
        await update_deliveries(db, events.deliveries.c.id.isnot(None), attempts=4)  # both retried after an outage
        async with dispatching(db, cipher) as sender:
            assert await sender.dispatch_once() == 2  # h2's is taken (the subscriber is back), h1's refused again
            refused = await delivery_of(db, written[0].id)
            assert (refused.status, refused.attempts, refused.last_status) == ("pending", 5, 503)
            # its 5th failure waits about 16 s (base 1 s doubled four times, ±20%)
            assert refused.next_attempt_at > utcnow() + timedelta(seconds=10)
            assert await sender.dispatch_once() == 0
    assert ids(receiver.requests, "h1") == [written[0].id]


@pytest.mark.parametrize(("kind", "made_due"), [("internal", 1), ("webhook", 0)])
async def test_the_probe_makes_an_internal_subscriptions_oldest_waiting_delivery_due(db, cipher, kind, made_due):
    subscription_id = await subscribe(db, cipher, "http://127.0.0.1:9/inbox", kind=kind)
    written = [contact_event(h) for h in ("h1", "h2")]
    await produce(db, *written)
    now = utcnow()
    later = now + timedelta(hours=1)
    await update_deliveries(db, events.deliveries.c.id.isnot(None), attempts=5, next_attempt_at=later)
    async with dispatching(db, cipher) as sender:
        assert await sender.probe() == made_due
        oldest, newer = await delivery_rows(db, subscription_id)
        assert oldest.event_id == written[0].id
        assert newer.next_attempt_at == later  # only the oldest is tried early
        if made_due:
            assert now <= oldest.next_attempt_at <= utcnow()
            assert await sender.probe() == 0  # already due
        else:
            assert oldest.next_attempt_at == later
        assert oldest.attempts == 5


# --- gauges ----------------------------------------------------------------------------------------------------


async def test_the_gauges_count_pending_dead_long_pending_and_the_oldest_age(db, cipher):
    registry = CollectorRegistry()
    await subscribe(db, cipher, "http://dept.example/hook", name="dept-a")
    await subscribe(db, cipher, "http://dept.example/hook", name="dept-b", event_types=["person.health_changed"])
    written = [contact_event(h) for h in ("h1", "h2", "h3", "h4")]
    await produce(db, *written)
    d = events.deliveries
    dead, old, *_new = [await delivery_of(db, e.id) for e in written]
    await update_deliveries(db, d.c.id == dead.id, status="dead", attempts=30, last_status=500)
    await update_deliveries(db, d.c.id == old.id, created_at=utcnow() - timedelta(seconds=400))

    def gauge(name: str, subscription: str) -> float | None:
        return registry.get_sample_value(name, {"subscription": subscription})

    async with dispatching(db, cipher, metrics=registry) as sender:
        await sender.measure()
        assert gauge("fupin_event_deliveries_pending", "dept-a") == 3
        assert gauge("fupin_event_deliveries_dead", "dept-a") == 1
        assert gauge("fupin_event_deliveries_long_pending", "dept-a") == 1  # of 3
        assert 400 <= gauge("fupin_event_oldest_pending_age_seconds", "dept-a") < 460
        for name in ("pending", "dead", "long_pending"):  # a subscription with nothing waiting shows zeros
            assert gauge(f"fupin_event_deliveries_{name}", "dept-b") == 0
        assert gauge("fupin_event_oldest_pending_age_seconds", "dept-b") == 0

        await update_deliveries(db, d.c.status == "pending", status="delivered")
        await sender.measure()
        assert gauge("fupin_event_deliveries_pending", "dept-a") == 0
        assert gauge("fupin_event_deliveries_long_pending", "dept-a") == 0
        assert gauge("fupin_event_oldest_pending_age_seconds", "dept-a") == 0
        assert gauge("fupin_event_deliveries_dead", "dept-a") == 1


# --- subject_of and publish_many ----------------------------------------------------------------------------


def an_envelope(household_id: str | None, data: dict[str, Any]) -> EventEnvelope:
    return EventEnvelope(id=uuid7(), type="contact.recorded", version=1, source="registry", occurred_at=utcnow(),
                         household_id=household_id, data=data)  # fmt: skip


@pytest.mark.parametrize(
    ("household_id", "data", "subject"),
    [
        ("h1", {"region_code": "500230101201", "person_id": "p1"}, "h1"),
        (None, {"region_code": "500230101201", "person_id": "p1"}, "500230101201"),
        (None, {"person_id": "p1"}, "p1"),
        (None, {"region_code": "", "person_id": "p1"}, "p1"),
        ("", {"person_id": "p1"}, "p1"),
        (None, {"household_id": "h1", "channel": "phone"}, None),
        (None, {}, None),
    ],
)
def test_subject_of_is_the_household_else_the_region_else_the_person(household_id, data, subject):
    assert subject_of(an_envelope(household_id, data)) == subject


async def test_publish_many_writes_a_delivery_per_event_and_subscription_with_its_subject(db, cipher):
    everything = await subscribe(db, cipher, "http://dept.example/all")
    contacts = await subscribe(db, cipher, "http://dept.example/contacts", event_types=["contact.recorded"])
    flag = envelope(
        source="registry", event_type="village.case_flag_changed", county_code="500230",
        payload=VillageCaseFlagChangedV1(region_code="500230101201", level="village", county_code="500230",
                                         flagged=True, active_cases=1, manual=None),
    )  # fmt: skip
    contact = contact_event("h7")
    async with db.sessions.begin() as session:
        await publish_many(session, events, [flag, contact])
        await publish_many(session, events, [])
    assert [(r.event_id, r.subject, r.status, r.attempts) for r in await delivery_rows(db, everything)] == [
        (flag.id, "500230101201", "pending", 0),
        (contact.id, "h7", "pending", 0),
    ]
    assert [(r.event_id, r.subject) for r in await delivery_rows(db, contacts)] == [(contact.id, "h7")]


# --- a service of ours that is down: its deliveries wait for the probe -------------------------------------------


@asynccontextmanager
async def down_service(db: Database, cipher: PiiCipher) -> AsyncIterator[tuple[str, Dispatcher, Clock]]:
    """A service of ours that refuses connections, three events waiting for it, and a dispatcher of one a round on
    a clock of its own; yields the subscription, the dispatcher and the clock."""
    receiver = await Webhook(SECRET).start()
    url = receiver.url
    await receiver.stop()  # connection refused
    internal = await subscribe(db, cipher, url, kind="internal", name="internal:relief")
    await produce(db, *[contact_event(h) for h in ("h1", "h2", "h3")])
    clock = Clock()
    async with dispatching(db, cipher, policy=DeliveryPolicy(retry_cap_s=60.0), clock=clock, batch=1) as sender:
        yield internal, sender, clock


async def test_a_service_that_takes_nothing_of_a_round_makes_its_other_deliveries_wait_for_the_probe(db, cipher):
    async with down_service(db, cipher) as (internal, sender, clock):
        assert await sender.dispatch_once() == 1
        tried, *waiting = sorted(await delivery_rows(db, internal), key=lambda r: -r.attempts)
        assert (tried.attempts, tried.status) == (1, "pending")
        assert [r.attempts for r in waiting] == [0, 0]
        assert all(r.next_attempt_at >= clock.now + timedelta(seconds=59) for r in waiting)
        assert await sender.dispatch_once() == 0  # nothing knocks until the probe or the pause ends
        clock.advance(seconds=0.5)  # within the tried one's own first wait (about 1 s)
        assert await sender.probe() == 1  # the oldest, the one tried, is due again at once
        assert await sender.dispatch_once() == 1


async def test_what_waits_for_a_service_that_is_down_is_written_once_not_at_every_failed_round(db, cipher):
    async with down_service(db, cipher) as (internal, sender, clock):
        assert await sender.dispatch_once() == 1
        held = {r.id: r.next_attempt_at for r in await delivery_rows(db, internal) if r.attempts == 0}
        for _ in range(3):  # the tries of the oldest (its own backoff, or the probe's) fail too
            clock.advance(seconds=2)
            await sender.probe()
            assert await sender.dispatch_once() == 1
        assert {r.id: r.next_attempt_at for r in await delivery_rows(db, internal) if r.attempts == 0} == held


# --- the policy --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["internal", "webhook"])
@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_a_2xx_answer_is_delivered(kind, status):
    policy = DeliveryPolicy()
    for attempts in (1, policy.webhook_max_attempts, 1000):
        assert policy.outcome(kind, status, attempts) == "delivered"


@pytest.mark.parametrize("kind", ["internal", "webhook"])
@pytest.mark.parametrize("status", [400, 410, 413, 415, 422])
def test_an_answer_saying_the_event_is_bad_is_dead_at_once(kind, status):
    assert DeliveryPolicy().outcome(kind, status, 1) == "dead"


@pytest.mark.parametrize("status", [None, 401, 404, 429, 500, 502, 503, 504])
def test_unavailability_retries_an_internal_delivery_forever_and_a_webhook_up_to_its_max(status):
    policy = DeliveryPolicy()
    for attempts in (1, 2, policy.webhook_max_attempts - 1, policy.webhook_max_attempts, 10_000):
        assert policy.outcome("internal", status, attempts) == "retry"
    for attempts in (1, 2, policy.webhook_max_attempts - 1):
        assert policy.outcome("webhook", status, attempts) == "retry"
    for attempts in (policy.webhook_max_attempts, policy.webhook_max_attempts + 1):
        assert policy.outcome("webhook", status, attempts) == "dead"
    assert DeliveryPolicy(webhook_max_attempts=3).outcome("webhook", status, 3) == "dead"


def test_the_default_webhook_horizon_is_about_three_days():
    assert 2 * 86400 <= DeliveryPolicy().horizon_s() <= 4 * 86400
    # the old default (8 attempts, 10 minutes' cap) gave up after about two minutes
    assert DeliveryPolicy(webhook_max_attempts=8, webhook_retry_cap_s=600).horizon_s() == 127


# --- rounds under way at once ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["internal", "webhook"])
async def test_rounds_under_way_at_once_never_send_a_delivery_twice_and_keep_each_subjects_order(db, cipher, kind):
    households = [f"h{n}" for n in range(40)]
    written = [contact_event(h) for _ in range(3) for h in households]  # three rounds of forty subjects
    async with Webhook(SECRET) as receiver:
        await subscribe(db, cipher, receiver.url, kind=kind)
        await produce(db, *written)
        async with dispatching(db, cipher, batch=15, per_post=5) as sender:
            for _ in range(30):
                sent = await asyncio.gather(*(sender.dispatch_once() for _ in range(4)))
                if not any(sent):
                    break
    assert sorted(ids(receiver.requests)) == sorted(e.id for e in written)  # each once: no two rounds leased one
    for household in households:
        assert ids(receiver.received, household) == [e.id for e in written if e.household_id == household]
    assert {r.status for r in await delivery_rows(db)} == {"delivered"}
