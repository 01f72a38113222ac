"""Database plumbing: naming conventions, the async engine, one transaction per request, plumbing tables.

Each service has its own MetaData (database per service). `plumbing_tables()` adds the tables every service keeps
alike (audit log, idempotency keys) to that MetaData; the ORM models of the domain stay in the service.

A GET or HEAD request reads: its transaction is a reader's (on SQLite a deferred one, which never waits for the
write lock) and it may not write; what a read must leave behind (the audit of an unmasked read) is written apart
(shared.audit). Every other request's transaction may write.
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.util import await_only

READ_ONLY = "fupin_read_only"  # the execution option of a reader's connections, and the flag in a session's info
READ_METHODS = frozenset({"GET", "HEAD"})
AFTER_READ = "fupin_after_read"  # what a read request runs once its transaction has ended (after_read)
# A PostgreSQL connection idle for longer than this is pinged when taken from the pool; one in steady use is not
# (a ping is a round trip on every request). A server restart in between fails the one request that finds the
# connection dead, and the pool then replaces every connection older than the restart.
PING_AFTER_IDLE_S = 10.0

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware timestamp on both databases (SQLite stores no zone, so it is put back on read)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def make_base() -> type[DeclarativeBase]:
    """A declarative base with its own MetaData and the shared naming conventions."""

    class Base(DeclarativeBase):
        metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = {datetime: UTCDateTime}

    return Base


class PlumbingTables:
    def __init__(self, audit_log: sa.Table, idempotency_keys: sa.Table):
        self.audit_log = audit_log
        self.idempotency_keys = idempotency_keys


def plumbing_tables(metadata: sa.MetaData) -> PlumbingTables:
    """The audit log and idempotency-key tables, declared on a service's own MetaData."""
    audit_log = sa.Table(
        "audit_log",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False, index=True),
        sa.Column("actor_roles", sa.JSON, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=True, index=True),
        sa.Column("county_code", sa.String(6), nullable=True, index=True),
        sa.Column("changes", sa.JSON, nullable=False),
    )
    idempotency_keys = sa.Table(
        "idempotency_keys",
        metadata,
        sa.Column("actor", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        # The first answer, sealed with the PII key: answers may carry ID numbers and phones.
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    )
    return PlumbingTables(audit_log, idempotency_keys)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        from shared.sqlite_driver import one_call_dbapi  # the embedded database's only

        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Every call on an aiosqlite connection is a hop to its thread and back: a statement is one (sqlite_driver),
        # the pool's reset rolls back only a connection still in a transaction (a session has always ended its
        # own), and BEGIN is one call.
        engine = create_async_engine(
            url, module=one_call_dbapi(), connect_args={"timeout": 30}, pool_reset_on_return=None, **kwargs
        )

        @event.listens_for(engine.sync_engine, "reset")
        def _reset(dbapi_conn: Any, _record: Any, _state: Any) -> None:
            if dbapi_conn.driver_connection.in_transaction:
                dbapi_conn.rollback()

        # The sqlite3 driver's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy's recipe).
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # IMMEDIATE: a transaction that may write takes the write lock when it starts, so one that reads and then
        # writes waits its turn (busy_timeout) instead of failing when another connection wrote in between. SQLite
        # serialises writers anyway; this is the embedded default, PostgreSQL is the production database. A
        # reader's transaction is deferred: it reads its snapshot (WAL) and never queues behind a writer.
        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            statement = "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
            await_only(conn.connection.driver_connection.execute(statement))

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a connection taken from the pool only when it sat idle (PING_AFTER_IDLE_S); a dead one is replaced."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure means the connection is gone: the pool connects again
            raise sa.exc.DisconnectionError(f"idle connection lost: {exc}") from exc


class ReadOnlyViolation(RuntimeError):
    """A reader's session (a GET or HEAD request) tried to write: a bug, refused before it reaches the database."""


@event.listens_for(Session, "do_orm_execute")
def _refuse_statement_in_reader(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and not state.is_select:
        raise ReadOnlyViolation(f"a read request may not write: {state.statement}")


@event.listens_for(Session, "before_flush")
def _refuse_flush_in_reader(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViolation("a read request may not write: pending ORM changes")


WRITE_BEHIND = "fupin.write_behind"  # rows a transaction writes as it commits (write_behind), with their tables
SAVEPOINT_MARKS = "fupin.savepoint_marks"  # how many of those rows there were when each open savepoint began
WRITE_BEHIND_CHUNK = 2000  # rows in one INSERT at most


def write_behind(session: AsyncSession | Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table` as the session's transaction commits: all the rows a transaction leaves behind go
    in one statement a table (in the order the tables were first named), not a statement each time. Rows left
    within a savepoint that rolls back go with it; a transaction that rolls back writes none. For rows nothing in
    the transaction reads again: audit rows, outbox events and their deliveries."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if sync.info.get(READ_ONLY):
        raise ReadOnlyViolation(f"a read request may not write: rows of {table.name}")
    sync.info.setdefault(WRITE_BEHIND, []).extend((table, row) for row in rows)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:
        session.info.setdefault(SAVEPOINT_MARKS, {})[transaction] = len(session.info.get(WRITE_BEHIND, ()))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_rows(session: Session, previous: Any) -> None:
    pending = session.info.get(WRITE_BEHIND)
    mark = session.info.get(SAVEPOINT_MARKS, {}).pop(previous, None)  # None for the transaction itself
    if pending is not None and mark is not None:
        del pending[mark:]


@event.listens_for(Session, "after_transaction_end")
def _end_transaction(session: Session, transaction: Any) -> None:
    """The transaction is over (committed, rolled back or closed): what it left unwritten goes, and so do its
    savepoints' marks (a savepoint's is kept until then: its rollback is told after its end). Not a savepoint's end,
    nor that of the inner transaction each flush opens."""
    if transaction.parent is None:
        session.info.pop(WRITE_BEHIND, None)
        session.info.pop(SAVEPOINT_MARKS, None)


@event.listens_for(Session, "before_commit")
def _write_behind(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: its rows wait for the transaction's commit
        return
    pending = session.info.pop(WRITE_BEHIND, None)
    if not pending:
        return
    by_table: dict[sa.Table, list[dict[str, Any]]] = {}
    for table, row in pending:
        by_table.setdefault(table, []).append(row)
    for table, rows in by_table.items():
        for start in range(0, len(rows), WRITE_BEHIND_CHUNK):
            session.execute(table.insert(), rows[start : start + WRITE_BEHIND_CHUNK])


class Database:
    """The engine and session factory of one service, opened and closed by its lifespan."""

    def __init__(self, url: str, tables: PlumbingTables):
        self.url = url
        self.tables = tables
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, info={READ_ONLY: True}
        )

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def sessions_of(app: Any) -> async_sessionmaker[AsyncSession]:
    """The sessions an app's requests use (a test may put its own in `app.state.session_factory`)."""
    return getattr(app.state, "session_factory", None) or app.state.db.sessions


def readers_of(app: Any) -> Callable[[], AsyncSession]:
    """Sessions that only read, for work outside a request's own session (an inbox's look-ups before its
    transaction): deferred on SQLite, so they never queue for the write lock; a test's shared sessions are marked
    alike."""
    override = getattr(app.state, "session_factory", None)
    if override is None:
        return app.state.db.readers

    def marked() -> AsyncSession:
        session = override()
        session.info[READ_ONLY] = True
        return session

    return marked


def is_reader(session: AsyncSession) -> bool:
    """The session is a read request's: it may not write."""
    return bool(session.info.get(READ_ONLY))


MEMO = "fupin.memo"


async def memo(session: AsyncSession, key: tuple, load: Callable[[], Awaitable[Any]]) -> Any:
    """What `load` reads, read once per session (a request, an inbox's POST that follows many persons) for `key`,
    whose first item names what is read; a write to it in the session calls `forget` with that name."""
    cache: dict[tuple, Any] = session.info.setdefault(MEMO, {})
    if key not in cache:
        cache[key] = await load()
    return cache[key]


def forget(session: AsyncSession, name: str) -> None:
    """Drop what `memo` holds under `name` (the session has just written it)."""
    cache: dict[tuple, Any] = session.info.get(MEMO, {})
    for key in [key for key in cache if key[0] == name]:
        del cache[key]


def after_read(session: AsyncSession, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` once the read request's transaction has ended (its connection back in the pool), before the
    request is answered; when `work` fails, the request fails."""
    session.info.setdefault(AFTER_READ, []).append(work)


def _session_for(request: Request) -> AsyncSession:
    reads = request.method in READ_METHODS
    return (readers_of(request.app) if reads else sessions_of(request.app))()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit when the route returns, roll back when it raises. A GET or HEAD gets a
    reader's session (is_reader)."""
    async with _session_for(request) as session:
        try:
            yield session
            await session.commit()
            for work in session.info.pop(AFTER_READ, ()):
                await work()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so a failed commit is never answered 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
