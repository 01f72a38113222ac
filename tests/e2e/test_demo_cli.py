"""`fupin migrate`, what `fupin up` has each service prepare, and `fupin demo-data`, as real processes: every service
in the catalog is migrated, prepares what it must (the gateway: its key, the services' own clients) and fills its own
database with its demo data through its `demo.py` (the launcher names no service), on SQLite or PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from services.catalog import ALL, load
from shared.db import Database

REPO_ROOT = Path(__file__).resolve().parents[2]
# A table each service's demo data fills
FILLED = {"gateway": "users", "registry": "households", "relief": "dibao_standards"}


def fupin(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return python(env, "-m", "services.cli", *arguments)


def python(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *arguments], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


async def count(url: str, service: str, table: str) -> int:
    database = Database(url, load(next(e for e in ALL if e.name == service).tables))
    try:
        async with database.sessions() as session:
            return await session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    finally:
        await database.dispose()


async def test_demo_data_fills_every_service_in_the_catalog(databases, tmp_path):
    urls = {entry.name: await databases.create(f"demo_{entry.name}") for entry in ALL}
    env = {
        **{name: value for name, value in os.environ.items() if name != "GATEWAY_SIGNING_KEY_FILE"},  # var/keys here
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
        "FUPIN_VAR_DIR": str(tmp_path / "var"),
        "FUPIN_LOG_LEVEL": "WARNING",
    }
    migrated = fupin(env, "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert [line for line in migrated.stdout.splitlines() if line.startswith("migrated")] == [
        f"migrated {entry.name}" for entry in ALL
    ]
    prepare = "import asyncio; from services.cli import _prepare; asyncio.run(_prepare())"  # what fupin up runs first
    prepared = python(env, "-c", prepare)
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    callers = [entry.name for entry in ALL if entry.calls_services]
    assert prepared.stdout.splitlines() == [f"service client svc-{name} registered at the gateway" for name in callers]
    assert (tmp_path / "var" / "keys" / "gateway_ed25519.pem").exists()
    again = python(env, "-c", prepare)
    assert (again.returncode, again.stdout) == (0, "")  # nothing to do twice

    filled = fupin(env, "demo-data", "--households", "12")
    assert filled.returncode == 0, filled.stdout + filled.stderr
    assert "demo logins created: admin" in filled.stdout
    assert "demo data: 12 households" in filled.stdout
    assert "demo dibao standards (examples, not official figures)" in filled.stdout
    assert set(FILLED) == {entry.name for entry in ALL}, "a new service says which table its demo data fills"
    for name, table in FILLED.items():
        assert await count(urls[name], name, table) > 0, name
    assert await count(urls["registry"], "registry", "households") == 12

    again = fupin(env, "demo-data", "--households", "3", "--seed", "7")  # logins and standards are there
    assert again.returncode == 0, again.stdout + again.stderr
    assert "demo logins created" not in again.stdout and "demo dibao standards" not in again.stdout
    assert await count(urls["registry"], "registry", "households") == 15


async def test_demo_data_fills_what_is_migrated_and_names_what_it_skipped(databases, tmp_path):
    urls = {entry.name: await databases.create(f"partial_{entry.name}") for entry in ALL}
    env = {
        **{name: value for name, value in os.environ.items() if name != "GATEWAY_SIGNING_KEY_FILE"},
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
        "FUPIN_VAR_DIR": str(tmp_path / "var"),
        "FUPIN_LOG_LEVEL": "WARNING",
    }
    migrated = fupin(env, "migrate", "--service", "registry")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    filled = fupin(env, "demo-data", "--households", "5")
    assert filled.returncode == 0, filled.stdout + filled.stderr  # it stopped with "no such table" before
    skipped = [line for line in filled.stdout.splitlines() if line.startswith("skipped")]
    assert skipped == [
        f"skipped {entry.name}: its database is not migrated (fupin migrate --service {entry.name})"
        for entry in ALL
        if entry.name != "registry"
    ]
    assert await count(urls["registry"], "registry", "households") == 5
