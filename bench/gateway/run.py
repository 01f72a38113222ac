"""Gateway forwarding cost: the same registry reads direct, through the gateway, and through nginx if present.

Starts a registry and a gateway (real processes, SQLite under a temporary folder, demo data), then loads each
target in turn with wrk (or, without wrk, a Python load generator in its own process) and prints requests/s, p50,
p99 and the gateway's share of the direct throughput. Loopback only; every run is bounded in time.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench.load
from bench.load import free_port, generator, load, start_uvicorn, stop, wait_healthy

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
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/gateway.db",
        "REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/registry.db",
        "GATEWAY_UPSTREAMS": json.dumps({"registry": f"http://127.0.0.1:{port['registry']}"}),
        "FUPIN_LOG_LEVEL": "WARNING",
    }
    fupin = [sys.executable, "-m", "services.cli"]
    subprocess.run([*fupin, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    demo = [*fupin, "demo-data", "--households", str(args.households)]
    subprocess.run(demo, env=env, cwd=ROOT, check=True, capture_output=True)
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
            processes.append(start_uvicorn(arguments, environment))
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
        print(
            f"load generator: {generator()}, {args.connections} connections, "
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
                load(url, token, args.connections, 2)  # warm-up
                results[name] = load(url, token, args.connections, args.duration)
            print(f"\n{label}: GET {path.replace(household_id, '{id}')}")
            for name, r in results.items():
                share = r.rps / results["direct"].rps * 100
                print(
                    f"  {name:<8} {r.rps:>8.0f} req/s   p50 {r.p50_ms:>7.2f} ms   p99 {r.p99_ms:>7.2f} ms   "
                    f"{share:>5.1f}% of direct   non-2xx {r.non_2xx} {r.socket_errors}"
                )
            if nginx:
                added_gateway = results["gateway"].p50_ms - results["direct"].p50_ms
                added_nginx = results["nginx"].p50_ms - results["direct"].p50_ms
                print(f"  p50 added: gateway {added_gateway:+.2f} ms, nginx {added_nginx:+.2f} ms")
    finally:
        for name in ("nginx", "standin_nginx"):
            stop_nginx(tmp, name)
        stop(processes)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
