"""Import throughput: a generated ledger of 100,000 persons (about 30,000 households) imported with the service's
own code path (`run_import`: read, validate, encrypt, write) on SQLite and on PostgreSQL, beside PostgreSQL's own
COPY of the same prepared rows into the same tables (emptied between runs).

Villages are registered first under real township codes (services/registry/data/). PostgreSQL gets a database of
its own, created and dropped here. Rows per second are persons per second; the best of --repeat runs is shown.
"""

import argparse
import asyncio
import csv
import io
import os
import random
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench.scratch
from bench.scratch import scratch_folder, scratch_postgres
from services.registry.imports import load
from services.registry.imports.columns import HEADERS
from services.registry.imports.parse import read_rows
from services.registry.imports.run import run_import
from services.registry.imports.schemas import ImportMode
from services.registry.imports.service import cli_principal, new_job
from services.registry.imports.validate import Validator
from services.registry.models import Region, plumbing
from services.registry.regions.seed import DATA_DIR
from shared.db import Database, utcnow
from shared.migrations import upgrade_async
from shared.pii import PiiCipher, check_character

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林谭冉向彭秦邓田冯唐"
GIVEN = "秀华明建国英兰芳军平勇伟丽强敏静洪林春梅德福成贵玉珍云海燕红霞志文光荣兴顺"
SIZES = (1, 2, 3, 4, 5, 6)
SIZE_WEIGHTS = (10, 20, 25, 25, 12, 8)  # about 3.3 persons a household
STATUSES = (("未脱贫", 25), ("已脱贫", 65), ("返贫", 3), ("已脱贫（不再享受政策）", 7))
ATTRIBUTES = (("一般贫困户", 60), ("低保贫困户", 32), ("特困供养贫困户", 8))
RELATIONS = ("配偶", "子女", "子女", "儿媳/女婿", "孙子女", "父母")
LABOUR = ("技能劳动力", "普通劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
MIGRANT = ("未务工", "乡镇内务工", "县内乡外", "市内县外", "市外", "因疫情暂不能外出务工")


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def villages(rng: random.Random, townships: int) -> list[dict]:
    with (DATA_DIR / "chongqing_townships_2019.csv").open(encoding="utf-8") as handle:
        chosen = rng.sample(list(csv.DictReader(handle)), townships)
    return [
        {
            "code": f"{t['code']}{201 + i:03d}",
            "name": f"{t['name']}第{i + 1}村",
            "level": "village",
            "parent_code": t["code"],
            "county_code": t["county_code"],
        }
        for t in chosen
        for i in range(3)
    ]


def ledger(rng: random.Random, persons: int, places: list[dict]) -> tuple[bytes, int]:
    """A CSV ledger (UTF-8 with BOM) of `persons` rows; returns it and its number of households."""
    used: set[str] = set()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    written = households = 0
    while written < persons:
        village = rng.choice(places)
        households += 1
        number = f"{village['code']}{households:06d}"
        size = min(rng.choices(SIZES, SIZE_WEIGHTS)[0], persons - written)
        surname = rng.choice(SURNAMES)
        head_birth = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 45))
        household = [_weighted(rng, STATUSES), _weighted(rng, ATTRIBUTES)]
        dibao = "是" if household[1] == "低保贫困户" or rng.random() < 0.1 else "否"
        address = f"{village['name']}{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号"
        for index in range(size):
            relation = "户主" if index == 0 else rng.choice(RELATIONS)
            birth = head_birth if index == 0 else head_birth + timedelta(days=rng.randrange(-9000, 11000))
            birth = min(birth, date(2019, 12, 31))
            while True:
                first17 = f"{village['county_code']}{birth:%Y%m%d}{rng.randrange(1000):03d}"
                if first17 not in used:
                    used.add(first17)
                    break
            phone = (
                f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
                if rng.random() < (0.9 if index == 0 else 0.3)
                else ""
            )
            name = (surname if relation in ("户主", "子女", "孙子女") else rng.choice(SURNAMES)) + rng.choice(GIVEN)
            writer.writerow(
                [number, village["code"], name, first17 + check_character(first17), relation, *household, dibao,
                 "农村", phone, rng.choice(LABOUR), rng.choice(MIGRANT), address]
            )  # fmt: skip
            written += 1
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), households


