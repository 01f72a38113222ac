"""The five ones (五个一) at scale: 120,000 active pairings of households with their cadres, about 600,000 contacts
by those cadres, needs surveys for about 60% of the households and income plans for about 40%, written straight
into the tables of a PostgreSQL database of its own (COPY; created and dropped here), then the registry's roll-ups
read through the service's own code (`five_ones`, `cadre_todo`, a city-wide principal), as of 2020-04-30:

- the city roll-up (level city), and the county roll-up of the whole city (level county);
- one county's township roll-up (level township, region = the county) and its county roll-up (level county);
- a cadre's to-do list (the cadre with the most pairings);
- the SQL statement the service sends for the city and the one-county roll-ups, sent again as it is through asyncpg
  (raw SQL), and the same statement's execution time in the database (EXPLAIN ANALYZE).

Villages are registered under real township codes (services/registry/data/), three per township; the campaign window
is the default one (from 2020-02-09, open). Each measure runs once to warm up, then --repeat times; the median and
the best are shown, in milliseconds.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench.scratch
from bench.imports.run import GIVEN, SURNAMES, villages
from bench.scratch import scratch_folder, scratch_postgres
from services.registry.cadres.service import cadre_todo
from services.registry.contacts.schemas import Channel, ContactKind, IncomeMeasureKind, Need
from services.registry.fiveones import upkeep
from services.registry.fiveones.schemas import FiveOnesLevel
from services.registry.fiveones.service import five_ones
from services.registry.models import Region, plumbing
from services.registry.parameters.service import five_ones_window
from shared.audit import AuditTrail
from shared.auth import Principal, permissions_of
from shared.context import Ctx
from shared.db import Database, utcnow
from shared.ids import id_run
from shared.migrations import upgrade_async
from shared.pagination import PageParams
from shared.pii import PiiCipher

AS_OF = date(2020, 4, 30)
START = date(2020, 2, 1)  # pairings start, contacts, surveys and plans begin here (the window from 2020-02-09)
DAYS = (AS_OF - START).days + 1
FIRST_INSTANT = datetime(2020, 1, 31, 16, tzinfo=UTC)  # 2020-02-01 00:00 in Asia/Shanghai
TOWNSHIPS = 300  # three villages each
STATUSES = (("not_lifted", 25), ("lifted", 65), ("returned", 3), ("lifted_no_policy", 7))
ATTRIBUTES = (("ordinary", 60), ("dibao", 32), ("destitute", 8))
CHANNELS = (
    (Channel.phone, 45), (Channel.wechat, 22), (Channel.visit, 15), (Channel.sms, 10), (Channel.qq, 5),
    (Channel.letter, 3),
)  # fmt: skip
KINDS = (
    (ContactKind.care, 30), (ContactKind.prevention_education, 20), (ContactKind.supplies_help, 12),
    (ContactKind.agricultural_guidance, 10), (ContactKind.needs_survey, 6), (ContactKind.counselling, 5),
    (ContactKind.income_plan, 4), (ContactKind.other, 13),
)  # fmt: skip
SURVEYED, PLANNED = 0.6, 0.4  # shares of households with a needs survey, an income plan on record
PLAN_MEASURES = {
    IncomeMeasureKind.employment: "外出务工", IncomeMeasureKind.industry: "养殖生猪 3 头",
    IncomeMeasureKind.public_post: "村道保洁公益性岗位", IncomeMeasureKind.microloan: "扶贫小额信贷发展产业",
    IncomeMeasureKind.consumption: "农产品消费扶贫", IncomeMeasureKind.other: "其他增收",
}  # fmt: skip

HOUSEHOLD_COLUMNS = (
    "id", "household_no", "village_code", "township_code", "county_code", "status", "attribute", "dibao",
    "area_class", "address", "head_name", "member_count", "created_at", "updated_at",
)  # fmt: skip
CADRE_COLUMNS = (
    "id", "name", "unit", "position", "region_code", "county_code", "township_code", "active", "created_at",
    "updated_at",
)  # fmt: skip
PAIRING_COLUMNS = (
    "id", "cadre_id", "household_id", "county_code", "township_code", "start_date", "active", "created_at",
    "updated_at",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "household_id", "cadre_id", "county_code", "township_code", "village_code", "channel", "kind",
    "contacted_at", "recorded_by", "created_at",
)  # fmt: skip
SURVEY_COLUMNS = (
    "id", "household_id", "cadre_id", "county_code", "township_code", "surveyed_on", "needs", "recorded_by",
    "created_at",
)  # fmt: skip
PLAN_COLUMNS = (
    "id", "household_id", "cadre_id", "county_code", "township_code", "planned_on", "measures",
    "expected_income_fen", "recorded_by", "created_at",
)  # fmt: skip


def city_principal() -> Principal:
    roles = ("city_admin",)
    return Principal(
        subject="bench", kind="user", roles=roles, regions=("500000",), name="bench",
        permissions=permissions_of(roles),
    )  # fmt: skip


def _cumulative(pairs: tuple[tuple[Any, int], ...]) -> tuple[list[str], list[int]]:
    values, running, total = [], [], 0
    for value, weight in pairs:
        total += weight
        values.append(str(value))
        running.append(total)
    return values, running


def generate(rng: random.Random, pairings: int, per_pairing: int, places: list[dict]) -> dict[str, list[tuple]]:
    """Rows for COPY, per table: households and their cadres in the same villages, one active pairing a household,
    `per_pairing` contacts a pairing on average (0 to twice that) by its cadre, surveys and plans."""
    now = utcnow()
    staffed = places[: max(1, min(len(places), pairings // 12))]  # every cadre in a village, every village staffed
    cadre_ids = id_run(max(1, pairings // 12))
    cadres, cadres_of = [], {}
    for index, cadre_id in enumerate(cadre_ids):
        village = staffed[index % len(staffed)]
        cadres_of.setdefault(village["code"], []).append(cadre_id)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        cadres.append(
            (cadre_id, name, f"{village['name']}驻村工作队", "驻村工作队员", village["code"], village["county_code"],
             village["code"][:9], True, now, now)
        )  # fmt: skip
    statuses, status_weights = _cumulative(STATUSES)
    attributes, attribute_weights = _cumulative(ATTRIBUTES)
    channels, channel_weights = _cumulative(CHANNELS)
    kinds, kind_weights = _cumulative(KINDS)
    needs, plan_kinds = [str(n) for n in Need], list(PLAN_MEASURES)
    household_ids, pairing_ids = id_run(pairings), id_run(pairings)
    counts = [rng.randint(0, 2 * per_pairing) for _ in range(pairings)]
    contact_ids = iter(id_run(sum(counts)))
    tables: dict[str, list[tuple]] = {name: [] for name in ("households", "pairings", "contacts", "surveys", "plans")}
    for index in range(pairings):
        village = rng.choice(staffed)
        county, township, code = village["county_code"], village["code"][:9], village["code"]
        household_id, cadre_id = household_ids[index], rng.choice(cadres_of[code])
        attribute = rng.choices(attributes, cum_weights=attribute_weights)[0]
        tables["households"].append(
            (household_id, f"{code}{index + 1:06d}", code, township, county,
             rng.choices(statuses, cum_weights=status_weights)[0], attribute,
             attribute == "dibao" or rng.random() < 0.1, "rural" if rng.random() < 0.92 else "urban",
             f"{village['name']}{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号",
             rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), rng.randint(1, 6), now, now)
        )  # fmt: skip
        tables["pairings"].append((pairing_ids[index], cadre_id, household_id, county, township, START, True, now, now))
        n = counts[index]
        for channel, kind in zip(
            rng.choices(channels, cum_weights=channel_weights, k=n),
            rng.choices(kinds, cum_weights=kind_weights, k=n),
            strict=True,
        ):
            at = FIRST_INSTANT + timedelta(seconds=rng.randrange(DAYS * 86_400))
            tables["contacts"].append(
                (next(contact_ids), household_id, cadre_id, county, township, code, channel, kind, at, "bench", now)
            )
        if rng.random() < SURVEYED:
            chosen = json.dumps(rng.sample(needs, rng.randint(1, 3)))
            on = START + timedelta(days=rng.randrange(DAYS))
            tables["surveys"].append((household_id, cadre_id, county, township, on, chosen, "bench", now))
        if rng.random() < PLANNED:
            measures = [
                {"kind": str(kind), "description": PLAN_MEASURES[kind], "expected_income_fen": rng.randrange(1, 80) * 10_000}
                for kind in rng.sample(plan_kinds, rng.randint(1, 2))
            ]  # fmt: skip
            on = START + timedelta(days=rng.randrange(10, DAYS))
            income = sum(m["expected_income_fen"] for m in measures)
            tables["plans"].append(
                (household_id, cadre_id, county, township, on, json.dumps(measures, ensure_ascii=False), income,
                 "bench", now)
            )  # fmt: skip
    tables["surveys"] = [(i, *row) for i, row in zip(id_run(len(tables["surveys"])), tables["surveys"], strict=True)]
    tables["plans"] = [(i, *row) for i, row in zip(id_run(len(tables["plans"])), tables["plans"], strict=True)]
    tables["cadres"] = cadres
    return tables


async def load(url: str, places: list[dict], tables: dict[str, list[tuple]]) -> Database:
    """Migrate, register the villages, COPY the rows (parents first), ANALYZE."""
    await upgrade_async("registry", url)
    db = Database(url, plumbing)
    async with db.sessions.begin() as session:
        await session.execute(sa.insert(Region), places)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with conn.transaction():
            for table, name, columns in (
                ("households", "households", HOUSEHOLD_COLUMNS),
                ("cadres", "cadres", CADRE_COLUMNS),
                ("pairings", "pairings", PAIRING_COLUMNS),
                ("contacts", "contacts", CONTACT_COLUMNS),
                ("needs_surveys", "surveys", SURVEY_COLUMNS),
                ("income_plans", "plans", PLAN_COLUMNS),
            ):
                await conn.copy_records_to_table(table, records=tables[name], columns=columns)
        await conn.execute("ANALYZE")  # planner statistics, as a database in service has them
    finally:
        await conn.close()
    return db


class Statements:
    """The SQL (and its parameters) the service sends, caught on the engine, to be sent again as raw SQL."""

    def __init__(self, db: Database):
        self.caught: list[tuple[str, tuple]] = []
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", self._catch)

    def _catch(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        self.caught.append((statement, tuple(parameters or ())))

    def rollup(self) -> tuple[str, tuple]:
        """The roll-up statement of the last call caught (reading the tally, or counting the progress rows)."""
        return next(s for s in reversed(self.caught) if "five_ones_tally" in s[0] or "pairings_complete" in s[0])


async def timed(repeat: int, run: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """(median ms, best ms, the last result) of `repeat` runs after one to warm up."""
    result = await run()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), min(runs), result


def through_service(db: Database, cipher: PiiCipher, call: Callable[[Ctx], Awaitable[Any]]):
    """One run as a request has it: a session of its own (read only, rolled back), the Ctx of a city-wide caller."""

    async def run() -> Any:
        async with db.sessions() as session:
            audit = AuditTrail.outside_request(session, plumbing.audit_log)
            return await call(Ctx(session=session, principal=city_principal(), audit=audit, cipher=cipher))

    return run


def rollup(level: FiveOnesLevel, region: str | None = None) -> Callable[[Ctx], Awaitable[Any]]:
    return lambda ctx: five_ones(ctx, PageParams(), level=level, region=region, as_of=AS_OF, complete=None)


async def execution_ms(conn: asyncpg.Connection, statement: str, parameters: tuple) -> float:
    plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *parameters)
    return float(json.loads(plan)[0]["Execution Time"])


def line(name: str, median_ms: float, best_ms: float, note: str = "") -> None:
    print(f"{name:<44} {median_ms:8.1f} ms median {best_ms:8.1f} ms best  {note}".rstrip())


async def build(db: Database, url: str) -> float:
    """The window's progress rows built once, as the first report after rows written around the service builds
    them (then ANALYZE); seconds."""
    started = time.perf_counter()
    async with db.sessions.begin() as session:
        window = await five_ones_window(session, AS_OF)
        await upkeep.ensure(session, window.start)
    built_s = time.perf_counter() - started
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("ANALYZE five_ones_progress")
    finally:
        await conn.close()
    return built_s


async def measure(db: Database, url: str, cipher: PiiCipher, repeat: int, county: str, cadre: str) -> None:
    statements = Statements(db)

    async def service(name: str, call: Callable[[Ctx], Awaitable[Any]], note: Callable[[Any], str]) -> None:
        median_ms, best_ms, result = await timed(repeat, through_service(db, cipher, call))
        line(name, median_ms, best_ms, note(result))

    def summary(result: Any) -> str:
        total = result.total
        return (
            f"{len(result.items)} rows; {total.pairings:,} pairings, {total.pairings_complete_pct}% complete, "
            f"{total.items_done_pct}% of items done"
        )

    await service("city roll-up (level city)", rollup(FiveOnesLevel.city), summary)
    city_sql = statements.rollup()
    await service("county roll-up, whole city (level county)", rollup(FiveOnesLevel.county), summary)
    await service(f"township roll-up of {county} (level township)", rollup(FiveOnesLevel.township, county), summary)
    await service(f"roll-up of {county} (level county)", rollup(FiveOnesLevel.county, county), summary)
    county_sql = statements.rollup()
    await service(
        "a cadre's to-do list (cadre_todo)",
        lambda ctx: cadre_todo(ctx, cadre, AS_OF),
        lambda todo: f"{len(todo.households)} households, {sum(not h.complete for h in todo.households)} unfinished",
    )
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name, (statement, parameters) in (("city", city_sql), (county, county_sql)):
            median_ms, best_ms, _ = await timed(repeat, lambda s=statement, p=parameters: conn.fetch(s, *p))
            line(f"roll-up of {name}, raw SQL (asyncpg)", median_ms, best_ms, "the statement the service sent")
            runs = [await execution_ms(conn, statement, parameters) for _ in range(repeat + 1)][1:]
            line(f"roll-up of {name}, in the database", statistics.median(runs), min(runs), "EXPLAIN ANALYZE")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairings", type=int, default=120_000, help="households, one active pairing each")
    parser.add_argument("--contacts-per-pairing", type=int, default=5, help="on average (0 to twice this)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measure; the median and best are shown")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    rng = random.Random(2020)
    tmp, cipher = scratch_folder("fiveones")
    places = villages(rng, TOWNSHIPS)
    started = time.perf_counter()
    tables = generate(rng, args.pairings, args.contacts_per_pairing, places)
    generated_s = time.perf_counter() - started
    counties = Counter(row[4] for row in tables["households"])
    county = counties.most_common(1)[0][0]  # the county with the most households
    cadre = Counter(row[1] for row in tables["pairings"]).most_common(1)[0][0]  # the cadre with the most pairings
    pg_name = f"fupin_bench_fiveones_{os.getpid()}"
    try:
        async with scratch_postgres(args.postgres_url, pg_name) as pg_url:
            started = time.perf_counter()
            db = await load(pg_url, places, tables)
            loaded_s = time.perf_counter() - started
            print(
                f"{args.pairings:,} pairings, {len(tables['contacts']):,} contacts, {len(tables['households']):,} "
                f"households, {len(tables['cadres']):,} cadres, {len(tables['surveys']):,} needs surveys, "
                f"{len(tables['plans']):,} income plans; {len(places)} villages in {len(counties)} counties; "
                f"as of {AS_OF}; {os.cpu_count()} cores; generated in {generated_s:.1f} s, COPY and ANALYZE "
                f"{loaded_s:.1f} s; median and best of {args.repeat}"
            )
            print(f"the window's progress rows built once in {await build(db, pg_url):.2f} s")
            await measure(db, pg_url, cipher, args.repeat, county, cadre)
            await db.dispose()
        print("targets: county roll-up ≤ 15 ms, city ≤ 30 ms (in the database)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
