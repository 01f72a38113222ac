"""Alembic, driven from code: each service keeps its tree in `services/<name>/migrations`."""

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


async def upgrade_async(service: str, database_url: str, revision: str = "head") -> None:
    """`upgrade` from inside a running event loop (Alembic's env runs its own loop, so it gets a thread)."""
    await asyncio.to_thread(upgrade, service, database_url, revision)


async def at_head(service: str, engine: AsyncEngine) -> bool:
    """Whether the service's database is migrated to its latest revision (False when it was never migrated)."""
    head = ScriptDirectory.from_config(alembic_config(service, "")).get_current_head()
    async with engine.connect() as connection:
        current = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    return current == head


def revision(service: str, database_url: str, message: str) -> None:
    command.revision(alembic_config(service, database_url), message=message, autogenerate=True)


def run_env(metadata: sa.MetaData) -> None:
    """The body of every service's migrations/env.py (async engine, batch mode for SQLite's ALTER)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


# --- steps of more than one service's tree (the event tables every producing service has) -------------------------


def add_delivery_subjects() -> None:
    """Deliveries carry their event's subject (shared.events.subject_of), with the indexes of pending ones that the
    dispatcher's claims read; pending deliveries take their event's household."""

    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=60), nullable=True))
    op.execute(
        "UPDATE deliveries SET subject = (SELECT household_id FROM outbox_events WHERE outbox_events.id = "
        "deliveries.event_id) WHERE status = 'pending'"
    )
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_deliveries_pending_due", "deliveries", ["next_attempt_at", "id"],
        postgresql_where=pending, sqlite_where=pending,
    )  # fmt: skip
    op.create_index(
        "ix_deliveries_pending_subject", "deliveries", ["subscription_id", "subject", "event_id"],
        postgresql_where=pending, sqlite_where=pending,
    )  # fmt: skip


def drop_delivery_subjects() -> None:

    op.drop_index("ix_deliveries_pending_subject", table_name="deliveries")
    op.drop_index("ix_deliveries_pending_due", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("subject")