async def empty_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            await conn.execute(sa.text("TRUNCATE persons, households, import_jobs, audit_log CASCADE"))
        else:
            for table in ("persons", "households", "import_jobs", "audit_log"):
                await conn.execute(sa.text(f"DELETE FROM {table}"))


async def timed_import(db: Database, cipher: PiiCipher, source: Path, persons: int) -> tuple[float, dict]:
    async with db.sessions.begin() as session:
        job = await new_job(
            session, cli_principal("bench"), file_name=source.name, file_format="csv", file_size=0, mode=ImportMode.all
        )
    started = time.perf_counter()
    outcome = await run_import(job.id, sessions=db.sessions, cipher=cipher, source=source)
    seconds = time.perf_counter() - started
    if outcome.status != "done" or outcome.persons_created != persons:
        raise RuntimeError(f"import did not complete: {outcome.message} {outcome.errors[:3]}")
    return seconds, outcome.seconds


async def prepared_records(db: Database, cipher: PiiCipher, source: Path) -> load.Records:
    """The rows the import writes, made by the same code (validated, encrypted), for COPY to write alone."""
    validator = Validator(cipher, cli_principal("bench"))
    found = validator.feed(read_rows(source, "csv"))
    async with db.sessions() as session:
        await validator.look_up(session, found)
        await validator.finish(session)
    households = list(validator.households.values())
    return load.prepare(households, utcnow())


async def timed_copy(url: str, records: load.Records) -> float:
    households, persons = records
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("households", records=households, columns=load.HOUSEHOLD_COLUMNS)
            await conn.copy_records_to_table("persons", records=persons, columns=load.PERSON_COLUMNS)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def prepared_database(url: str, places: list[dict]) -> Database:
    await upgrade_async("registry", url)
    db = Database(url, plumbing)
    async with db.sessions.begin() as session:
        await session.execute(sa.insert(Region), places)
    return db


def breakdown(phases: dict) -> str:
    return (
        f"read {phases['read']:.2f} s, check {phases['check']:.2f} s, write {phases['write']:.2f} s; "
        f"{phases['statements']:.2f} s of it in COPY/INSERT"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measure; the best is shown")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    rng = random.Random(2020)
    tmp, cipher = scratch_folder("imports")
    places = villages(rng, 60)
    content, households = ledger(rng, args.persons, places)
    source = tmp / "ledger.csv"
    source.write_bytes(content)
    print(
        f"{args.persons:,} persons in {households:,} households, {len(places)} villages; "
        f"CSV {len(content) / 1e6:.1f} MB; {os.cpu_count()} cores; best of {args.repeat}"
    )
    pg_name = f"fupin_bench_imports_{os.getpid()}"
    try:
        db = await prepared_database(f"sqlite+aiosqlite:///{tmp / 'registry.db'}", places)
        runs = []
        for _ in range(args.repeat):
            runs.append(await timed_import(db, cipher, source, args.persons))
            await empty_tables(db)
        await db.dispose()
        sqlite_s, sqlite_phases = min(runs, key=lambda r: r[0])
        print(
            f"SQLite import      {args.persons / sqlite_s:>9,.0f} rows/s  {sqlite_s:6.2f} s  ({breakdown(sqlite_phases)})"
        )
        if args.no_postgres:
            return

        async with scratch_postgres(args.postgres_url, pg_name) as pg_url:
            db = await prepared_database(pg_url, places)
            imports, copies = [], []
            records = None
            for _ in range(args.repeat):
                imports.append(await timed_import(db, cipher, source, args.persons))
                await empty_tables(db)
                records = records or await prepared_records(db, cipher, source)
                copies.append(await timed_copy(pg_url, records))
                await empty_tables(db)
            await db.dispose()
            pg_s, pg_phases = min(imports, key=lambda r: r[0])
            copy_s = min(copies)
            print(f"PostgreSQL import  {args.persons / pg_s:>9,.0f} rows/s  {pg_s:6.2f} s  ({breakdown(pg_phases)})")
            print(
                f"PostgreSQL COPY    {args.persons / copy_s:>9,.0f} rows/s  {copy_s:6.2f} s  (the same prepared rows)"
            )
            print(f"import / COPY      {copy_s / pg_s:>9.2f}   (targets: 0.30 for any bulk write, 0.50 for the import)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
