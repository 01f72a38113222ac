"""Events: an outbox written with the change, a dispatcher that delivers at least once, an inbox for consumers.

- `publish()` writes the event and one delivery per matching subscription in the caller's transaction, so an
  event exists exactly when its change does. Each delivery carries the event's subject (its household, else its
  region or person): the dispatcher sends a subject's events to a subscription in the order they were written,
  the next only once the previous is delivered (or dead), and different subjects side by side.
- `Dispatcher` (started by each producing service's lifespan) claims due deliveries with a lease, so several
  replicas never send the same delivery at once; it POSTs the envelope signed with HMAC-SHA256 (to another service
  of ours, many envelopes in one POST to its batch inbox, each answered on its own). `DeliveryPolicy`
  says what an answer means: a delivery to another service of ours retries for as long as it takes (backoff capped
  at minutes) and dies only of an answer saying the event itself is bad; a department's webhook has a bounded number
  of attempts spread over days. When a subscriber that was failing answers again, what waited for it goes at once.
  Dead or delivered ones can be replayed.
- Consumers mount `inbox_router`: it checks the signature, takes each event not seen before (one at a time or a
  batch, in one transaction) and records its id in the inbox: a repeat has no effect.
- Subscriptions are data (internal services and departments' webhooks), each with its own secret.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry, Gauge
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import AuditDep
from shared.auth import Principal, require
from shared.db import Database, SessionDep, UTCDateTime, memo, readers_of, sessions_of, utcnow, write_behind
from shared.errors import DomainError, domain_error
from shared.ids import uuid7
from shared.pagination import Page, Paging, after_id, page_of
from shared.pii import PiiCipher
from shared.schemas.events import EVENT_TYPES, EventEnvelope
from shared.settings import ServiceSettings, common_settings

Hook = Callable[[FastAPI], Awaitable[None]]
T = TypeVar("T", bound=BaseModel)

log = logging.getLogger("fupin.events")

SIGNATURE_HEADER = "X-Fupin-Signature"
SIGNATURE_TOLERANCE_S = 300

SubscriptionNotFound = domain_error(
    "SubscriptionNotFound", 404, "subscription_not_found", "未找到该订阅", "Subscription not found"
)
DeliveryNotFound = domain_error("DeliveryNotFound", 404, "delivery_not_found", "未找到该投递", "Delivery not found")
UnknownEventType = domain_error(
    "UnknownEventType", 422, "unknown_event_type", "未知事件类型 {type}", "Unknown event type {type}"
)
BadSignature = domain_error(
    "BadSignature", 401, "bad_signature", "事件签名无效或已过期", "The event signature is invalid or too old"
)


@dataclass
class EventTables:
    outbox: sa.Table
    subscriptions: sa.Table
    deliveries: sa.Table
    inbox: sa.Table


def event_tables(metadata: sa.MetaData) -> EventTables:
    outbox = sa.Table(
        "outbox_events",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(60), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("household_id", sa.String(36), nullable=True, index=True),
        sa.Column("county_code", sa.String(6), nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    subscriptions = sa.Table(
        "subscriptions",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret_enc", sa.Text, nullable=False),
        sa.Column("event_types", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    deliveries = sa.Table(
        "deliveries",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("event_id", sa.String(36), sa.ForeignKey("outbox_events.id"), nullable=False),
        sa.Column("subscription_id", sa.String(36), sa.ForeignKey("subscriptions.id"), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        # The event's subject (subject_of): a subscription gets one subject's events one after another
        sa.Column("subject", sa.String(60), nullable=True),
        sa.UniqueConstraint("event_id", "subscription_id", name="uq_deliveries_event_subscription"),
        sa.Index("ix_deliveries_status_next", "status", "next_attempt_at"),
        # The due deliveries in the order they are claimed, and what each waits for: an earlier pending one of its
        # subscription and subject
        sa.Index(
            "ix_deliveries_pending_due", "next_attempt_at", "id",
            postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_deliveries_pending_subject", "subscription_id", "subject", "event_id",
            postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"),
        ),
    )  # fmt: skip
    inbox = sa.Table(
        "inbox_events",
        metadata,
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    return EventTables(outbox, subscriptions, deliveries, inbox)


# --- producing ------------------------------------------------------------------------------------------------


def envelope(
    *, source: str, payload: BaseModel, event_type: str, version: int = 1, household_id: str | None = None,
    county_code: str | None = None, occurred_at: datetime | None = None,
) -> EventEnvelope:  # fmt: skip
    if EVENT_TYPES.get((event_type, version)) is not type(payload):
        raise ValueError(f"{event_type} v{version} does not carry {type(payload).__name__}")
    return EventEnvelope(
        id=uuid7(),
        type=event_type,
        version=version,
        source=source,
        occurred_at=occurred_at or utcnow(),
        household_id=household_id,
        county_code=county_code,
        data=payload.model_dump(mode="json"),
    )


def subject_of(event: EventEnvelope) -> str | None:
    """What an event is about, for the order of delivery: its household (a person's events are their household's
    too), else the region it flags, else the person (a cadre's claim); None: no order to keep."""
    if event.household_id:
        return event.household_id
    for key in ("region_code", "person_id"):
        if value := event.data.get(key):
            return str(value)
    return None


def _subscribed(event_types: list[str], event_type: str) -> bool:
    return "*" in event_types or event_type in event_types


async def publish(session: AsyncSession, tables: EventTables, event: EventEnvelope) -> None:
    """Write the event and its deliveries in the caller's transaction (the outbox)."""
    await publish_many(session, tables, [event])


async def publish_many(session: AsyncSession, tables: EventTables, events: list[EventEnvelope]) -> None:
    """`publish` of many events: they and their deliveries are written as the transaction commits, in one statement
    a table with whatever else it publishes (a bank's result file pays tens of thousands of lines; an inbox's POST
    opens and closes cases for many persons)."""
    if not events:
        return
    write_behind(
        session, tables.outbox,
        [{"id": e.id, "type": e.type, "version": e.version, "occurred_at": e.occurred_at,
          "household_id": e.household_id, "county_code": e.county_code, "payload": e.model_dump(mode="json")}
         for e in events],
    )  # fmt: skip
    rows = await _active_subscriptions(session, tables)
    now = utcnow()
    deliveries = [
        {"id": uuid7(), "event_id": event.id, "subscription_id": row.id, "status": "pending", "attempts": 0,
         "next_attempt_at": now, "created_at": now, "subject": subject_of(event)}
        for event in events
        for row in rows
        if _subscribed(row.event_types, event.type)
    ]  # fmt: skip
    write_behind(session, tables.deliveries, deliveries)
    if deliveries:
        wake_after_commit(session)


async def _active_subscriptions(session: AsyncSession, tables: EventTables) -> list[Any]:
    """The active subscriptions, read once per session (a request, an inbox's POST publishing for many persons),
    without flushing what the session holds (nothing pending bears on them: the rows a POST adds go in together)."""
    subs = tables.subscriptions
    query = sa.select(subs.c.id, subs.c.event_types).where(subs.c.active.is_(True))
    return await memo(session, ("subscriptions", subs), lambda: _all_rows(session, query))


async def _all_rows(session: AsyncSession, query: sa.Select) -> list[Any]:
    with session.no_autoflush:
        return list((await session.execute(query)).all())


_dispatchers: "weakref.WeakSet[Dispatcher]" = weakref.WeakSet()


def wake_after_commit(session: AsyncSession) -> None:
    """Once the session's transaction commits, the dispatchers of this process look for due deliveries at once."""

    def wake(_session: Any) -> None:
        for dispatcher in list(_dispatchers):
            dispatcher.wake()

    sa.event.listen(session.sync_session, "after_commit", wake, once=True)


# --- signing --------------------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify_signature(secrets_to_try: list[str], header: str | None, body: bytes, now: float | None = None) -> bool:
    if not header:
        return False
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - t) > SIGNATURE_TOLERANCE_S:
        return False
    given = parts.get("v1", "")
    for secret in secrets_to_try:
        expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, given):
            return True
    return False


