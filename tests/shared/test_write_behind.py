"""Rows a transaction writes as it commits (shared.db.write_behind): audit rows, outbox events and deliveries go in
one statement a table, whatever number of changes left them, and go with a savepoint or a transaction rolled back."""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from services.registry.models import Region, events, plumbing
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import ReadOnlyViolation, write_behind
from shared.events import publish
from tests.support.events import contact_event, delivery_rows, subscribe

SOMEONE = Principal(subject="user:someone", kind="user", roles=(), regions=())


@pytest.fixture
async def audit_db(db):
    yield db
    async with db.sessions.begin() as session:
        await session.execute(plumbing.audit_log.delete())


async def change(session, name: str) -> None:
    """What a change leaves behind: an audit row and an event (with its delivery)."""
    await AuditTrail.outside_request(session, plumbing.audit_log).record(
        SOMEONE, action=name, entity="thing", entity_id=name
    )
    await publish(session, events, contact_event(name))


async def written(db) -> tuple[list[str], list[str]]:
    """The audited actions and the households of the delivered events, in order."""
    async with db.sessions() as session:
        audited = await session.execute(sa.select(plumbing.audit_log.c.action).order_by(plumbing.audit_log.c.action))
        published = await session.execute(sa.select(events.outbox.c.household_id).order_by(events.outbox.c.id))
        return list(audited.scalars()), list(published.scalars())


@contextmanager
def inserts(db):
    """The tables of the INSERT statements run meanwhile, in order."""
    tables: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            tables.append(statement.split()[2].strip('"'))

    engine = db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield tables
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)


async def test_rows_are_written_as_the_transaction_commits_one_statement_a_table(audit_db, cipher):
    subscription = await subscribe(audit_db, cipher, "http://dept.example/all")
    with inserts(audit_db) as tables:
        async with audit_db.sessions.begin() as session:
            for name in ("a", "b", "c"):
                await change(session, name)
            assert tables == []  # nothing yet
    assert tables == ["audit_log", "outbox_events", "deliveries"]
    assert await written(audit_db) == (["a", "b", "c"], ["a", "b", "c"])
    assert [r.subject for r in await delivery_rows(audit_db, subscription)] == ["a", "b", "c"]


async def test_a_savepoint_rolled_back_takes_its_rows_with_it(audit_db, cipher):
    await subscribe(audit_db, cipher, "http://dept.example/all")
    async with audit_db.sessions.begin() as session:
        await change(session, "before")
        with pytest.raises(ZeroDivisionError):
            async with session.begin_nested():
                await change(session, "refused")
                async with session.begin_nested():
                    await change(session, "inner, kept by its savepoint but not by the outer one")
                raise ZeroDivisionError
        async with session.begin_nested():
            await change(session, "kept")
            with pytest.raises(ZeroDivisionError):
                async with session.begin_nested():
                    await change(session, "inner refused")
                    raise ZeroDivisionError
        await change(session, "after")
    assert await written(audit_db) == (["after", "before", "kept"], ["before", "kept", "after"])
    assert len(await delivery_rows(audit_db)) == 3


async def test_a_savepoint_that_flushed_takes_its_rows_with_it_all_the_same(audit_db, cipher):
    """A flush runs in an inner transaction of its own, whose end is not the savepoint's."""
    async with audit_db.sessions.begin() as session:
        await change(session, "before")
        with pytest.raises(ZeroDivisionError):
            async with session.begin_nested():
                await change(session, "refused")
                session.add(Region(code="500230999999", name="测试村", level="village", parent_code=None))
                await session.flush()
                await change(session, "refused after the flush")
                raise ZeroDivisionError
    assert await written(audit_db) == (["before"], ["before"])


async def test_a_transaction_rolled_back_writes_none_and_the_session_goes_on_afresh(audit_db, cipher):
    await subscribe(audit_db, cipher, "http://dept.example/all")
    async with audit_db.sessions() as session:
        await change(session, "rolled back")
        await session.rollback()
        await change(session, "committed")
        await session.commit()
        await change(session, "left open")  # the session closes without a commit
    assert await written(audit_db) == (["committed"], ["committed"])


async def test_a_readers_session_may_not_leave_rows(audit_db):
    async with audit_db.readers() as session:
        with pytest.raises(ReadOnlyViolation):
            write_behind(session, plumbing.audit_log, [{"id": "x"}])
