"""The inbox every consuming service mounts (shared.events.inbox_router), one event at a time and in batches: the
signature, repeats, an event refused or failing on its own without touching the others, the answer per event."""

import asyncio
import json

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.inbox import receive
from services.registry.models import LedgerEntry, events
from shared.errors import domain_error, install_error_handlers
from shared.events import SIGNATURE_HEADER, Intake, inbox_router, sign
from shared.schemas.events import EventEnvelope
from shared.settings import common_settings
from tests.support.events import contact_event

Refused = domain_error("Refused", 422, "refused", "拒收", "This household is refused")
BATCH = "/api/v1/test/events/inbox/batch"
ONE = "/api/v1/test/events/inbox"


class Consumer:
    """The registry's ledger intake, refusing household "bad", failing on "boom"; what it prepared is kept."""

    def __init__(self) -> None:
        self.prepared: list[list[str]] = []
        self.unavailable = False

    async def prepare(self, request: Request, new: list[EventEnvelope]) -> Intake:
        if self.unavailable:
            raise domain_error("Down", 503, "down", "不可用", "Down")()
        self.prepared.append([e.id for e in new])
        ledger = (await receive(request, new)).take_all
        assert ledger is not None

        async def take(session: AsyncSession, event: EventEnvelope) -> None:
            await ledger(session, [event])
            await session.flush()  # the ledger row is written before the refusal: the savepoint must undo it
            if event.household_id == "bad":
                raise Refused()
            if event.household_id == "boom":
                raise RuntimeError("boom")

        return Intake(take=take)


@pytest.fixture
async def inbox(db):
    consumer = Consumer()
    app = FastAPI()
    install_error_handlers(app)
    app.state.db = db
    app.include_router(inbox_router("test", events, consumer.prepare, "test"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        client.consumer = consumer  # type: ignore[attr-defined]
        yield client
    async with db.sessions.begin() as session:
        await session.execute(sa.delete(LedgerEntry))


def signed(body: bytes, secret: str | None = None) -> dict[str, str]:
    secret = secret or common_settings().internal_events_secret()
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


def batch_body(*sent: EventEnvelope) -> bytes:
    return json.dumps({"events": [e.model_dump(mode="json") for e in sent]}).encode()


async def ledger(db) -> list[str]:
    async with db.sessions() as session:
        return sorted((await session.scalars(sa.select(LedgerEntry.event_id))).all())


async def inbox_ids(db) -> list[str]:
    async with db.sessions() as session:
        return sorted((await session.scalars(sa.select(events.inbox.c.event_id))).all())


async def test_a_batch_is_answered_event_by_event_and_a_refusal_touches_nothing_else(inbox, db):
    good, bad, boom, other = contact_event("h1"), contact_event("bad"), contact_event("boom"), contact_event("h2")
    body = batch_body(good, bad, boom, other)
    answer = await inbox.post(BATCH, content=body, headers=signed(body))
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["id"], r["status"], r["accepted"]) for r in results] == [
        (good.id, 200, True), (bad.id, 422, False), (boom.id, 500, False), (other.id, 200, True),
    ]  # fmt: skip
    assert results[1]["detail"] == "This household is refused"
    assert await ledger(db) == sorted([good.id, other.id])  # the refused and failed ones left no ledger row
    assert await inbox_ids(db) == sorted([good.id, other.id])  # nor an inbox row: they can be sent again
    ids = [good.id, bad.id, boom.id, other.id]
    assert inbox.consumer.prepared == [ids, ids]  # taken together, then again each apart from a new Intake

    again = batch_body(other, boom, good)
    answer = await inbox.post(BATCH, content=again, headers=signed(again))
    assert [(r["status"], r["accepted"]) for r in answer.json()["results"]] == [(200, False), (500, False),
                                                                                 (200, False)]  # fmt: skip
    assert inbox.consumer.prepared[-1] == [boom.id]  # repeats are not prepared again
    assert await ledger(db) == sorted([good.id, other.id])


async def test_a_batch_nobody_refuses_is_taken_together_with_no_savepoint(inbox, db):
    sent = [contact_event(f"h{n}") for n in range(5)]
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    body = batch_body(*sent)
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        answer = await inbox.post(BATCH, content=body, headers=signed(body))
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert [(r["status"], r["accepted"]) for r in answer.json()["results"]] == [(200, True)] * 5
    assert inbox.consumer.prepared == [[e.id for e in sent]]
    assert not [s for s in statements if "SAVEPOINT" in s], statements
    assert await ledger(db) == sorted(e.id for e in sent)


async def test_one_event_at_a_time_is_taken_once_and_a_refusal_is_a_problem_answer(inbox, db):
    event = contact_event("h1")
    body = event.model_dump_json().encode()
    first = await inbox.post(ONE, content=body, headers=signed(body))
    again = await inbox.post(ONE, content=body, headers=signed(body))
    assert (first.status_code, first.json(), again.json()) == (200, {"accepted": True}, {"accepted": False})
    refused = contact_event("bad").model_dump_json().encode()
    answer = await inbox.post(ONE, content=refused, headers=signed(refused))
    assert (answer.status_code, answer.json()["code"]) == (422, "refused")
    assert await ledger(db) == [event.id]


@pytest.mark.parametrize("path", [ONE, BATCH])
async def test_an_inbox_refuses_a_forged_signature_and_a_body_that_is_no_event(inbox, db, path):
    event = contact_event("h1")
    body = event.model_dump_json().encode() if path == ONE else batch_body(event)
    forged = await inbox.post(path, content=body, headers=signed(body, "not-the-internal-secret-at-all"))
    assert (forged.status_code, forged.json()["code"]) == (401, "bad_signature")
    unsigned = await inbox.post(path, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    for junk in (b'{"id": 1}', b"not json", b'{"events": []}'):
        answer = await inbox.post(path, content=junk, headers=signed(junk))
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed"), junk
    assert await inbox_ids(db) == []


async def test_a_consumer_that_cannot_prepare_refuses_the_whole_batch_and_records_nothing(inbox, db):
    inbox.consumer.unavailable = True
    body = batch_body(contact_event("h1"), contact_event("h2"))
    answer = await inbox.post(BATCH, content=body, headers=signed(body))
    assert (answer.status_code, answer.json()["code"]) == (503, "down")
    assert await inbox_ids(db) == [] and await ledger(db) == []


async def test_a_repeat_is_answered_while_another_connection_writes(inbox, db):
    """Telling repeats apart only reads: it does not queue for SQLite's write lock behind a long write."""
    event = contact_event("h1")
    body = batch_body(event)
    assert (await inbox.post(BATCH, content=body, headers=signed(body))).status_code == 200
    async with db.engine.connect() as writer:
        await writer.begin()  # on SQLite BEGIN IMMEDIATE: the write lock is held from here
        await writer.execute(sa.delete(LedgerEntry).where(LedgerEntry.event_id == "none"))
        try:
            answer = await asyncio.wait_for(inbox.post(BATCH, content=body, headers=signed(body)), 5)
        finally:
            await writer.rollback()
    assert [(r["status"], r["accepted"]) for r in answer.json()["results"]] == [(200, False)]