# --- delivering -----------------------------------------------------------------------------------------------


# An answer that says the event itself is bad: the same event would be refused again, so the delivery ends (dead).
BAD_EVENT_STATUSES = frozenset({400, 410, 413, 415, 422})
# `status = 'pending'` written into the SQL, not bound: the partial index of pending deliveries is then usable by
# PostgreSQL's generic plans of prepared statements too (a bound value hides that the predicate holds).
PENDING = sa.literal_column("'pending'")
# A pending delivery older than this counts as long pending on /metrics.
LONG_PENDING_S = 300.0


@dataclass(frozen=True)
class DeliveryPolicy:
    """What the answer to a delivery leads to: delivered (2xx), dead, or another attempt after a wait.

    - To another service of ours (`internal`): an answer in BAD_EVENT_STATUSES ends it as dead, the answer kept;
      anything else (connection refused, a timeout, 5xx, a 401 while secrets roll) is unavailability, retried for
      as long as it takes, the wait doubling from `base_delay_s` up to `retry_cap_s`.
    - To a department's webhook: the same, but dead after `webhook_max_attempts`, the waits doubling up to
      `webhook_retry_cap_s` (by default 30 attempts over about 3 days: `horizon_s`).
    """

    base_delay_s: float = 1.0
    retry_cap_s: float = 60.0
    webhook_max_attempts: int = 30
    webhook_retry_cap_s: float = 4 * 3600.0

    @classmethod
    def of(cls, settings: ServiceSettings) -> "DeliveryPolicy":
        return cls(
            base_delay_s=settings.events_retry_base_s,
            retry_cap_s=settings.events_retry_cap_s,
            webhook_max_attempts=settings.events_webhook_max_attempts,
            webhook_retry_cap_s=settings.events_webhook_retry_cap_s,
        )

    def outcome(self, kind: str, status: int | None, attempts: int) -> str:
        """`delivered`, `dead` or `retry`, after the delivery's `attempts`-th attempt answered `status` (None:
        no answer at all)."""
        if status is not None and 200 <= status < 300:
            return "delivered"
        if status in BAD_EVENT_STATUSES:
            return "dead"
        if kind != "internal" and attempts >= self.webhook_max_attempts:
            return "dead"
        return "retry"

    def _wait_s(self, kind: str, attempts: int) -> float:
        """The wait after `attempts` failed attempts, without jitter: doubling from the base, capped by kind."""
        cap = self.retry_cap_s if kind == "internal" else self.webhook_retry_cap_s
        return min(cap, self.base_delay_s * 2 ** min(attempts - 1, 60))

    def delay_s(self, kind: str, attempts: int) -> float:
        """The wait before the next attempt, `attempts` having failed, with ±20% jitter."""
        return self._wait_s(kind, attempts) * random.uniform(0.8, 1.2)

    def horizon_s(self) -> float:
        """How long a webhook's delivery is tried before it is dead (without jitter)."""
        return sum(self._wait_s("webhook", n) for n in range(1, self.webhook_max_attempts))


