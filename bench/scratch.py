"""A throw-away PostgreSQL database for a benchmark: created on entry, dropped (forcibly) on exit."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import sqlalchemy as sa


@asynccontextmanager
async def scratch_postgres(admin_url: str, name: str) -> AsyncIterator[str]:
    """Create database `name` through `admin_url` (postgresql://user@host:port/db) and yield its asyncpg URL."""
    admin_dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = sa.engine.make_url(admin_dsn.replace("postgresql://", "postgresql+asyncpg://")).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        try:
            admin = await asyncpg.connect(admin_dsn)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"could not drop {name}: {exc}", file=sys.stderr)
