"""Events from the registry to relief: the throughput of a backlog and the time from commit to effect.

Starts a gateway, a registry and relief as real processes on loopback (SQLite files in a scratch folder, then
throw-away PostgreSQL databases), registers --persons persons (two a household, 未脱贫 so relief takes them) through
the registry's API, and records health events for them through the API too, so that the registry's own code
publishes each `person.health_changed` (suspected → confirmed in hospital → discharged → suspected → cleared, one a
day: a relief case opened and closed per person).

1. backlog: relief is stopped while --events-per-person events of every person are recorded; relief is started
   again and the time from its start (healthy) until its `inbox_events` holds every event id gives events per
   second (the issue asks ≥ 1,000/s on loopback). Relief's cases are then checked against the registry's timelines.
2. steady: with everything running, five events each of other persons are recorded at a steady pace (--rates,
   150/s then 10/s, --seconds each); commit → effect of each event is relief's `inbox_events.received_at` minus the
   `created_at` of the registry's delivery of it to relief (p50 ≤ 50 ms asked), shown beside commit → the answer
   recorded (`deliveries.delivered_at`: relief has committed by then, and the dispatcher's round is over).

Where the time goes comes from the services' own /metrics (requests and their mean time per route, read before and
after each phase), from the delivery rows (one dispatcher round stamps its deliveries with one `delivered_at`), from
each process's CPU seconds (/proc) per event, and with --profile from a sampling profiler (sampler.py).
"""

import argparse
import asyncio
import base64
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench.scratch and the services
from bench.load import free_port
from bench.scratch import scratch_folder, scratch_postgres
from services.gateway.auth.service import create_user, ensure_service_client
from services.gateway.models import plumbing as gateway_tables
from services.registry.settings import RegistrySettings
from services.relief.demo import load_demo_standards
from services.relief.models import plumbing as relief_tables
from shared.db import Database
from shared.events import Dispatcher
from shared.migrations import upgrade_async
from shared.pii import check_character

ROOT = Path(__file__).resolve().parents[2]

# Villages made through the API under real townships: five of 丰都县, three of 酉阳县 (dibao standards: every unit)
TOWNSHIPS = ("500230101", "500230102", "500230103", "500230104", "500230105", "500242101", "500242102", "500242103")
VILLAGES = tuple(f"{township}201" for township in TOWNSHIPS)
CONFIRMED = {"hospital": "丰都县人民医院", "hospitalised": True}
SEQUENCE = (("suspected", {}), ("confirmed", CONFIRMED), ("discharged", {}), ("suspected", {}), ("cleared", {}))
FIRST_DAY = date(2020, 1, 24)
ADMIN = "bench-admin"
RELIEF_CLIENT = "svc-relief"
TARGET_RATE, TARGET_P50_MS = 1000, 50.0
TIMELINE = "/api/v1/registry/persons/{person_id}/health-events"
HOUSEHOLD = "/api/v1/registry/households/{household_id}"
HISTORIES = "/api/v1/registry/health-histories"
RELIEF_INBOX = "/api/v1/relief/events/inbox/batch"
REGISTRY_INBOX = "/api/v1/registry/events/inbox/batch"


def health_body(step: int) -> dict:
    """A person's `step`-th health event (0 first): SEQUENCE over and over, a day apart, all in early 2020."""
    kind, details = SEQUENCE[step % len(SEQUENCE)]
    return {"kind": kind, "occurred_on": (FIRST_DAY + timedelta(days=step)).isoformat(), **details}