class DeliveryGauges:
    """Dead and pending deliveries per subscription, the long-pending ones and the age of the oldest, on /metrics."""

    def __init__(self, registry: CollectorRegistry):
        labels = ["subscription"]
        self.pending = Gauge("fupin_event_deliveries_pending", "Deliveries waiting", labels, registry=registry)
        self.dead = Gauge("fupin_event_deliveries_dead", "Deliveries that ended dead", labels, registry=registry)
        self.long_pending = Gauge(
            "fupin_event_deliveries_long_pending",
            f"Deliveries waiting for more than {LONG_PENDING_S:.0f} s",
            labels,
            registry=registry,
        )
        self.oldest = Gauge(
            "fupin_event_oldest_pending_age_seconds", "Age of the oldest waiting delivery", labels, registry=registry
        )

    def set(self, names: list[str], rows: list[Any], now: datetime) -> None:
        values = {name: [0, 0, 0, 0.0] for name in names}
        for row in rows:
            value = values.setdefault(row.name, [0, 0, 0, 0.0])
            if row.status == "dead":
                value[1] = row.count
            else:
                value[0], value[2] = row.count, int(row.long or 0)
                value[3] = max(0.0, (now - row.oldest).total_seconds())
        for name, (pending, dead, long, oldest) in values.items():
            self.pending.labels(name).set(pending)
            self.dead.labels(name).set(dead)
            self.long_pending.labels(name).set(long)
            self.oldest.labels(name).set(oldest)


def _error_of(status: int, text: str) -> str:
    text = text.strip()
    return (f"HTTP {status}: {text}" if text else f"HTTP {status}")[:300]


