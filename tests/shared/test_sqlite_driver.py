"""The embedded database's driver: one call on the connection's thread per statement, and what SQLAlchemy reads
off a cursor (rows, row count, RETURNING, executemany, errors, streaming) unchanged."""

import aiosqlite
import pytest
import sqlalchemy as sa

from shared.db import create_engine

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20), nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path):
    """An engine of the services' own making, on a SQLite file of the test's."""
    made = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with made.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield made
    await made.dispose()


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """The names of the functions run on aiosqlite's threads."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_statement_is_one_call_on_the_connections_thread(engine, calls):
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))  # the connection is checked out and warm
        calls.clear()
        rows = (await conn.execute(sa.select(things.c.id).where(things.c.name == "x"))).all()
        assert rows == []
        assert len(calls) == 1, calls  # SQLAlchemy's own adapter: cursor, execute, fetchall, close


async def test_rows_counts_returning_and_executemany(engine):
    async with engine.begin() as conn:
        await conn.execute(things.insert(), [{"name": "a"}, {"name": "b"}, {"name": "c"}])
        returned = (await conn.execute(things.insert().values(name="d").returning(things.c.id))).scalar_one()
        assert returned == 4
        updated = await conn.execute(
            things.update().where(things.c.name.in_(["a", "b"])).values(name=things.c.name + "!")
        )
        assert updated.rowcount == 2
        result = await conn.execute(sa.select(things.c.id, things.c.name).order_by(things.c.id))
        assert list(result.keys()) == ["id", "name"]
        assert result.all() == [(1, "a!"), (2, "b!"), (3, "c"), (4, "d")]
        assert (await conn.execute(sa.select(sa.func.count()).select_from(things))).scalar() == 4
        streamed = [row.name async for row in await conn.stream(sa.select(things.c.name).order_by(things.c.id))]
        assert streamed == ["a!", "b!", "c", "d"]


async def test_errors_are_sqlalchemys_and_leave_the_connection_usable(engine):
    async with engine.connect() as conn:
        await conn.execute(things.insert().values(name="same"))
        with pytest.raises(sa.exc.IntegrityError):
            await conn.execute(things.insert().values(name="same"))
        with pytest.raises(sa.exc.OperationalError):
            await conn.execute(sa.text("SELECT no_such_column FROM things"))
        assert (await conn.execute(sa.select(sa.func.count()).select_from(things))).scalar() == 1