def id_number(serial: int) -> str:
    """A checksum-valid ID number of 丰都县, different for every serial."""
    born = date(1960, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"500230{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_character(first17)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def epoch(value: datetime | str) -> float:
    """Seconds since the epoch of a timestamp as either database returns it (SQLite: text in UTC, no zone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


# --- the processes -------------------------------------------------------------------------------------------------


@dataclass
class Service:
    """One uvicorn process of a service, in a process group of its own (stopped with its children)."""

    name: str
    app: str
    port: int
    env: dict[str, str]
    logs: Path
    profiles: Path | None = None  # run under sampler.py, a file per start
    workers: int = 1  # uvicorn's worker processes
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        runner = ["-m", "uvicorn"]
        if self.profiles is not None and self.name != "gateway":
            runner = [
                str(Path(__file__).with_name("sampler.py")),
                str(self.profiles / f"{self.name}-{self.starts}.json"),
            ]
        command = [
            sys.executable, *runner, "--factory", self.app, "--host", "127.0.0.1", "--port", str(self.port),
            "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        with (self.logs / f"{self.name}.log").open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    async def healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=1, trust_env=False) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not healthy after {timeout_s} s:\n{self.tail()}")
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Under the sampler SIGINT: uvicorn raises the signal again once shut down, and only KeyboardInterrupt lets
        # the sampler write its file on the way out.
        os.killpg(self.process.pid, signal.SIGINT if self.profiles is not None else signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def cpu_s(self) -> float:
        """CPU seconds the process and its workers (its process group) have used so far (Linux /proc; 0
        elsewhere)."""
        if self.process is None:
            return 0.0
        return cpu_seconds(lambda _name, fields: int(fields[2]) == self.process.pid)

    def errors(self) -> list[str]:
        """The process's ERROR log lines (JSON, one a line), each distinct one once with its count."""
        try:
            lines = (self.logs / f"{self.name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return []
        found: Counter = Counter()
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
                last = (entry.get("exc") or "").strip().splitlines()[-1:]
                found[f"{entry.get('logger')}: {entry.get('msg', '')[:120]} {' '.join(last)[:200]}".strip()] += 1
        return [f"{self.name} logged {n}× {what}" for what, n in found.most_common()]

    def tail(self) -> str:
        try:
            return (self.logs / f"{self.name}.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""


@dataclass
class Stack:
    gateway: Service
    registry: Service
    relief: Service
    admin_password: str

    def stop(self) -> None:
        for service in (self.relief, self.registry, self.gateway):
            service.stop()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each process, of this one (the load), and of PostgreSQL's server processes (0 on
        SQLite, whose work is in the services' own)."""
        services = {s.name: s.cpu_s() for s in (self.gateway, self.registry, self.relief)}
        postgres = cpu_seconds(lambda name, _fields: name == "postgres")
        return {**services, "bench": time.process_time(), "postgres": postgres}


def cpu_seconds(which) -> float:
    """CPU seconds used so far by the live processes `which` takes, given the name and the fields after it in
    /proc/PID/stat, with those of their children that ended and were waited for (a PostgreSQL connection's server
    process that exits lands in the postmaster's count: the sum never falls)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):  # gone meanwhile
            continue
        fields = fields.split()
        if which(name, fields):
            total += sum(int(ticks) for ticks in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def describe_cpu(events: int, before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """CPU milliseconds per event of each process over a phase, and the share of the machine they took."""
    used = {name: after[name] - before[name] for name in after}
    shares = ", ".join(f"{name} {used[name] / events * 1000:.1f}" for name in used)
    total = sum(used.values())
    return (
        f"CPU per event (ms): {shares}; all {total / events * 1000:.1f} ms, "
        f"{total / seconds:.2f} of {os.cpu_count()} cores busy"
    )


def stack_env(tmp: Path, ports: dict[str, int], urls: dict[str, str], relief_secret: str) -> dict[str, str]:
    """The environment the three processes share (as tests/e2e/conftest.py sets it up)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and not name.startswith(("GATEWAY_", "REGISTRY_", "RELIEF_", "FUPIN_"))
    }
    upstreams = {name: f"http://127.0.0.1:{ports[name]}" for name in ("registry", "relief")}

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    env.update(
        {
            "FUPIN_VAR_DIR": str(tmp / "var"),
            "FUPIN_GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
            "FUPIN_PII_ENCRYPTION_KEY": key(),
            "FUPIN_PII_INDEX_KEY": key(),
            "FUPIN_EVENTS_SECRET": secrets.token_urlsafe(32),
            "FUPIN_LOG_LEVEL": "WARNING",
            "FUPIN_SERVICE_URLS": json.dumps(upstreams),
            "NO_PROXY": "127.0.0.1,localhost",
            "GATEWAY_DATABASE_URL": urls["gateway"],
            "GATEWAY_UPSTREAMS": json.dumps(upstreams),
            "REGISTRY_DATABASE_URL": urls["registry"],
            "REGISTRY_EVENTS_POLL_S": "0.2",
            "RELIEF_DATABASE_URL": urls["relief"],
            "RELIEF_CLIENT_ID": RELIEF_CLIENT,
            "RELIEF_CLIENT_SECRET": relief_secret,
            "RELIEF_RECONCILE_S": "0",  # no scheduled reconciliation in the middle of a measure
        }
    )
    return env


async def prepare_databases(urls: dict[str, str], admin_password: str, relief_secret: str) -> None:
    """Migrate the three databases, make the admin login and relief's client at the gateway, and the example
    dibao standards of every unit in relief (services/relief/demo.py)."""
    for service, url in urls.items():
        await upgrade_async(service, url)
    gateway = Database(urls["gateway"], gateway_tables)
    try:
        async with gateway.sessions.begin() as session:
            await create_user(session, username=ADMIN, password=admin_password, display_name="bench 市级管理员",
                              roles=["city_admin"], regions=["500000"])  # fmt: skip
            await ensure_service_client(session, client_id=RELIEF_CLIENT, secret=relief_secret, display_name="relief")
    finally:
        await gateway.dispose()
    relief = Database(urls["relief"], relief_tables)
    try:
        async with relief.sessions.begin() as session:
            await load_demo_standards(session)
    finally:
        await relief.dispose()


async def start_stack(tmp: Path, urls: dict[str, str], profiles: Path | None, args) -> Stack:
    ports = {name: free_port() for name in ("gateway", "registry", "relief")}
    admin_password, relief_secret = secrets.token_urlsafe(12), secrets.token_urlsafe(24)
    await prepare_databases(urls, admin_password, relief_secret)
    env = stack_env(tmp, ports, urls, relief_secret)
    if args.rounds is not None:
        env["REGISTRY_EVENTS_ROUNDS"] = str(args.rounds)
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    apps = {name: f"services.{name}.app:create_app" for name in ports}
    workers = {"relief": args.relief_workers}
    stack = Stack(
        *(Service(name, apps[name], ports[name], env, logs, profiles, workers.get(name, 1)) for name in ports),
        admin_password,
    )
    for service in (stack.gateway, stack.registry, stack.relief):
        service.start()
        await service.healthy()
    return stack


# --- reading the databases and /metrics from outside -----------------------------------------------------------


class Store:
    """Plain reads of a service's database from this process: sqlite3 in autocommit (through the services'
    engine every transaction begins IMMEDIATE on SQLite, a write lock) or asyncpg."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.split(":///", 1)[1] if url.startswith("sqlite") else None
        self.pg: asyncpg.Connection | None = None

    async def rows(self, sql: str) -> list[tuple]:
        if self.sqlite is not None:
            return await asyncio.to_thread(self._sqlite_rows, sql)
        if self.pg is None:
            self.pg = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))
        return [tuple(row) for row in await self.pg.fetch(sql)]

    def _sqlite_rows(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(self.sqlite, timeout=30, isolation_level=None)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    async def scalar(self, sql: str) -> int:
        return (await self.rows(sql))[0][0]

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()


RELIEF_DELIVERIES = (
    "SELECT d.event_id, d.created_at, d.delivered_at, d.attempts FROM deliveries d "
    "JOIN subscriptions s ON s.id = d.subscription_id WHERE s.name = 'internal:relief'"
)
PENDING = "SELECT count(*) FROM deliveries WHERE status = 'pending'"


async def inbox_count(relief: Store) -> int:
    return await relief.scalar("SELECT count(*) FROM inbox_events")


async def inbox(relief: Store) -> dict[str, float]:
    """Event id → when relief's inbox took it."""
    return {event_id: epoch(at) for event_id, at in await relief.rows("SELECT event_id, received_at FROM inbox_events")}


async def wait_until(check, wanted: int, what: str, timeout_s: float, every_s: float = 0.05) -> float:
    """Poll `check()` until it reaches `wanted`; returns time.time() when it did."""
    deadline = time.monotonic() + timeout_s
    last_print = time.monotonic()
    while True:
        got = await check()
        if got >= wanted:
            return time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {got:,} of {wanted:,} after {timeout_s:.0f} s")
        if time.monotonic() - last_print > 15:
            print(f"    ... {what}: {got:,} of {wanted:,}", flush=True)
            last_print = time.monotonic()
        await asyncio.sleep(every_s)


@dataclass
class RouteFigures:
    count: float = 0.0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)


async def scrape(http: httpx.AsyncClient, service: Service) -> dict[tuple[str, str], RouteFigures]:
    """(method, route) → requests, their total seconds and statuses, from the service's /metrics."""
    text = (await http.get(f"{service.url}/metrics")).text
    routes: dict[tuple[str, str], RouteFigures] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if "route" not in labels:
                continue
            figures = routes.setdefault((labels["method"], labels["route"]), RouteFigures())
            if sample.name == "http_requests_total":
                figures.statuses[labels["status"]] += sample.value
            elif sample.name == "http_request_duration_seconds_sum":
                figures.seconds += sample.value
            elif sample.name == "http_request_duration_seconds_count":
                figures.count += sample.value
    return routes


def difference(after: dict, before: dict, method: str, route: str) -> RouteFigures:
    now, then = after.get((method, route), RouteFigures()), before.get((method, route), RouteFigures())
    return RouteFigures(now.count - then.count, now.seconds - then.seconds, now.statuses - then.statuses)


def describe_calls(events: int, registry: tuple[dict, dict], relief: tuple[dict, dict]) -> list[str]:
    """Lines on relief's inbox requests and the registry calls they made, per event."""
    lines = []
    inbox_calls = difference(relief[1], relief[0], "POST", RELIEF_INBOX)
    if inbox_calls.count:
        answers = ", ".join(f"{status}: {n:,.0f}" for status, n in sorted(inbox_calls.statuses.items()))
        lines.append(
            f"relief inbox: {inbox_calls.count:,.0f} requests ({answers}), {events / inbox_calls.count:.1f} events "
            f"each, mean {inbox_calls.seconds / inbox_calls.count * 1000:.1f} ms each"
        )
    for label, method, route in (
        ("registry timeline reads", "GET", TIMELINE),
        ("registry timeline reads, many persons a call", "GET", HISTORIES),
        ("registry household reads", "GET", HOUSEHOLD),
        ("relief's case events into the registry's inbox", "POST", REGISTRY_INBOX),
    ):
        calls = difference(registry[1], registry[0], method, route)
        if calls.count:
            lines.append(
                f"{label}: {calls.count:,.0f} ({calls.count / events:.2f} per event), mean "
                f"{calls.seconds / calls.count * 1000:.1f} ms each"
            )
    return lines


def describe_rounds(rows: list[tuple]) -> str:
    """The dispatcher's rounds that delivered these rows: one `delivered_at` per round (shared/events.py
    Dispatcher._record), so their count, size and spacing."""
    stamps = Counter(epoch(row[2]) for row in rows if row[2] is not None)
    if not stamps:
        return "no rounds"
    ordered = sorted(stamps)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    sizes = list(stamps.values())
    failed = sum(row[3] for row in rows) - len(rows)
    return (
        f"dispatcher: {len(stamps):,} rounds delivered them, {sum(sizes) / len(sizes):.1f} deliveries a round "
        f"(max {max(sizes)}), a round every {percentile(gaps, 0.5) * 1000:.0f} ms (p50; p99 "
        f"{percentile(gaps, 0.99) * 1000:.0f} ms); {failed:,} failed attempts before"
    )


# --- making data through the API ---------------------------------------------------------------------------------


class Login:
    """The admin's access token from the gateway, taken again before it expires (15 min)."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.token = ""
        self.taken: float | None = None  # not 0.0: the monotonic clock may start near 0 on a fresh machine

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        if self.taken is None or time.monotonic() - self.taken > 600:
            response = await http.post(
                f"{self.stack.gateway.url}/auth/token",
                data={"grant_type": "password", "username": ADMIN, "password": self.stack.admin_password},
            )
            response.raise_for_status()
            self.token, self.taken = response.json()["access_token"], time.monotonic()
        return {"Authorization": f"Bearer {self.token}"}


def checked(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response


async def register_persons(http: httpx.AsyncClient, login: Login, count: int, first_serial: int) -> list[str]:
    """`count` persons (two a household, 未脱贫, across VILLAGES) registered through the registry's API; their ids."""
    semaphore = asyncio.Semaphore(8)

    async def household(index: int) -> list[str]:
        serial = first_serial + 2 * index
        village = VILLAGES[index % len(VILLAGES)]
        members = [{"name": "张秀华", "id_number": id_number(serial), "relation": "head"}]
        if 2 * index + 1 < count:
            members.append({"name": "李明", "id_number": id_number(serial + 1), "relation": "spouse"})
        body = {
            "household_no": f"{village}{serial:06d}", "village_code": village, "status": "not_lifted",
            "attribute": "dibao", "dibao": True, "area_class": "rural", "phone": "13812341234", "members": members,
        }  # fmt: skip
        async with semaphore:
            response = await http.post("/api/v1/registry/households", json=body, headers=await login.headers(http))
        return [member["id"] for member in checked(response, 201).json()["members"]]

    households = await asyncio.gather(*(household(i) for i in range((count + 1) // 2)))
    return [person for members in households for person in members]


async def make_villages(http: httpx.AsyncClient, login: Login) -> None:
    for code in VILLAGES:
        body = {"code": code, "name": f"测试村{code[-6:-3]}"}
        checked(await http.post("/api/v1/registry/regions", json=body, headers=await login.headers(http)), 201, 409)


async def record(http: httpx.AsyncClient, login: Login, person_id: str, step: int) -> float:
    """Record the person's `step`-th health event through the registry's API; seconds the request took."""
    started = time.perf_counter()
    path = TIMELINE.format(person_id=person_id)
    checked(await http.post(path, json=health_body(step), headers=await login.headers(http)), 201)
    return time.perf_counter() - started


async def record_sequences(
    http: httpx.AsyncClient, login: Login, persons: list[str], steps: int, concurrency: int
) -> list[float]:
    """Every person's first `steps` health events, a person's in order, `concurrency` persons at a time."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for person in persons:
        queue.put_nowait(person)
    took: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            person = queue.get_nowait()
            for step in range(steps):
                took.append(await record(http, login, person, step))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return took


# --- the two measures --------------------------------------------------------------------------------------------


@dataclass
class Result:
    phase: str
    events: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)


async def check_cases(registry: Store, relief: Store) -> str:
    """Relief's cases against the registry's timelines: a case per confirmation, closed when a discharge followed
    (every household here is eligible on every date)."""
    confirmed, discharged = Counter(), Counter()
    for person_id, kind in await registry.rows("SELECT person_id, kind FROM health_events"):
        if kind == "confirmed":
            confirmed[person_id] += 1
        elif kind == "discharged":
            discharged[person_id] += 1
    opened, closed = Counter(), Counter()
    for person_id, status in await relief.rows("SELECT person_id, status FROM relief_cases"):
        opened[person_id] += 1
        closed[person_id] += status == "closed"
    wrong = sum(1 for p in set(confirmed) | set(opened) if (opened[p], closed[p]) != (confirmed[p], discharged[p]))
    verdict = "as the timelines say" if wrong == 0 else f"{wrong:,} PERSONS DIFFER from their timelines"
    return (
        f"relief cases: {opened.total():,} opened, {closed.total():,} closed; timelines: {confirmed.total():,} "
        f"confirmations, {discharged.total():,} discharges: {verdict}"
    )


async def backlog(
    stack: Stack, stores: dict[str, Store], http: httpx.AsyncClient, login: Login, persons: list[str], args
) -> Result:
    """Phase 1: every event recorded while relief is stopped, then relief started; events/s until its inbox holds
    them all."""
    total = len(persons) * args.events_per_person
    stack.relief.stop()
    cpu, clock = stack.cpu(), time.perf_counter()
    took = await record_sequences(http, login, persons, args.events_per_person, args.concurrency)
    produced_s = time.perf_counter() - clock
    print(f"  recorded {total:,} health events with relief stopped: {produced_s:.1f} s ({total / produced_s:.0f}/s), "
          f"{args.concurrency} at a time, POST p50 {percentile(took, 0.5) * 1000:.0f} ms, p99 "
          f"{percentile(took, 0.99) * 1000:.0f} ms")  # fmt: skip
    print(f"  recording: {describe_cpu(total, cpu, stack.cpu(), produced_s)}")
    in_inbox = await inbox_count(stores["relief"])
    registry_before = await scrape(http, stack.registry)
    spawned = time.time()
    stack.relief.start()
    await stack.relief.healthy()
    started, cpu = time.time(), stack.cpu()
    await wait_until(
        lambda: inbox_count(stores["relief"]),
        in_inbox + total,
        "events in relief's inbox",
        timeout_s=max(600.0, total / 10),
    )
    cpu_after = stack.cpu()
    received = sorted((await inbox(stores["relief"])).values())[in_inbox:]
    seconds = received[-1] - started
    print(f"  relief started: {started - spawned:.1f} s to healthy; first event in its inbox "
          f"{received[0] - started:.2f} s later, the last {seconds:.2f} s later: {total / seconds:,.0f} events/s "
          f"({total / (received[-1] - received[0]):,.0f}/s from the first to the last)")  # fmt: skip
    print(f"  delivering: {describe_cpu(total, cpu, cpu_after, time.time() - started)}")
    deliveries = await stores["registry"].rows(RELIEF_DELIVERIES)
    print(f"  {describe_rounds(deliveries)}")
    drained = await drain(stores, started)
    print(f"  relief's own case events all delivered to the registry {drained:.1f} s after relief's start")
    relief_after, registry_after = await scrape(http, stack.relief), await scrape(http, stack.registry)
    for line in describe_calls(total, (registry_before, registry_after), ({}, relief_after)):
        print(f"  {line}")
    print(f"  {await check_cases(stores['registry'], stores['relief'])}")
    return Result("backlog", total, seconds)


async def drain(stores: dict[str, Store], since: float) -> float:
    """Wait until neither service has a pending delivery; seconds from `since`."""

    async def idle() -> int:
        pending = await stores["registry"].scalar(PENDING) + await stores["relief"].scalar(PENDING)
        return int(pending == 0)

    return await wait_until(idle, 1, "services with no pending delivery", timeout_s=600) - since


async def steady(
    stack: Stack, stores: dict[str, Store], http: httpx.AsyncClient, login: Login, persons: list[str], rate: int
) -> Result:
    """Phase 2: the persons' five events each, `rate` a second (a person's a round apart), with everything running;
    commit → effect of each, and events/s from the first commit to the last in relief's inbox."""
    k = len(SEQUENCE)
    total = len(persons) * k
    in_inbox = await inbox_count(stores["relief"])
    before = await scrape(http, stack.registry), await scrape(http, stack.relief)
    last: dict[str, asyncio.Task] = {}
    took: list[float] = []

    in_flight = asyncio.Semaphore(32)  # when the registry is slower than the pace, the pace gives

    async def send(person: str, step: int, previous: asyncio.Task | None) -> None:
        if previous is not None:
            await previous  # a person's events in order
        async with in_flight:
            took.append(await record(http, login, person, step))

    started, cpu = time.time(), stack.cpu()
    clock = time.perf_counter()
    for j in range(total):
        delay = clock + j / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        person, step = persons[j % len(persons)], j // len(persons)
        last[person] = asyncio.create_task(send(person, step, last.get(person)))
    await asyncio.gather(*last.values())
    offered_s = time.time() - started
    await wait_until(lambda: inbox_count(stores["relief"]), in_inbox + total, "events in relief's inbox", timeout_s=300)
    await drain(stores, started)
    cpu_line = describe_cpu(total, cpu, stack.cpu(), time.time() - started)
    after = await scrape(http, stack.registry), await scrape(http, stack.relief)
    rows = [row for row in await stores["registry"].rows(RELIEF_DELIVERIES) if epoch(row[1]) >= started]
    received = await inbox(stores["relief"])
    effect = [(received[row[0]] - epoch(row[1])) * 1000 for row in rows]
    seconds = max(received[row[0]] for row in rows) - started
    answered = [(epoch(row[2]) - epoch(row[1])) * 1000 for row in rows]
    print(f"  recorded {total:,} health events of {len(persons):,} persons in {offered_s:.1f} s "
          f"({total / offered_s:.0f}/s, {rate}/s asked), POST p50 {percentile(took, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(took, 0.99) * 1000:.0f} ms")  # fmt: skip
    print(f"  commit → relief's inbox (received_at): p50 {percentile(effect, 0.5):.1f} ms, p95 "
          f"{percentile(effect, 0.95):.1f}, p99 {percentile(effect, 0.99):.1f}, max {max(effect):.1f} "
          f"({len(effect):,} events, the last in relief's inbox {seconds:.1f} s after the first recorded)")  # fmt: skip
    print(f"  commit → answer recorded (delivered_at): p50 {percentile(answered, 0.5):.1f} ms, p95 "
          f"{percentile(answered, 0.95):.1f}, p99 {percentile(answered, 0.99):.1f}, max {max(answered):.1f}")  # fmt: skip
    print(f"  {describe_rounds(rows)}")
    print(f"  recording and delivering: {cpu_line}")
    for line in describe_calls(total, (before[0], after[0]), (before[1], after[1])):
        print(f"  {line}")
    print(f"  {await check_cases(stores['registry'], stores['relief'])}")
    return Result(f"{rate}/s", total, seconds, effect)


# The top Python frame while the event loop waits, or runs its own C code (uvloop), not a request's
LOOP_ITSELF = (":EpollSelector.select", ":Runner.run")


def summarise_profile(path: Path, top: int = 12) -> list[str]:
    """The busiest functions of one process's samples (sampler.py): share of busy samples spent in the function
    itself, and the repository's functions by share of busy samples they were on the stack for."""
    data = json.loads(path.read_text())
    idle = sum(n for name, n in data["self"].items() if name.endswith(LOOP_ITSELF))
    busy = max(1, data["samples"] - idle)
    short = lambda name: name.replace(str(ROOT) + "/", "").split("site-packages/")[-1]  # noqa: E731
    lines = [f"{path.stem}: {data['samples']:,} samples, {busy / max(1, data['samples']):.0%} in Python code"]
    own = sorted(((n, k) for k, n in data["self"].items() if not k.endswith(LOOP_ITSELF)), reverse=True)[:top]
    lines += [f"    self {n / busy:6.1%}  {short(k)}" for n, k in own]
    ours = [
        (n, k)
        for k, n in data["inclusive"].items()
        if k.startswith(f"{ROOT}/") and "/.venv/" not in k and "/bench/" not in k
    ]
    lines += [f"    incl {n / busy:6.1%}  {short(k)}" for n, k in sorted(ours, reverse=True)[:top]]
    return lines


async def run_on(name: str, urls: dict[str, str], tmp: Path, args) -> list[Result]:
    """Both measures on one kind of database, in processes started and stopped here."""
    print(f"\n{name}")
    stores = {service: Store(url) for service, url in urls.items()}
    steady_persons = [math.ceil(rate * args.seconds / len(SEQUENCE)) for rate in args.rates]
    stack, profiles = None, None
    try:
        started = time.perf_counter()
        if args.profile is not None:
            profiles = args.profile.resolve() / name.lower()
            profiles.mkdir(parents=True, exist_ok=True)
        stack = await start_stack(tmp, urls, profiles, args)
        async with httpx.AsyncClient(base_url=stack.registry.url, timeout=60, trust_env=False,
                                     limits=httpx.Limits(max_connections=200)) as http:  # fmt: skip
            login = Login(stack)
            await make_villages(http, login)
            persons = await register_persons(http, login, args.persons + sum(steady_persons), first_serial=0)
            print(f"  {len(persons):,} persons in {(len(persons) + 1) // 2:,} households of {len(VILLAGES)} villages "
                  f"registered ({time.perf_counter() - started:.1f} s with the start of the processes)")  # fmt: skip
            results = [await backlog(stack, stores, http, login, persons[: args.persons], args)]
            first = args.persons
            for rate, count in zip(args.rates, steady_persons, strict=True):
                print(f"  steady at {rate}/s:")
                chosen = persons[first : first + count]
                # heads, then spouses: a household's two members half the list apart, so its events (one subject,
                # delivered one after another) come seconds apart, not one after the other
                chosen = chosen[0::2] + chosen[1::2]
                results.append(await steady(stack, stores, http, login, chosen, rate))
                first += count
            print(f"  {await idle_cpu(stack)}")
        return results
    finally:
        if stack is not None:
            stack.stop()
            for service in (stack.gateway, stack.registry, stack.relief):
                for line in service.errors():
                    print(f"  {line}")
        for store in stores.values():
            await store.close()
        if profiles is not None:
            for path in sorted(profiles.glob("*.json")):
                print("\n".join(summarise_profile(path)))


async def idle_cpu(stack: Stack, seconds: float = 5.0) -> str:
    """The share of a core each process takes with nothing to do (the dispatchers' polls and probes)."""
    before = stack.cpu()
    await asyncio.sleep(seconds)
    after = stack.cpu()
    shares = ", ".join(f"{name} {(after[name] - before[name]) / seconds:.1%}" for name in after if name != "bench")
    return f"idle for {seconds:.0f} s, share of a core: {shares}"


async def reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"\nPostgreSQL at {url} not reachable ({exc}): SQLite only")
        return False
    await conn.close()
    return True


def dispatcher_settings(args) -> str:
    """The registry's delivery settings as the processes get them (the service's defaults, but for the poll and
    --rounds), and relief's workers."""
    settings = RegistrySettings()
    return (
        f"registry's dispatcher: {args.rounds or settings.events_rounds} rounds at once, "
        f"{settings.events_batch} deliveries a round at most, timeout "
        f"{settings.events_timeout_s} s, lease {Dispatcher.LEASE_S} s; REGISTRY_EVENTS_POLL_S=0.2, probe "
        f"{settings.events_probe_s} s, retries from {settings.events_retry_base_s} s doubling to "
        f"{settings.events_retry_cap_s} s; relief in {args.relief_workers} process(es), its dispatcher on (its case "
        "events to the registry)"
    )


def table(rows: list[tuple[str, Result]]) -> None:
    print(f"\n{'database':<11}{'phase':<9}{'events':>8}{'seconds':>9}{'events/s':>10}  {'target':<10}"
          f"{'p50 ms':>8}{'p99 ms':>8}  target")  # fmt: skip
    for database, r in rows:
        rate_target = f"≥ {TARGET_RATE:,}" if r.phase == "backlog" else ""
        p50 = f"{percentile(r.latencies_ms, 0.5):8.1f}" if r.latencies_ms else f"{'—':>8}"
        p99 = f"{percentile(r.latencies_ms, 0.99):8.1f}" if r.latencies_ms else f"{'—':>8}"
        latency_target = f"p50 ≤ {TARGET_P50_MS:.0f}" if r.latencies_ms else ""
        print(f"{database:<11}{r.phase:<9}{r.events:>8,}{r.seconds:>9.2f}{r.events / r.seconds:>10,.0f}  "
              f"{rate_target:<10}{p50}{p99}  {latency_target}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=2000, help="persons of the backlog")
    parser.add_argument("--events-per-person", type=int, default=5, help="health events of each in the backlog")
    parser.add_argument(
        "--rates", type=lambda text: [int(r) for r in text.split(",")], default=[150, 10],
        help="health events a second of each steady phase, comma-separated (default 150,10)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10, help="length of the steady phase")
    parser.add_argument("--concurrency", type=int, default=16, help="requests at a time recording the backlog")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--relief-workers", type=int, default=1, help="relief's uvicorn worker processes")
    parser.add_argument("--rounds", type=int, help="the registry's dispatcher rounds at once (REGISTRY_EVENTS_ROUNDS)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the registry and relief under bench/events/sampler.py; samples kept in DIR/<database>/, summed up",
        metavar="DIR",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops everything as Ctrl-C does

    tmp, _ = scratch_folder("events")
    rates = " and ".join(f"{rate}/s" for rate in args.rates)
    print(f"backlog: {args.persons:,} persons × {args.events_per_person} health events; steady: {rates} for "
          f"{args.seconds:.0f} s each; {os.cpu_count()} cores")  # fmt: skip
    print(dispatcher_settings(args))
    rows: list[tuple[str, Result]] = []
    try:
        if not args.no_sqlite:
            sqlite = {s: f"sqlite+aiosqlite:///{tmp / 'sqlite' / f'{s}.db'}" for s in ("gateway", "registry", "relief")}
            (tmp / "sqlite").mkdir()
            rows += [("SQLite", r) for r in await run_on("SQLite", sqlite, tmp / "sqlite", args)]
        if not args.no_postgres and await reachable(args.postgres):
            async with AsyncExitStack() as databases:
                pg = {
                    s: await databases.enter_async_context(
                        scratch_postgres(args.postgres, f"fupin_bench_events_{s}_{os.getpid()}")
                    )
                    for s in ("gateway", "registry", "relief")
                }
                (tmp / "pg").mkdir()
                rows += [("PostgreSQL", r) for r in await run_on("PostgreSQL", pg, tmp / "pg", args)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table(rows)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("interrupted: the processes it started are stopped, its scratch databases dropped", file=sys.stderr)
        sys.exit(130)
