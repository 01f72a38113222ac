"""A service's request path against a bare FastAPI + SQLAlchemy app reading the same rows (bare.py), side by side
in one run, on SQLite and on PostgreSQL; and every service's idle memory beside the bare app's.

For each database: migrates a throw-away database, loads the demo data (--households), starts the gateway (for
logins), the registry, relief and the bare app as real processes on loopback, then loads each pair of URLs in turn
with --connections for --duration seconds, --rounds times in turn, and prints the median run's requests/s, p50 and
p99 of both and the registry's share
(targets: ≥ 70% of the bare app's throughput, p99 within 3× the bare app's). Reads:
- a one-row read: `GET /api/v1/registry/regions/500230` (a city reader) and the bare app's `/regions/500230`;
- a 50-row household page read by a city reader without pii:read (phones masked, nothing audited);
- the same page of one county read by its officer, who sees phones unmasked: every such read is audited.
Idle memory is each process's RSS a few seconds after it answers /healthz (target: ≤ 1.5× the bare app's); the
registry's and the bare app's are shown again after the loads.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench.*
from bench.load import Load, free_port, generator, load, rss_mb, start_uvicorn, stop, wait_healthy
from bench.scratch import scratch_folder, scratch_postgres

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "registry", "relief")
COUNTY = "500230"  # 丰都县, the demo county officer `fengdu`'s
TARGET_SHARE, TARGET_P99 = 0.70, 3.0
TARGET_RSS = 1.5


@dataclass
class Read:
    label: str
    bare_path: str
    registry_path: str
    user: str


READS = (
    Read("one row: a region, city reader", f"/regions/{COUNTY}", f"/api/v1/registry/regions/{COUNTY}", "hr"),
    Read(
        "household page (50), city reader, phones masked", "/households?limit=50",
        "/api/v1/registry/households?limit=50", "hr",
    ),
    Read(
        "household page (50), county officer, phones shown (audited)", f"/households?limit=50&county={COUNTY}",
        "/api/v1/registry/households?limit=50", "fengdu",
    ),
)  # fmt: skip


def median(loads: list[Load]) -> Load:
    """The run with the median throughput (its p50 and p99 with it), and every run's answers not 2xx."""
    middle = sorted(loads, key=lambda run: run.rps)[len(loads) // 2]
    return Load(middle.rps, middle.p50_ms, middle.p99_ms, sum(run.non_2xx for run in loads))


def line(name: str, result: Load, bare: Load | None) -> str:
    share = (
        "" if bare is None else f"{result.rps / bare.rps * 100:>5.0f}% of bare   p99 ×{result.p99_ms / bare.p99_ms:.1f}"
    )
    bad = f"   non-2xx {result.non_2xx}" if result.non_2xx else ""
    return (f"  {name:<9}{result.rps:>7.0f} req/s   p50 {result.p50_ms:>7.2f} ms   p99 {result.p99_ms:>7.2f} ms   "
            f"{share}{bad}")  # fmt: skip


def measure(name: str, urls: dict[str, str], tmp: Path, args) -> list[tuple[str, str, Load, Load]]:
    """Everything for one database; returns (database, read, bare, registry) rows for the summary."""
    ports = {service: free_port() for service in (*SERVICES, "bare")}
    env = {
        **os.environ,
        "FUPIN_VAR_DIR": str(tmp / "var"),
        "FUPIN_GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
        "GATEWAY_UPSTREAMS": json.dumps({s: f"http://127.0.0.1:{ports[s]}" for s in SERVICES if s != "gateway"}),
        "BARE_DATABASE_URL": urls["registry"],
        **{f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()},
    }
    fupin = [sys.executable, "-m", "services.cli"]
    subprocess.run([*fupin, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*fupin, "demo-data", "--households", str(args.households)], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    processes = {
        service: start_uvicorn(["--factory", f"services.{service}.app:create_app", "--port", str(ports[service])], env)
        for service in SERVICES
    }
    processes["bare"] = start_uvicorn(
        ["--app-dir", str(Path(__file__).parent), "bare:app", "--port", str(ports["bare"])], env
    )
    rows = []
    try:
        for port in ports.values():
            wait_healthy(port)
        time.sleep(3)
        rss = {service: rss_mb(process.pid) for service, process in processes.items()}
        print(f"\n{name}: idle memory (RSS), MB: bare app {rss['bare']:.0f}; " + ", ".join(
            f"{s} {rss[s]:.0f} ({rss[s] / rss['bare']:.2f}×)" for s in SERVICES
        ) + f"  (target ≤ {TARGET_RSS}×)")  # fmt: skip
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        tokens = {
            user: httpx.post(
                f"{gateway}/auth/token", data={"grant_type": "password", "username": user, "password": "demo"}
            ).json()["access_token"]
            for user in {read.user for read in READS}
        }
        stop([processes.pop("relief")])  # idle, it only polls; the gateway stays for the keys that verify tokens
        for read in READS:
            targets = {
                "bare": f"http://127.0.0.1:{ports['bare']}{read.bare_path}",
                "registry": f"http://127.0.0.1:{ports['registry']}{read.registry_path}",
            }
            runs: dict[str, list[Load]] = {target: [] for target in targets}
            for url in targets.values():
                load(url, tokens[read.user], args.connections, 2)  # warm-up
            for _ in range(args.rounds):  # in turn, so that a slower moment of the machine falls on both
                for target, url in targets.items():
                    runs[target].append(load(url, tokens[read.user], args.connections, args.duration))
            results = {target: median(loads) for target, loads in runs.items()}
            print(f"{read.label}:")
            print(line("bare", results["bare"], None))
            print(line("registry", results["registry"], results["bare"]))
            rows.append((name, read.label, results["bare"], results["registry"]))
        loaded = {service: rss_mb(processes[service].pid) for service in ("bare", "registry")}
        print(f"memory after the loads (RSS), MB: bare app {loaded['bare']:.0f}, registry {loaded['registry']:.0f} "
              f"({loaded['registry'] / loaded['bare']:.2f}×)")  # fmt: skip
    finally:
        stop(list(processes.values()))
    return rows


def summary(rows: list[tuple[str, str, Load, Load]]) -> None:
    print(f"\n{'database':<11}{'read':<62}{'bare req/s':>11}{'registry':>10}{'share':>7}{'p99 ×':>7}  target")
    for database, label, bare, registry in rows:
        share, p99 = registry.rps / bare.rps, registry.p99_ms / bare.p99_ms
        met = "met" if share >= TARGET_SHARE and p99 <= TARGET_P99 else "NOT met"
        print(f"{database:<11}{label:<62}{bare.rps:>11.0f}{registry.rps:>10.0f}{share * 100:>6.0f}%{p99:>7.1f}  "
              f"≥ {TARGET_SHARE:.0%}, ≤ {TARGET_P99:.0f}×: {met}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each target, in turn; the median is shown")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--households", type=int, default=600, help="demo households to load")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    tmp, _ = scratch_folder("service")
    print(f"load generator: {generator()}, {args.connections} connections, {args.rounds} runs of {args.duration:.0f} s "
          f"per target in turn (the median shown), "
          f"{os.cpu_count()} cores")  # fmt: skip
    rows = []
    try:
        if not args.no_sqlite:
            (tmp / "sqlite").mkdir()
            urls = {service: f"sqlite+aiosqlite:///{tmp / 'sqlite' / f'{service}.db'}" for service in SERVICES}
            rows += measure("SQLite", urls, tmp / "sqlite", args)
        if not args.no_postgres:
            async with AsyncExitStack() as databases:
                urls = {
                    service: await databases.enter_async_context(
                        scratch_postgres(args.postgres, f"fupin_bench_service_{service}_{os.getpid()}")
                    )
                    for service in SERVICES
                }
                (tmp / "pg").mkdir()
                rows += measure("PostgreSQL", urls, tmp / "pg", args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary(rows)


if __name__ == "__main__":
    asyncio.run(main())
