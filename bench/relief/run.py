"""Payment batch throughput: 100,000 relief cases of one county, their standards and payee accounts written straight
into the tables, then one batch made through the service's own code path (`create_batch`: read the cases, standards
and live lines, compute every due period, write the batch, its payments and lines, audit) on SQLite and on
PostgreSQL (COPY). PostgreSQL gets a database of its own, created and dropped here. The best of --repeat runs is
shown; the batch is deleted between runs.
"""

import argparse
import asyncio
import os
import random
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench.scratch
from bench.scratch import scratch_folder, scratch_postgres
from services.relief.batches import service
from services.relief.batches.accounts import mask_account_number
from services.relief.batches.schemas import BatchCreate
from services.relief.models import DibaoStandard, PayeeAccount, Payment, PaymentBatch, PaymentLine, ReliefCase, plumbing
from shared.audit import AuditTrail
from shared.auth import Principal, permissions_of
from shared.context import Ctx
from shared.db import Database, utcnow
from shared.ids import id_run
from shared.migrations import upgrade_async
from shared.pii import PiiCipher

UNIT = "500230"  # 丰都县
TOWNSHIPS = [f"500230{n:03d}" for n in range(100, 130)]
UP_TO = date(2020, 4, 30)
WITHOUT_ACCOUNT = 0.01  # a case in a hundred has no payee account yet: left out and listed
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林谭冉向彭秦邓田冯唐"
GIVEN = "秀华明建国英兰芳军平勇伟丽强敏静洪林春梅德福成贵玉珍云海燕红霞志文光荣兴顺"


def maker() -> Principal:
    roles = ("civil_affairs",)
    return Principal(
        subject="bench-maker", kind="user", roles=roles, regions=("500000",), name="bench",
        permissions=permissions_of(roles),
    )  # fmt: skip


def cases_and_accounts(rng: random.Random, count: int, cipher: PiiCipher) -> tuple[list[dict], list[dict]]:
    """`count` cases diagnosed between 20 Jan and 31 Mar 2020, a third of them discharged 10 to 60 days later
    (1 to 4 periods each by 30 Apr), and the payee accounts of all but about 1%."""
    now = utcnow()
    case_ids, person_ids, household_ids, account_ids = (id_run(count) for _ in range(4))
    cases, accounts = [], []
    numbers = [f"6217996{n:012d}" for n in rng.sample(range(10**12), count)]
    sealed = cipher.encrypt_many(numbers)
    for i in range(count):
        diagnosed = date(2020, 1, 20) + timedelta(days=rng.randrange(72))
        closed = diagnosed + timedelta(days=rng.randrange(10, 61)) if rng.random() < 0.33 else None
        township = rng.choice(TOWNSHIPS)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        cases.append(
            {"id": case_ids[i], "person_id": person_ids[i], "household_id": household_ids[i], "county_code": UNIT,
             "township_code": township, "village_code": f"{township}201", "unit_code": UNIT,
             "area_class": "rural" if rng.random() < 0.85 else "urban", "payee_name": name,
             "payee_id_masked": f"{UNIT}********{rng.randrange(10000):04d}", "diagnosed_on": diagnosed,
             "closed_on": closed, "close_reason": None if closed is None else "discharged",
             "status": "open" if closed is None else "closed", "opened_by": "bench", "created_at": now,
             "updated_at": now}
        )  # fmt: skip
        if rng.random() >= WITHOUT_ACCOUNT:
            accounts.append(
                {"id": account_ids[i], "person_id": person_ids[i], "household_id": household_ids[i],
                 "county_code": UNIT, "holder_name": name, "bank_name": "重庆农村商业银行丰都支行",
                 "account_enc": sealed[i], "account_hash": cipher.blind_index(numbers[i]),
                 "account_masked": mask_account_number(numbers[i]), "created_by": "bench", "created_at": now,
                 "updated_at": now}
            )  # fmt: skip
    return cases, accounts


