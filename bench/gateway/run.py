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
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = """worker_processes 1;
pid {tmp}/{name}.pid;
error_log {tmp}/{name}.err;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/{name}-body;
  proxy_temp_path {tmp}/{name}-proxy;
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


def start_nginx(tmp: Path, name: str, upstream: int, port: int) -> None:
    (tmp / f"{name}.conf").write_text(NGINX_CONF.format(tmp=tmp, name=name, upstream=upstream, port=port))
    subprocess.run(["nginx", "-c", str(tmp / f"{name}.conf")], check=True)


def stop_nginx(tmp: Path, name: str) -> None:
    """Stop the nginx master by its pid file (and with it its workers)."""
    pid_file = tmp / f"{name}.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--households", type=int, default=300, help="demo households to load")
    parser.add_argument("--no-nginx", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="fupin-bench-"))
    port = {
        name: free_port() for name in ("gateway", "registry", "nginx", "standin", "standin_gateway", "standin_nginx")
    }
    env = {
        **os.environ,
        "FUPIN_VAR_DIR": str(tmp / "var"),
        "FUPIN_GATEWAY_URL": f"http://127.0.0.1:{port['gateway']}",
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
        "REGISTRY_DATABASE_URL": f"sqlite:///{tmp}/registry.db",
        "GATEWAY_UPSTREAMS": json.dumps({"registry": f"http://127.0.0.1:{port['registry']}"}),
        "FUPIN_LOG_LEVEL": "WARNING",
    }
    fupin = [sys.executable, "-m", "services.cli"]
    subprocess.run([*fupin, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    demo = [*fupin, "demo-data", "--households", str(args.households)]
    subprocess.run(demo, env=env, cwd=ROOT, check=True, capture_output=True)
    uvicorn = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]
    standin_env = {**env, "GATEWAY_UPSTREAMS": json.dumps({"registry": f"http://127.0.0.1:{port['standin']}"})}
    launches = [
        (["--factory", "services.registry.app:create_app", "--port", str(port["registry"])], env),
        (["--factory", "services.gateway.app:create_app", "--port", str(port["gateway"])], env),
        (["--app-dir", str(Path(__file__).parent), "standin:app", "--port", str(port["standin"])], env),
        # A second gateway whose "registry" is the stand-in: what forwarding alone costs.
        (["--factory", "services.gateway.app:create_app", "--port", str(port["standin_gateway"])], standin_env),
    ]
    processes = []
    nginx = bool(shutil.which("nginx")) and not args.no_nginx
    try:
        for arguments, environment in launches:
            processes.append(
                subprocess.Popen([*uvicorn, *arguments], env=environment, cwd=ROOT, stdout=subprocess.DEVNULL)
            )
        for name in ("registry", "gateway", "standin", "standin_gateway"):
            wait_healthy(port[name])
        if nginx:
            start_nginx(tmp, "nginx", port["registry"], port["nginx"])
            start_nginx(tmp, "standin_nginx", port["standin"], port["standin_nginx"])

        gateway = f"http://127.0.0.1:{port['gateway']}"
        # A reader without pii:read: the read path writes no audit rows, so the figures are of reading only.
        login = {"grant_type": "password", "username": "hr", "password": "demo"}
        token = httpx.post(f"{gateway}/auth/token", data=login).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        household_id = httpx.get(f"{gateway}/api/v1/registry/households?limit=1", headers=auth).json()["items"][0]["id"]
        loader = run_wrk if shutil.which("wrk") else run_python
        print(
            f"load generator: {'wrk' if loader is run_wrk else 'python/aiohttp'}, {args.connections} connections, "
            f"{args.duration} s per target, {os.cpu_count()} cores"
        )
        scenarios = [
            ("forwarding alone (stand-in upstream, no database)", "/api/v1/registry/standin/1", "standin"),
            ("region read (token check, one row)", "/api/v1/registry/regions/500230", "registry"),
            ("household read (token check, scope, members)", f"/api/v1/registry/households/{household_id}", "registry"),
        ]
        for label, path, upstream in scenarios:
            prefix = "standin_" if upstream == "standin" else ""
            targets = [("direct", port[upstream]), ("gateway", port[f"{prefix}gateway"])]
            if nginx:
                targets.append(("nginx", port[f"{prefix}nginx"]))
            results = {}
            for name, target in targets:
                url = f"http://127.0.0.1:{target}{path}"
                loader(url, token, args.connections, 2)  # warm-up
                results[name] = loader(url, token, args.connections, args.duration)
            print(f"\n{label}: GET {path.replace(household_id, '{id}')}")
            for name, r in results.items():
                share = r["rps"] / results["direct"]["rps"] * 100
                print(
                    f"  {name:<8} {r['rps']:>8.0f} req/s   p50 {r['p50_ms']:>7.2f} ms   p99 {r['p99_ms']:>7.2f} ms   "
                    f"{share:>5.1f}% of direct   non-2xx {r['non_2xx']} {r['socket_errors']}"
                )
            if nginx:
                added_gateway = results["gateway"]["p50_ms"] - results["direct"]["p50_ms"]
                added_nginx = results["nginx"]["p50_ms"] - results["direct"]["p50_ms"]
                print(f"  p50 added: gateway {added_gateway:+.2f} ms, nginx {added_nginx:+.2f} ms")
    finally:
        for name in ("nginx", "standin_nginx"):
            stop_nginx(tmp, name)
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
