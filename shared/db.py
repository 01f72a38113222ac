"""Database plumbing: naming conventions, the async engine, one transaction per request, plumbing tables.

Each service has its own MetaData (database per service). `plumbing_tables()` adds the tables every service keeps
alike (audit log, idempotency keys) to that MetaData; the ORM models of the domain stay in the service.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

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
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

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

        # IMMEDIATE: a transaction takes the write lock when it starts, so one that reads and then writes waits its
        # turn (busy_timeout) instead of failing when another connection wrote in between. SQLite serialises
        # writers anyway; this is the embedded default, PostgreSQL is the production database.
        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    """The engine and session factory of one service, opened and closed by its lifespan."""

    def __init__(self, url: str, tables: PlumbingTables):
        self.url = url
        self.tables = tables
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def sessions_of(app: Any) -> async_sessionmaker[AsyncSession]:
    """The sessions an app's requests use (a test may put its own in `app.state.session_factory`)."""
    return getattr(app.state, "session_factory", None) or app.state.db.sessions


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit when the route returns, roll back when it raises."""
    async with sessions_of(request.app)() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so a failed commit is never answered 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
