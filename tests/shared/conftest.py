"""Fixtures of the event tests: a registry database of the module's own (its event tables emptied after each test)
and a PII cipher."""

import secrets

import pytest

from services.registry.models import events, plumbing
from shared.db import Database
from shared.migrations import upgrade_async
from shared.pii import PiiCipher


@pytest.fixture(scope="module")
async def events_db(databases):
    url = await databases.create("events")
    await upgrade_async("registry", url)
    db = Database(url, plumbing)
    yield db
    await db.dispose()


@pytest.fixture
async def db(events_db):
    yield events_db
    async with events_db.sessions.begin() as session:
        for table in (events.deliveries, events.subscriptions, events.outbox, events.inbox):
            await session.execute(table.delete())


@pytest.fixture(scope="module")
def cipher() -> PiiCipher:
    return PiiCipher(secrets.token_bytes(32), secrets.token_bytes(32))
