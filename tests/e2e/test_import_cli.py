"""`fupin import FILE` as a real process against a migrated registry database (SQLite or PostgreSQL); the job's
code path on an engine, whose sessions each have a connection of their own (the tests' other sessions share one)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.registry.imports import load, run
from services.registry.imports.run import run_import
from services.registry.imports.schemas import ImportMode
from services.registry.imports.service import cli_principal, new_job
from services.registry.models import Household, Person, Region, plumbing
from shared.db import Database
from shared.migrations import upgrade_async
from shared.pii import PiiCipher
from tests.support.imports import VILLAGE, csv_bytes, family, grid, person
from tests.support.registry import id_number

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def registry_db(databases):
    url = await databases.create("import_cli")
    await upgrade_async("registry", url)
    db = Database(url, plumbing)
    async with db.sessions.begin() as session:
        session.add(Region(code=VILLAGE, name="红岩村", level="village", parent_code=VILLAGE[:9], county_code="500230"))
    yield db
    await db.dispose()


def fupin_import(db: Database, tmp_path: Path, content: bytes, *arguments: str) -> subprocess.CompletedProcess:
    ledger = tmp_path / "花名册.csv"
    ledger.write_bytes(content)
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": db.url,
        "FUPIN_VAR_DIR": str(tmp_path / "var"),
        "FUPIN_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "import", str(ledger), *arguments],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_imports_a_ledger_and_prints_the_rate(registry_db, tmp_path):
    rows = family(3) + family(1)
    done = fupin_import(registry_db, tmp_path, csv_bytes(grid(rows)), "--as", "importer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done: 已导入2户4人" in done.stdout
    assert "4 rows, 2 households, 4 persons in" in done.stdout and "rows/s" in done.stdout
    async with registry_db.sessions() as session:
        numbers = set((await session.scalars(sa.select(Household.household_no))).all())
        assert numbers == {rows[0]["household_no"], rows[3]["household_no"]}
        assert await session.scalar(sa.select(sa.func.count()).select_from(Person)) == 4
        audit = plumbing.audit_log
        [(actor, action)] = (await session.execute(sa.select(audit.c.actor, audit.c.action))).all()
        assert (actor, action) == ("importer", "households.import")


async def test_the_cli_reports_errors_and_imports_nothing(registry_db, tmp_path):
    rows = family(2)
    rows[1]["relation"] = "表哥"
    failed = fupin_import(registry_db, tmp_path, csv_bytes(grid(rows)))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "第3行 与户主关系：取值应为" in failed.stdout
    assert "failed: 发现1处错误，未导入任何数据" in failed.stdout
    async with registry_db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0


async def test_the_cli_can_import_the_valid_households_only(registry_db, tmp_path):
    good, bad = family(1), family(1, relation="配偶")
    done = fupin_import(registry_db, tmp_path, csv_bytes(grid(good + bad)), "--mode", "valid_households")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "已导入1户1人；1户因有错误未导入" in done.stdout


async def test_the_cli_refuses_a_file_that_is_not_a_ledger(registry_db, tmp_path):
    refused = fupin_import(registry_db, tmp_path, b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert refused.returncode == 2
    assert "not an XLSX workbook" in refused.stderr


# --- the job's code path on an engine: look-ups on connections of their own, beside the COPY ---------------------


async def run_on_engine(db: Database, tmp_path: Path, rows: list[dict[str, str]]):
    async with db.sessions.begin() as session:
        job = await new_job(
            session, cli_principal("admin"), file_name="x.csv", file_format="csv", file_size=1, mode=ImportMode.all
        )
    path = tmp_path / f"{job.id}.csv"
    path.write_bytes(csv_bytes(grid(rows)))
    cipher = PiiCipher(secrets.token_bytes(32), secrets.token_bytes(32))
    return await run_import(job.id, sessions=db.sessions, cipher=cipher, source=path)


async def members(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        return dict((await session.execute(sa.select(Household.household_no, Household.member_count))).all())


async def test_an_import_on_an_engine_writes_while_it_checks(registry_db, tmp_path, monkeypatch):
    monkeypatch.setattr(run, "VALIDATE_CHUNK", 2)
    monkeypatch.setattr(load, "HOUSEHOLDS_PER_CHUNK", 1)
    households = [family(2), family(3), family(1), family(2)]
    outcome = await run_on_engine(registry_db, tmp_path, [row for rows in households for row in rows])
    assert (outcome.status, outcome.households_created, outcome.persons_created) == ("done", 4, 8), outcome
    assert await members(registry_db) == {rows[0]["household_no"]: len(rows) for rows in households}


async def test_an_import_on_an_engine_whose_rows_come_apart_or_go_wrong_late(registry_db, tmp_path, monkeypatch):
    monkeypatch.setattr(run, "VALIDATE_CHUNK", 2)
    monkeypatch.setattr(load, "HOUSEHOLDS_PER_CHUNK", 1)
    first, second, third = family(2), family(2), family(2)
    bad = [dict(row) for row in (*first, *second, *third)]
    bad[-1]["phone"] = "12"
    outcome = await run_on_engine(registry_db, tmp_path, bad)
    assert (outcome.status, outcome.error_count) == ("failed", 1)
    assert await members(registry_db) == {}

    late = person(first[0]["household_no"], name="张末", id_number=id_number("500230", "19990909"), relation="孙子女")
    outcome = await run_on_engine(registry_db, tmp_path, [*first, *second, *third, late])
    assert (outcome.status, outcome.persons_created) == ("done", 7), outcome
    assert await members(registry_db) == {
        first[0]["household_no"]: 3,
        second[0]["household_no"]: 2,
        third[0]["household_no"]: 2,
    }