class Dispatcher:
    """Delivers due deliveries; safe to run in every replica (a delivery is leased before it is sent).

    A round claims up to `batch` deliveries, each the oldest pending one of its subscription and subject, sends
    them side by side and records the answers in one transaction. A department's webhook gets one event a POST;
    a service of ours gets `per_post` at a time at its batch inbox (the subscription's URL), answered one by one.
    Every `probe_s` the oldest waiting delivery of each internal subscription is tried again whatever its backoff,
    so a service that is back gets what waited for it within seconds: the first retried delivery it takes makes all
    its waiting deliveries due at once."""

    LEASE_S = 60
    MEASURE_S = 5.0

    def __init__(
        self,
        db: Database,
        tables: EventTables,
        cipher: PiiCipher,
        *,
        policy: DeliveryPolicy | None = None,
        poll_s: float = 1.0,
        probe_s: float = 2.0,
        batch: int = 100,
        per_post: int = 100,
        rounds: int = 1,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
        metrics: CollectorRegistry | None = None,
    ):
        self.db = db
        self.tables = tables
        self.cipher = cipher
        self.policy = policy or DeliveryPolicy()
        self.poll_s = poll_s
        self.probe_s = probe_s
        self.batch = batch
        self.per_post = min(per_post, INBOX_BATCH_MAX)
        self.rounds = max(1, rounds)
        self.clock = clock
        self.gauges = DeliveryGauges(metrics) if metrics is not None else None
        self.http = httpx.AsyncClient(
            timeout=timeout_s,
            transport=transport,
            limits=httpx.Limits(max_connections=batch, max_keepalive_connections=batch),
        )
        self._secrets: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Deliver soon: called after a transaction that published events commits."""
        self._wake.set()

    def start(self) -> None:
        """`rounds` loops, each claiming, sending and recording a round of its own, so a round's POSTs need not
        wait for the one before to be answered (a subject's next delivery waits all the same: it is claimed only
        once the one before is no longer pending); the first also polls, probes and measures, and the others sleep
        until it finds work or a commit wakes them."""
        _dispatchers.add(self)
        self._tasks = [
            asyncio.create_task(self._run(lead=n == 0), name=f"event-dispatcher-{n}") for n in range(self.rounds)
        ]

    async def stop(self) -> None:
        _dispatchers.discard(self)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.http.aclose()

    async def _run(self, lead: bool) -> None:
        next_probe = next_measure = 0.0 if lead else float("inf")
        while True:
            sent = 0
            try:
                sent = await self.dispatch_once()
                if time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + self.probe_s
                    sent += await self.probe()
                if self.gauges is not None and time.monotonic() >= next_measure:
                    next_measure = time.monotonic() + self.MEASURE_S
                    await self.measure()
            except Exception:  # the loop must outlive a database hiccup; the next round tries again
                log.exception("event dispatch round failed")
            if sent and lead:
                self._wake.set()  # there is work: the other rounds join in
            if sent == 0:
                self._wake.clear()
                try:  # only the lead polls; the others sleep until there is work (an idle service stays idle)
                    await asyncio.wait_for(self._wake.wait(), min(self.poll_s, self.probe_s) if lead else None)
                except TimeoutError:
                    pass

    def _unleased(self, now: datetime) -> sa.ColumnElement[bool]:
        """Deliveries no dispatcher holds: never leased, or the lease ran out (its holder stopped)."""
        d = self.tables.deliveries
        return sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now)

    async def _claim(self, now: datetime) -> list[Any]:
        """Lease the due deliveries nobody else holds and no earlier delivery of their subject waits before; the
        lease's exact instant marks them as ours."""
        d, s, o = self.tables.deliveries, self.tables.subscriptions, self.tables.outbox
        earlier = d.alias("earlier")
        waits = (
            sa.exists()
            .where(earlier.c.subscription_id == d.c.subscription_id, earlier.c.subject == d.c.subject)
            .where(earlier.c.status == PENDING, earlier.c.event_id < d.c.event_id)
        )
        async with self.db.sessions.begin() as session:
            # Locked as they are read, and those another round holds skipped: rounds under way at once never lease
            # the same rows (on SQLite the transaction holds the write lock from its start anyway).
            due = list(
                (
                    await session.execute(
                        sa.select(d.c.id)
                        .where(d.c.status == PENDING, d.c.next_attempt_at <= now)
                        .where(self._unleased(now), ~waits)
                        .order_by(d.c.next_attempt_at, d.c.id)
                        .limit(self.batch)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            if not due:
                return []
            token = now + timedelta(seconds=self.LEASE_S, microseconds=random.randrange(1_000_000))
            await session.execute(d.update().where(d.c.id.in_(due)).values(lease_until=token))
            rows = await session.execute(
                sa.select(d.c.id, d.c.attempts, d.c.subscription_id, d.c.lease_until, s.c.kind, s.c.url,
                          s.c.secret_enc, o.c.payload)
                .join(s, s.c.id == d.c.subscription_id)
                .join(o, o.c.id == d.c.event_id)
                .where(d.c.id.in_(due))
            )  # fmt: skip
            return list(rows.all())

    async def dispatch_once(self) -> int:
        """Send what is due now; returns how many deliveries were attempted."""
        claimed = await self._claim(self.clock())
        if claimed:
            answers: dict[str, tuple[int | None, str | None]] = {}
            posts = [self._send(row) for row in claimed if row.kind != "internal"]
            by_subscription: dict[str, list[Any]] = {}
            for row in claimed:
                if row.kind == "internal":
                    by_subscription.setdefault(row.subscription_id, []).append(row)
            for rows in by_subscription.values():
                posts += [self._send_batch(rows[i : i + self.per_post]) for i in range(0, len(rows), self.per_post)]
            for sent in await asyncio.gather(*posts):
                answers.update(sent)
            await self._record(claimed, [answers[row.id] for row in claimed])
        return len(claimed)

    def _secret(self, secret_enc: str) -> str:
        if secret_enc not in self._secrets:
            self._secrets[secret_enc] = self.cipher.decrypt(secret_enc)
        return self._secrets[secret_enc]

    async def _post(
        self, row: Any, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, httpx.Response | None]:
        """POST the signed body to the row's subscription: the answer's status (None: none came), what went wrong
        (None for a 2xx, whose body is not read here) and the response."""
        signature = sign(self._secret(row.secret_enc), body)
        try:
            response = await self.http.post(
                row.url,
                content=body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature, **headers},
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300], None
        status = response.status_code
        return status, None if 200 <= status < 300 else _error_of(status, response.text), response

    async def _send(self, row: Any) -> dict[str, tuple[int | None, str | None]]:
        """One event to a department's webhook."""
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"X-Fupin-Event-Id": row.payload["id"], "X-Fupin-Event-Type": row.payload["type"]}
        status, error, _ = await self._post(row, body, headers)
        return {row.id: (status, error)}

    async def _send_batch(self, rows: list[Any]) -> dict[str, tuple[int | None, str | None]]:
        """Several events to the batch inbox of a service of ours, answered one by one; a POST that fails as a
        whole answers for each of them, and an event the answer leaves out is tried again."""
        events = ",".join(json.dumps(r.payload, ensure_ascii=False, separators=(",", ":")) for r in rows)
        body = f'{{"events":[{events}]}}'.encode()
        status, error, response = await self._post(rows[0], body, {"X-Fupin-Event-Count": str(len(rows))})
        if response is None or not 200 <= response.status_code < 300:
            return {row.id: (status, error) for row in rows}
        try:
            results = {r.id: r for r in BatchAnswer.model_validate_json(response.content).results}
        except ValidationError:
            results = {}
        answers: dict[str, tuple[int | None, str | None]] = {}
        for row in rows:
            result = results.get(row.payload["id"])
            if result is None:
                answers[row.id] = (None, "the answer left the event out")
            elif 200 <= result.status < 300:
                answers[row.id] = (result.status, None)
            else:
                answers[row.id] = (result.status, _error_of(result.status, result.detail or ""))
        return answers

    async def _record(self, claimed: list[Any], answers: list[tuple[int | None, str | None]]) -> None:
        """The answers, in one transaction; a subscription that took a retried delivery is back, so what waits for
        it becomes due now."""
        d = self.tables.deliveries
        now = self.clock()
        token = claimed[0].lease_until
        delivered: dict[int, list[str]] = {}
        back: set[str] = set()  # took a retried delivery: what waits for it is due now
        took: set[str] = set()  # took at least one delivery of the round
        unavailable: set[str] = set()  # an internal one that did not answer, or failed
        async with self.db.sessions.begin() as session:
            for row, (status, error) in zip(claimed, answers, strict=True):
                attempts = row.attempts + 1
                outcome = self.policy.outcome(row.kind, status, attempts)
                if outcome == "delivered":
                    assert status is not None
                    delivered.setdefault(status, []).append(row.id)
                    took.add(row.subscription_id)
                    if row.attempts:
                        back.add(row.subscription_id)
                    continue
                if row.kind == "internal" and (status is None or status >= 500):
                    unavailable.add(row.subscription_id)
                values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error,
                                          "lease_until": None}  # fmt: skip
                if outcome == "dead":
                    values["status"] = "dead"
                    log.warning("delivery %s is dead after %d attempts: %s", row.id, attempts, error)
                else:
                    values["next_attempt_at"] = now + timedelta(seconds=self.policy.delay_s(row.kind, attempts))
                await session.execute(d.update().where(d.c.id == row.id, d.c.lease_until == token).values(**values))
            for status, ids in delivered.items():
                await session.execute(
                    d.update()
                    .where(d.c.id.in_(ids), d.c.lease_until == token)
                    .values(status="delivered", attempts=d.c.attempts + 1, last_status=status, last_error=None,
                            lease_until=None, delivered_at=now)
                )  # fmt: skip
        # What else waits for a subscription (not this round's: one refused just now keeps its wait) is due now when
        # it is back, and when a service of ours took none of the round it is down: what is due waits for the probe
        # (or its own backoff), rather than each head of a subject knocking on its own schedule. What waits already
        # keeps its time: pushing every waiting row again at each failed round rewrote the whole backlog a few times a
        # second while the service was down (on PostgreSQL the dead row versions then made each claim take seconds).
        # In a transaction of its own, after the answers are safe: should it still fail, it costs only this move,
        # which the probe and the backoff make up for.
        paused_until = now + timedelta(seconds=self.policy.retry_cap_s)
        moves = [(subscriptions, moved, to) for subscriptions, moved, to in (
            (back, d.c.next_attempt_at > now, now),
            (unavailable - took, d.c.next_attempt_at <= now, paused_until),
        ) if subscriptions]  # fmt: skip
        if not moves:
            return
        try:
            async with self.db.sessions.begin() as session:
                for subscriptions, moved, to in moves:
                    # Rows another round holds are skipped, not waited for (two rounds moving one subscription's
                    # rows in different orders deadlocked on PostgreSQL); that round settles them itself.
                    free = (
                        sa.select(d.c.id)
                        .where(d.c.subscription_id.in_(subscriptions), d.c.status == PENDING, moved)
                        .where(self._unleased(now), d.c.id.not_in([row.id for row in claimed]))
                        .with_for_update(skip_locked=True)
                    )
                    await session.execute(d.update().where(d.c.id.in_(free)).values(next_attempt_at=to))
        except DBAPIError as exc:
            log.warning("moving what waits for %s failed: %s", sorted(back | unavailable), exc)

    async def probe(self) -> int:
        """Make the oldest waiting delivery of each internal subscription due now (it is the first of its subject,
        since nothing older is pending); returns how many were made due."""
        d, s = self.tables.deliveries, self.tables.subscriptions
        now = self.clock()
        async with self.db.sessions() as session:
            oldest = (
                await session.execute(
                    sa.select(d.c.subscription_id, sa.func.min(d.c.event_id).label("event_id"))
                    .join(s, s.c.id == d.c.subscription_id)
                    .where(s.c.kind == "internal", d.c.status == PENDING)
                    .group_by(d.c.subscription_id)
                )
            ).all()
            await session.commit()
            made_due = 0
            for row in oldest:
                result = await session.execute(
                    d.update()
                    .where(d.c.subscription_id == row.subscription_id, d.c.event_id == row.event_id)
                    .where(d.c.status == PENDING, d.c.next_attempt_at > now)
                    .where(self._unleased(now))
                    .values(next_attempt_at=now)
                )
                made_due += result.rowcount
            await session.commit()
        return made_due

    async def measure(self) -> None:
        """Set the delivery gauges from the table."""
        assert self.gauges is not None
        d, s = self.tables.deliveries, self.tables.subscriptions
        now = self.clock()
        long_ago = now - timedelta(seconds=LONG_PENDING_S)
        async with self.db.sessions() as session:
            names = list((await session.execute(sa.select(s.c.name))).scalars())
            rows = (
                await session.execute(
                    sa.select(
                        s.c.name, d.c.status, sa.func.count().label("count"),
                        sa.func.min(d.c.created_at).label("oldest"),
                        sa.func.sum(sa.case((d.c.created_at < long_ago, 1), else_=0)).label("long"),
                    )
                    .join(s, s.c.id == d.c.subscription_id)
                    .where(d.c.status.in_(("pending", "dead")))
                    .group_by(s.c.name, d.c.status)
                )
            ).all()  # fmt: skip
        self.gauges.set(names, list(rows), now)