STANDARDS = [
    {"unit_code": UNIT, "area_class": "rural", "monthly_fen": 49600, "effective_from": date(2019, 7, 1)},
    {"unit_code": UNIT, "area_class": "rural", "monthly_fen": 52000, "effective_from": date(2020, 4, 1)},
    {"unit_code": UNIT, "area_class": "urban", "monthly_fen": 62600, "effective_from": date(2019, 7, 1)},
]


async def prepared_database(url: str, cases: list[dict], accounts: list[dict]) -> Database:
    await upgrade_async("relief", url)
    db = Database(url, plumbing)
    now = utcnow()
    async with db.sessions.begin() as session:
        await session.execute(
            sa.insert(DibaoStandard),
            [{"id": id_run(1)[0], "example": True, "created_by": "bench", "created_at": now, **s} for s in STANDARDS],
        )
        for start in range(0, len(cases), 20_000):
            await session.execute(sa.insert(ReliefCase), cases[start : start + 20_000])
        for start in range(0, len(accounts), 20_000):
            await session.execute(sa.insert(PayeeAccount), accounts[start : start + 20_000])
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("ANALYZE"))  # planner statistics, as a database in service has them
    return db


async def timed_batch(db: Database, cipher: PiiCipher) -> tuple[float, float, dict]:
    """Seconds to make the batch and commit it, seconds of the read-and-compute part alone, and the batch's figures."""
    async with db.sessions() as session:
        started = time.perf_counter()
        await service.plan_batch(session, UNIT, UP_TO)
        plan_s = time.perf_counter() - started
    async with db.sessions() as session:
        ctx = Ctx(session=session, principal=maker(), audit=AuditTrail.outside_request(session, plumbing.audit_log),
                  cipher=cipher)  # fmt: skip
        started = time.perf_counter()
        created = await service.create_batch(ctx, BatchCreate(unit_code=UNIT, up_to=UP_TO))
        await session.commit()
        seconds = time.perf_counter() - started
    figures = {
        "payments": created.batch.payment_count, "lines": created.line_count, "yuan": created.batch.total_yuan,
        "skipped": created.skipped_count, "held": created.held_count,
    }  # fmt: skip
    return seconds, plan_s, figures


async def empty_batches(db: Database) -> None:
    async with db.engine.begin() as conn:
        for model in (PaymentLine, Payment, PaymentBatch):
            await conn.execute(sa.delete(model))
        await conn.execute(sa.text("DELETE FROM audit_log"))


async def measure(name: str, db: Database, cipher: PiiCipher, repeat: int, cases: int) -> None:
    runs = []
    for _ in range(repeat):
        runs.append(await timed_batch(db, cipher))
        await empty_batches(db)
    seconds, plan_s, figures = min(runs, key=lambda r: r[0])
    print(
        f"{name:<10} one batch of {cases:,} cases: {seconds:6.2f} s  (read and compute {plan_s:.2f} s, write "
        f"{seconds - plan_s:.2f} s); {figures['payments']:,} payments, {figures['lines']:,} lines, "
        f"{figures['yuan']} yuan; {figures['skipped']:,} skipped without account, {figures['held']} held"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measure; the best is shown")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    rng = random.Random(2020)
    tmp, cipher = scratch_folder("relief")
    cases, accounts = cases_and_accounts(rng, args.cases, cipher)
    print(f"{args.cases:,} cases of {UNIT}, {len(accounts):,} payee accounts, up to {UP_TO}; {os.cpu_count()} cores; "
          f"best of {args.repeat}")  # fmt: skip
    pg_name = f"fupin_bench_relief_{os.getpid()}"
    try:
        db = await prepared_database(f"sqlite+aiosqlite:///{tmp / 'relief.db'}", cases, accounts)
        await measure("SQLite", db, cipher, args.repeat, args.cases)
        await db.dispose()
        if args.no_postgres:
            return
        async with scratch_postgres(args.postgres_url, pg_name) as pg_url:
            db = await prepared_database(pg_url, cases, accounts)
            await measure("PostgreSQL", db, cipher, args.repeat, args.cases)
            await db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
