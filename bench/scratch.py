"""What a benchmark runs in: a throw-away folder with its own var/ and PII keys; a throw-away PostgreSQL database,
created on entry and dropped (forcibly) on exit."""

import os
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import sqlalchemy as sa

from shared.pii import PiiCipher


def scratch_folder(name: str) -> tuple[Path, PiiCipher]:
    """A new temporary folder (FUPIN_VAR_DIR set to its var/) and a PII cipher with keys of its own."""
    folder = Path(tempfile.mkdtemp(prefix=f"fupin-bench-{name}-"))
    os.environ["FUPIN_VAR_DIR"] = str(folder / "var")
    return folder, PiiCipher(secrets.token_bytes(32), secrets.token_bytes(32))


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