# --- consuming ------------------------------------------------------------------------------------------------


INBOX_BATCH_MAX = 500  # events in one POST to a batch inbox


class EventBatch(BaseModel):
    """Several events in one POST: how a dispatcher delivers to another service of ours."""

    events: list[EventEnvelope] = Field(min_length=1, max_length=INBOX_BATCH_MAX)


class EventResult(BaseModel):
    id: str = Field(description="事件ID The event's id")
    status: int = Field(
        description="200：已接收（或重复）；4xx：事件本身有误，不再投递；5xx：稍后重投 200: taken (or a repeat); 4xx: the "
        "event itself is refused, not to be sent again; 5xx: send it again later"
    )
    accepted: bool = Field(description="首次接收 Taken now (false for a repeat or a refusal)")
    detail: str | None = None


class BatchAnswer(BaseModel):
    results: list[EventResult] = Field(description="每个事件一项，顺序同请求 One per event, in the request's order")


class InboxAnswer(BaseModel):
    accepted: bool


Take = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]


@dataclass
class Intake:
    """What a consumer does with the new events of a POST, in one transaction: `begin` once first (say, take the
    locks it needs in a fixed order); `take_all` with every event recorded now, at once (work that refuses none of
    them, such as writing each into a ledger: should it fail, the whole POST fails and is sent again); then `take`
    for each event that `needs` it, in turn (an event that needs nothing is only recorded in the inbox). Should one
    of them fail, the transaction is rolled back and the events taken again from a new Intake (`prepare` is called
    again: what a consumer learns while taking them is kept in the Intake, never beside it), each `take` then in a
    savepoint of its own."""

    take: Take | None = None
    begin: Callable[[AsyncSession], Awaitable[None]] | None = None
    needs: Callable[[EventEnvelope], bool] = lambda _event: True
    take_all: Callable[[AsyncSession, list[EventEnvelope]], Awaitable[None]] | None = None


# What a consumer reads for the new events of a POST before the transaction begins (another service's answers:
# no lock is held while it waits), and what it will then do with them; raising refuses the whole POST (a 503 when
# what it needs cannot be reached, so everything is sent again later).
Prepare = Callable[[Request, list[EventEnvelope]], Awaitable[Intake]]


@dataclass
class _Taken:
    result: EventResult
    error: Exception | None = None


