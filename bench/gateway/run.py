"""Gateway forwarding cost: the same registry reads direct, through the gateway, and through nginx if present.

Starts a registry and a gateway (real processes, SQLite under a temporary folder, demo data), then loads each
target in turn with wrk (or, without wrk, a Python load generator in its own process) and prints requests/s, p50,
p99 and the gateway's share of the direct throughput. Loopback only; every run is bounded in time.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = """worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  upstream be {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not healthy")


def run_wrk(url: str, token: str, connections: int, duration: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


LOADGEN = r"""
import asyncio, json, sys, time
import aiohttp
url, token, conns, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
async def main():
    lat, bad = [], 0
    end = time.perf_counter() + duration
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer " + token},
                                     connector=aiohttp.TCPConnector(limit=conns)) as s:
        async def worker():
            nonlocal bad
            while time.perf_counter() < end:
                t = time.perf_counter()
                async with s.get(url) as r:
                    await r.read()
                    bad += r.status >= 400
                lat.append(time.perf_counter() - t)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        took = time.perf_counter() - start
    lat.sort()
    print(json.dumps({"rps": len(lat) / took, "p50_ms": lat[len(lat) // 2] * 1000,
                      "p99_ms": lat[int(len(lat) * 0.99)] * 1000, "non_2xx": bad, "socket_errors": ""}))
asyncio.run(main())
"""


def run_python(url: str, token: str, connections: int, duration: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", LOADGEN, url, token, str(connections), str(duration)],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--households", type=int, default=300, help="demo households to load")
    parser.add_argument("--no-nginx", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="fupin-bench-"))
    gateway_port, registry_port, nginx_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "FUPIN_VAR_DIR": str(tmp / "var"),
        "FUPIN_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
        "REGISTRY_DATABASE_URL": f"sqlite:///{tmp}/registry.db",
        "GATEWAY_UPSTREAMS": json.dumps({"registry": f"http://127.0.0.1:{registry_port}"}),
        "FUPIN_LOG_LEVEL": "WARNING",
    }
    fupin = [sys.executable, "-m", "services.cli"]
    subprocess.run([*fupin, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*fupin, "demo-data", "--households", str(args.households)], env=env, cwd=ROOT, check=True, capture_output=True
    )
    processes = []
    try:
        for name, port in (("registry", registry_port), ("gateway", gateway_port)):
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "--factory",
                        f"services.{name}.app:create_app",
                        "--port",
                        str(port),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                )
            )
        wait_healthy(registry_port)
        wait_healthy(gateway_port)
        nginx = shutil.which("nginx") and not args.no_nginx
        if nginx:
            (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, upstream=registry_port, port=nginx_port))
            subprocess.run(["nginx", "-c", str(tmp / "nginx.conf")], check=True)

        gateway = f"http://127.0.0.1:{gateway_port}"
        # A reader without pii:read: the read path writes no audit rows, so the figures are of reading only.
        token = httpx.post(
            f"{gateway}/auth/token", data={"grant_type": "password", "username": "hr", "password": "demo"}
        ).json()["access_token"]
        page = httpx.get(
            f"{gateway}/api/v1/registry/households?limit=1", headers={"Authorization": f"Bearer {token}"}
        ).json()
        household_id = page["items"][0]["id"]
        loader = run_wrk if shutil.which("wrk") else run_python
        print(
            f"load generator: {'wrk' if loader is run_wrk else 'python/aiohttp'}, {args.connections} connections, "
            f"{args.duration} s per target, {os.cpu_count()} cores"
        )
        for label, path in (
            ("household read", f"/api/v1/registry/households/{household_id}"),
            ("region read", "/api/v1/registry/regions/500230"),
        ):
            targets = [("direct", registry_port), ("gateway", gateway_port)]
            if nginx:
                targets.append(("nginx", nginx_port))
            results = {}
            for name, port in targets:
                url = f"http://127.0.0.1:{port}{path}"
                loader(url, token, args.connections, 2)  # warm-up
                results[name] = loader(url, token, args.connections, args.duration)
            print(f"\n{label}: GET {path.replace(household_id, '{id}')}")
            for name, r in results.items():
                share = r["rps"] / results["direct"]["rps"] * 100
                print(
                    f"  {name:<8} {r['rps']:>8.0f} req/s   p50 {r['p50_ms']:>6.2f} ms   p99 {r['p99_ms']:>6.2f} ms   "
                    f"{share:>5.1f}% of direct   non-2xx {r['non_2xx']} {r['socket_errors']}"
                )
            if nginx:
                overhead_gw = results["gateway"]["p50_ms"] - results["direct"]["p50_ms"]
                overhead_ng = results["nginx"]["p50_ms"] - results["direct"]["p50_ms"]
                print(f"  p50 overhead: gateway {overhead_gw:+.2f} ms, nginx {overhead_ng:+.2f} ms")
    finally:
        if shutil.which("nginx") and (tmp / "nginx.pid").exists():
            subprocess.run(["nginx", "-c", str(tmp / "nginx.conf"), "-s", "stop"], check=False)
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
