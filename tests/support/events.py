"""Helpers of the event tests: subscriptions written straight into a producer's tables, a contact event, publishing,
the deliveries as the dispatcher left them."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from services.registry.models import events
from shared.db import Database, utcnow
from shared.events import envelope, publish
from shared.ids import uuid7
from shared.pii import PiiCipher
from shared.schemas.events import ContactRecordedV1, EventEnvelope

SECRET = "a-webhook-secret-of-some-length"


async def subscribe(
    db: Database, cipher: PiiCipher, url: str, event_types: list[str] | None = None, *, kind: str = "webhook",
    name: str = "test",
) -> str:  # fmt: skip
    subscription_id = uuid7()
    now = utcnow()
    async with db.sessions.begin() as session:
        await session.execute(
            events.subscriptions.insert().values(
                id=subscription_id, name=name, kind=kind, url=url, secret_enc=cipher.encrypt(SECRET),
                event_types=event_types or ["*"], active=True, created_by="test", created_at=now, updated_at=now,
            )
        )  # fmt: skip
    return subscription_id


def contact_event(household_id: str = "h1") -> EventEnvelope:
    payload = ContactRecordedV1(
        contact_id=uuid7(), household_id=household_id, county_code="500230", cadre_id=None, channel="phone",
        kind="care", contacted_at=datetime(2020, 2, 10, 9, tzinfo=UTC),
    )  # fmt: skip
    return envelope(source="registry", payload=payload, event_type="contact.recorded", household_id=household_id,
                    county_code="500230")  # fmt: skip


async def produce(db: Database, *events_to_publish: EventEnvelope) -> None:
    async with db.sessions.begin() as session:
        for event in events_to_publish:
            await publish(session, events, event)


async def delivery_rows(db: Database, subscription_id: str | None = None) -> list[Any]:
    """Deliveries by subscription, in the order their events were written."""
    d = events.deliveries
    query = sa.select(d).order_by(d.c.subscription_id, d.c.event_id)
    if subscription_id is not None:
        query = query.where(d.c.subscription_id == subscription_id)
    async with db.sessions() as session:
        return list((await session.execute(query)).all())