async def _take_events(
    request: Request, tables: EventTables, events: list[EventEnvelope], prepare: Prepare
) -> list[_Taken]:
    """Each event not in the inbox yet taken by the consumer and recorded in the inbox, in one transaction; a
    repeat is answered as such and changes nothing. An event the consumer refuses (a DomainError, a payload that
    does not validate) or fails on leaves no trace and its result says why; the others are taken all the same.

    The events are first taken together, with no savepoint (a statement and a round trip fewer each, and what they
    leave is written at once when the transaction ends); should any of them fail, that transaction is rolled back
    and they are all taken again, from a fresh `prepare`, each in a savepoint of its own."""
    inbox = tables.inbox
    ids = list(dict.fromkeys(e.id for e in events))
    async with readers_of(request.app)() as session:
        seen = set((await session.execute(sa.select(inbox.c.event_id).where(inbox.c.event_id.in_(ids)))).scalars())
    fresh = list({e.id: e for e in events if e.id not in seen}.values())
    taken: dict[str, _Taken] = {}
    if fresh:
        intake = await prepare(request, fresh)
        try:
            taken = await _take_fresh(request, tables, fresh, intake, apart=False)
        except Exception:  # one of them failed: taken again, each apart, so that the others are taken
            taken = await _take_fresh(request, tables, fresh, await prepare(request, fresh), apart=True)
    return [taken.get(e.id) or _Taken(EventResult(id=e.id, status=200, accepted=False)) for e in events]


async def _take_fresh(
    request: Request, tables: EventTables, fresh: list[EventEnvelope], intake: Intake, *, apart: bool
) -> dict[str, _Taken]:
    """Record the events in the inbox and take them, in one transaction; `apart`: each `take` in a savepoint of its
    own, an event that fails refused and the others taken (otherwise the first failure ends the transaction)."""
    taken: dict[str, _Taken] = {}
    async with sessions_of(request.app).begin() as session:
        ours = await _record_new(session, tables.inbox, fresh)
        if intake.begin is not None:
            await intake.begin(session)
        if intake.take_all is not None:
            await intake.take_all(session, [event for event in fresh if event.id in ours])
        refused = []
        for event in fresh:
            if event.id not in ours:  # taken by a delivery of the same event at the same time: a repeat
                continue
            if intake.take is not None and intake.needs(event):
                if not apart:
                    await intake.take(session, event)
                else:
                    try:
                        async with session.begin_nested():
                            await intake.take(session, event)
                    except Exception as exc:
                        taken[event.id] = _refused(event, exc)
                        refused.append(event.id)
                        continue
            taken[event.id] = _Taken(EventResult(id=event.id, status=200, accepted=True))
        if refused:  # not taken: sent again, they must not look like repeats
            await session.execute(tables.inbox.delete().where(tables.inbox.c.event_id.in_(refused)))
    return taken


async def _record_new(session: AsyncSession, inbox: sa.Table, events: list[EventEnvelope]) -> set[str]:
    """Record the events in the inbox in one statement; the ids recorded now (not those another transaction
    recorded first)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [{"event_id": e.id, "source": e.source, "type": e.type, "received_at": now} for e in events]
    statement = insert(inbox).on_conflict_do_nothing(index_elements=["event_id"]).returning(inbox.c.event_id)
    return set((await session.execute(statement, rows)).scalars())


def _refused(event: EventEnvelope, exc: Exception) -> _Taken:
    if isinstance(exc, DomainError):
        status, detail = exc.status, exc.message("en")
    elif isinstance(exc, ValidationError):
        status, detail = 422, f"invalid payload: {exc.errors(include_url=False)}"
    else:
        log.exception("event %s (%s) failed", event.id, event.type, exc_info=exc)
        status, detail = 500, f"{type(exc).__name__}"
    return _Taken(EventResult(id=event.id, status=status, accepted=False, detail=detail[:300]), exc)


async def _signed(request: Request, model: type[T]) -> T:
    """The body POSTed to an inbox, after its signature (the internal events secret) is checked."""
    body = await request.body()
    if not verify_signature([common_settings().internal_events_secret()], request.headers.get(SIGNATURE_HEADER), body):
        raise BadSignature()
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


def inbox_router(service: str, tables: EventTables, prepare: Prepare, tag: str) -> APIRouter:
    """The inbox of a consuming service: the other services' events, signed with the internal events secret, one
    at a time (`/events/inbox`) or many (`/events/inbox/batch`, what dispatchers send); each event taken once."""
    router = APIRouter(prefix=f"/api/v1/{service}", tags=[tag])

    @router.post("/events/inbox/batch", operation_id=f"{service}_event_inbox_batch", response_model=BatchAnswer)
    async def event_inbox_batch(request: Request) -> BatchAnswer:
        """Several events from other services, signed with the internal events secret (X-Fupin-Signature) 批量接收事件

        Authorised by the signature, not a token. Each event is answered on its own: 200 taken (a repeat changes
        nothing), 4xx refused for good, 5xx to be sent again; all are taken in one transaction.
        """
        batch = await _signed(request, EventBatch)
        return BatchAnswer(results=[t.result for t in await _take_events(request, tables, batch.events, prepare)])

    @router.post("/events/inbox", operation_id=f"{service}_event_inbox", response_model=InboxAnswer)
    async def event_inbox(request: Request) -> InboxAnswer:
        """One event from another service, signed with the internal events secret (X-Fupin-Signature) 接收事件

        Authorised by the signature, not a token: only a service holding the secret can post here. A repeated event
        (same id) is accepted and changes nothing.
        """
        event = await _signed(request, EventEnvelope)
        (taken,) = await _take_events(request, tables, [event], prepare)
        if taken.error is not None:
            raise taken.error
        return InboxAnswer(accepted=taken.result.accepted)

    return router


# --- managing subscriptions and deliveries (a router every producing service mounts) ---------------------------


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "民政局低保系统", "kind": "webhook",
                                         "url": "https://mz.example.gov.cn/fupin/events",
                                         "event_types": ["person.health_changed"]}]},
    )  # fmt: skip

    name: str = Field(min_length=1, max_length=100)
    kind: str = Field("webhook", pattern="^(internal|webhook)$", description="internal service or external webhook")
    url: HttpUrl
    event_types: list[str] = Field(min_length=1, description='事件类型，"*" 表示全部 Event types, "*" for all')
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="留空时：内部服务用内部事件密钥，外部 webhook 自动生成；只返回一次 Left out: the internal events "
        "secret for an internal service, a new one for a webhook; shown only once",
    )


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    url: HttpUrl | None = None
    event_types: list[str] | None = Field(None, min_length=1)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    id: str
    name: str
    kind: str
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(None, description="只在创建时返回 Only in the answer to its creation")


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    subscription_id: str
    status: str = Field(examples=["pending", "delivered", "dead"])
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"since": "2020-02-09T00:00:00+08:00"}]})

    since: datetime = Field(description="重新投递此后发生的全部事件 Deliver again every event since this instant")


class ReplayResult(BaseModel):
    deliveries: int


def _check_types(event_types: list[str]) -> None:
    known = {name for name, _ in EVENT_TYPES}
    for event_type in event_types:
        if event_type != "*" and event_type not in known:
            raise UnknownEventType(field="event_types", type=event_type)


def events_router(prefix: str, tag: str, tables: EventTables) -> APIRouter:
    """Subscriptions, the outbox and deliveries of one producing service (permission events:manage)."""
    router = APIRouter(prefix=prefix, tags=[tag])
    service = prefix.strip("/").split("/")[-1]
    Manager = Annotated[Principal, Depends(require("events:manage"))]
    subs, deliveries, outbox = tables.subscriptions, tables.deliveries, tables.outbox

    def out(row: Any, secret: str | None = None) -> SubscriptionOut:
        return SubscriptionOut(id=row.id, name=row.name, kind=row.kind, url=row.url, event_types=row.event_types,
                               active=row.active, created_at=row.created_at, secret=secret)  # fmt: skip

    async def load(session: AsyncSession, subscription_id: str) -> Any:
        row = (await session.execute(sa.select(subs).where(subs.c.id == subscription_id))).first()
        if row is None:
            raise SubscriptionNotFound()
        return row

    @router.post("/subscriptions", operation_id=f"{service}_create_subscription", response_model=SubscriptionOut,
                 status_code=201)  # fmt: skip
    async def create_subscription(
        body: SubscriptionCreate, request: Request, session: SessionDep, audit: AuditDep, principal: Manager
    ) -> SubscriptionOut:
        """Subscribe a service or a department's webhook to events 新建事件订阅"""
        _check_types(body.event_types)
        # An internal service's inbox checks the internal events secret; a department's webhook gets its own.
        default = common_settings().internal_events_secret() if body.kind == "internal" else secrets.token_urlsafe(32)
        secret = body.secret or default
        now = utcnow()
        values = {"id": uuid7(), "name": body.name, "kind": body.kind, "url": str(body.url),
                  "secret_enc": request.app.state.cipher.encrypt(secret), "event_types": body.event_types,
                  "active": True, "created_by": principal.subject, "created_at": now, "updated_at": now}  # fmt: skip
        await session.execute(subs.insert().values(**values))
        await audit.record(principal, action="subscription.create", entity="subscription", entity_id=values["id"],
                           changes={"name": body.name, "url": str(body.url), "event_types": body.event_types})  # fmt: skip
        shown = None if body.kind == "internal" and body.secret is None else secret  # the internal one stays hidden
        return out(await load(session, values["id"]), secret=shown)

    @router.get("/subscriptions", operation_id=f"{service}_list_subscriptions", response_model=list[SubscriptionOut])
    async def list_subscriptions(session: SessionDep, principal: Manager) -> list[SubscriptionOut]:
        """Event subscriptions 事件订阅列表"""
        rows = (await session.execute(sa.select(subs).order_by(subs.c.id))).all()
        return [out(row) for row in rows]

    @router.patch("/subscriptions/{subscription_id}", operation_id=f"{service}_update_subscription",
                  response_model=SubscriptionOut)  # fmt: skip
    async def update_subscription(
        subscription_id: str, body: SubscriptionUpdate, session: SessionDep, audit: AuditDep, principal: Manager
    ) -> SubscriptionOut:
        """Change a subscription's address, event types or active flag 修改事件订阅"""
        await load(session, subscription_id)
        changes = body.model_dump(exclude_unset=True, exclude_none=True, mode="json")
        if "event_types" in changes:
            _check_types(changes["event_types"])
        if changes:
            await session.execute(
                subs.update().where(subs.c.id == subscription_id).values(**changes, updated_at=utcnow())
            )
            await audit.record(principal, action="subscription.update", entity="subscription",
                               entity_id=subscription_id, changes=changes)  # fmt: skip
        return out(await load(session, subscription_id))

    @router.post("/subscriptions/{subscription_id}/replay", operation_id=f"{service}_replay_subscription",
                 response_model=ReplayResult)  # fmt: skip
    async def replay_subscription(
        subscription_id: str, body: ReplayRequest, session: SessionDep, audit: AuditDep, principal: Manager
    ) -> ReplayResult:
        """Deliver again every event since a time (and those the subscription never had) 重新投递"""
        subscription = await load(session, subscription_id)
        events = (
            await session.execute(
                sa.select(outbox.c.id, outbox.c.type, outbox.c.payload)
                .where(outbox.c.occurred_at >= body.since)
                .order_by(outbox.c.id)
            )
        ).all()
        subjects = {
            e.id: subject_of(EventEnvelope.model_validate(e.payload))
            for e in events
            if _subscribed(subscription.event_types, e.type)
        }
        wanted = list(subjects)
        existing = set(
            (
                await session.execute(
                    sa.select(deliveries.c.event_id).where(
                        deliveries.c.subscription_id == subscription_id, deliveries.c.event_id.in_(wanted)
                    )
                )
            ).scalars()
        ) if wanted else set()  # fmt: skip
        now = utcnow()
        if existing:
            await session.execute(
                deliveries.update()
                .where(deliveries.c.subscription_id == subscription_id, deliveries.c.event_id.in_(existing))
                .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
            )
        new = [
            {"id": uuid7(), "event_id": event_id, "subscription_id": subscription_id, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now, "subject": subjects[event_id]}
            for event_id in wanted if event_id not in existing
        ]  # fmt: skip
        if new:
            await session.execute(deliveries.insert(), new)
        await audit.record(principal, action="subscription.replay", entity="subscription", entity_id=subscription_id,
                           changes={"since": body.since.isoformat(), "deliveries": len(wanted)})  # fmt: skip
        wake_after_commit(session)
        return ReplayResult(deliveries=len(wanted))

    @router.get("/deliveries", operation_id=f"{service}_list_deliveries", response_model=Page[DeliveryOut])
    async def list_deliveries(
        session: SessionDep,
        principal: Manager,
        page: Paging,
        status: str | None = None,
        subscription_id: str | None = None,
    ) -> Page[DeliveryOut]:
        """Deliveries, newest first: pending, delivered, dead 投递记录"""
        query = (
            sa.select(deliveries, outbox.c.type.label("event_type"))
            .join(outbox, outbox.c.id == deliveries.c.event_id)
            .order_by(deliveries.c.id.desc())
            .limit(page.limit + 1)
        )
        if status:
            query = query.where(deliveries.c.status == status)
        if subscription_id:
            query = query.where(deliveries.c.subscription_id == subscription_id)
        if before := after_id(page):
            query = query.where(deliveries.c.id < before)
        rows, cursor = page_of(list((await session.execute(query)).all()), page.limit, lambda r: {"id": r.id})
        return Page[DeliveryOut](items=[DeliveryOut.model_validate(r._mapping) for r in rows], next_cursor=cursor)

    @router.post("/deliveries/{delivery_id}/replay", operation_id=f"{service}_replay_delivery",
                 response_model=ReplayResult)  # fmt: skip
    async def replay_delivery(
        delivery_id: str, session: SessionDep, audit: AuditDep, principal: Manager
    ) -> ReplayResult:
        """Deliver one event again (a dead one, say) 重新投递一条"""
        result = await session.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None)
        )
        if result.rowcount != 1:
            raise DeliveryNotFound()
        await audit.record(principal, action="delivery.replay", entity="delivery", entity_id=delivery_id)
        wake_after_commit(session)
        return ReplayResult(deliveries=1)

    @router.get("/events", operation_id=f"{service}_list_events", response_model=Page[EventEnvelope])
    async def list_events(
        session: SessionDep,
        principal: Manager,
        page: Paging,
        type: str | None = None,
    ) -> Page[EventEnvelope]:
        """Events this service published, newest first 已发布事件"""
        query = sa.select(outbox.c.id, outbox.c.payload).order_by(outbox.c.id.desc()).limit(page.limit + 1)
        if type:
            query = query.where(outbox.c.type == type)
        if before := after_id(page):
            query = query.where(outbox.c.id < before)
        if page.updated_since:
            query = query.where(outbox.c.occurred_at > page.updated_since)
        rows, cursor = page_of(list((await session.execute(query)).all()), page.limit, lambda r: {"id": r.id})
        return Page[EventEnvelope](items=[EventEnvelope.model_validate(r.payload) for r in rows], next_cursor=cursor)

    return router


# The advisory lock of a service's subscriptions while they are brought up to date (PostgreSQL; SQLite has one
# writer at a time): the bytes of "fupin:su" as a number
SUBSCRIPTIONS_LOCK = int.from_bytes(b"fupin:su", "big", signed=True)


async def ensure_internal_subscriptions(
    session: AsyncSession, tables: EventTables, cipher: PiiCipher, wanted: list[tuple[str, str, list[str]]]
) -> None:
    """The subscriptions of the other services that take this one's events (name, inbox URL, event types): made
    when missing, their URL and types brought up to date; one an operator switched off stays off."""
    subs = tables.subscriptions
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":  # worker processes starting at once make each one once
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(SUBSCRIPTIONS_LOCK)))
    for name, url, event_types in wanted:
        row = (await session.execute(sa.select(subs).where(subs.c.name == name, subs.c.kind == "internal"))).first()
        if row is None:
            secret = cipher.encrypt(common_settings().internal_events_secret())
            await session.execute(
                subs.insert().values(
                    id=uuid7(), name=name, kind="internal", url=url, secret_enc=secret, event_types=event_types,
                    active=True, created_by="system", created_at=now, updated_at=now,
                )
            )  # fmt: skip
        elif (row.url, row.event_types) != (url, event_types):
            await session.execute(
                subs.update().where(subs.c.id == row.id).values(url=url, event_types=event_types, updated_at=now)
            )


def dispatcher_hooks(
    tables: EventTables, settings: ServiceSettings, internal: list[tuple[str, str, list[str]]] | None = None
) -> tuple[Hook, Hook]:
    """Lifespan hooks that start the service's dispatcher (unless `<SERVICE>_EVENTS_DISPATCH=false`) and stop it.

    `internal`: the other services' subscriptions to keep (ensure_internal_subscriptions), when dispatching."""

    async def start(app: FastAPI) -> None:
        app.state.dispatcher = None
        if settings.events_dispatch and internal:
            async with app.state.db.sessions.begin() as session:
                await ensure_internal_subscriptions(session, tables, app.state.cipher, internal)
        if settings.events_dispatch:
            app.state.dispatcher = Dispatcher(
                app.state.db, tables, app.state.cipher, policy=DeliveryPolicy.of(settings),
                poll_s=settings.events_poll_s, probe_s=settings.events_probe_s, batch=settings.events_batch,
                rounds=settings.events_rounds, timeout_s=settings.events_timeout_s, metrics=app.state.metrics.registry,
            )  # fmt: skip
            app.state.dispatcher.start()

    async def stop(app: FastAPI) -> None:
        if app.state.dispatcher is not None:
            await app.state.dispatcher.stop()

    return start, stop
