"""The gateway and every service as real processes on loopback (the `stack` fixture, one per test module); relief
calls the registry with its own client at the gateway."""

import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services.gateway.auth.service import create_user, ensure_service_client
from services.gateway.models import plumbing as gateway_tables
from shared.db import Database
from shared.migrations import upgrade_async

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "e2e-admin", "an e2e passphrase"
VILLAGE = "500230101201"  # under 虎威镇 (500230101), 丰都县
EVENTS_SECRET = secrets.token_urlsafe(32)  # the internal events secret the processes share
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)


@dataclass
class Stack:
    gateway: Service
    registry: Service
    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    relief: Service | None = None
    env: dict[str, str] = field(default_factory=dict)
    logs: Path | None = None

    async def start_relief(self) -> None:
        """Start relief again on its port (after `self.relief.stop()`)."""
        assert self.relief is not None and self.logs is not None
        self.relief = spawn("relief", "services.relief.app:create_app", self.relief.port, self.env, self.logs)
        await wait_healthy(self.relief)

    async def admin_token(self) -> str:
        if "admin" not in self.tokens:
            response = await self.http.post(
                "/auth/token", data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens["admin"] = response.json()["access_token"]
        return self.tokens["admin"]

    async def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.admin_token()}"}


def spawn(name: str, app: str, port: int, env: dict[str, str], logs: Path) -> Service:
    log = logs / f"{name}.log"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Service(name, port, process, log)


async def wait_healthy(service: Service, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=1, trust_env=False) as client:
        while True:
            if service.process.poll() is not None:
                raise AssertionError(f"{service.name} exited with {service.process.returncode}:\n{service.output()}")
            try:
                if (await client.get(f"{service.url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{service.name} not healthy after {timeout_s} s:\n{service.output()}")
            await asyncio.sleep(0.2)


CIVIL, CIVIL_PASSWORD = "e2e-civil", "a civil-affairs passphrase"
RELIEF_CLIENT, RELIEF_SECRET = "svc-relief", secrets.token_urlsafe(24)


async def create_logins(database_url: str) -> None:
    db = Database(database_url, gateway_tables)
    try:
        async with db.sessions.begin() as session:
            await create_user(
                session,
                username=ADMIN,
                password=ADMIN_PASSWORD,
                display_name="e2e 市级管理员",
                roles=["city_admin"],
                regions=["500000"],
            )
            await create_user(
                session, username=CIVIL, password=CIVIL_PASSWORD, display_name="e2e 民政", roles=["civil_affairs"],
                regions=["500000"],
            )  # fmt: skip
            await ensure_service_client(session, client_id=RELIEF_CLIENT, secret=RELIEF_SECRET, display_name="relief")
    finally:
        await db.dispose()


def _ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return list(ports)


@pytest.fixture(scope="module")
async def stack(databases, tmp_path_factory) -> AsyncIterator[Stack]:
    gateway_db = await databases.create("e2e_gateway")
    registry_db = await databases.create("e2e_registry")
    relief_db = await databases.create("e2e_relief")
    await upgrade_async("gateway", gateway_db)
    await upgrade_async("registry", registry_db)
    await upgrade_async("relief", relief_db)
    await create_logins(gateway_db)

    var_dir = tmp_path_factory.mktemp("e2e-var")
    logs = tmp_path_factory.mktemp("e2e-logs")
    gateway_port, registry_port, relief_port = _ports(3)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and not name.startswith(("GATEWAY_", "REGISTRY_", "RELIEF_", "FUPIN_"))
    }
    upstreams = {"registry": f"http://127.0.0.1:{registry_port}", "relief": f"http://127.0.0.1:{relief_port}"}
    env.update(
        {
            "FUPIN_VAR_DIR": str(var_dir),
            "FUPIN_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
            "FUPIN_PII_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "FUPIN_PII_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "FUPIN_LOG_LEVEL": "WARNING",
            "GATEWAY_DATABASE_URL": gateway_db,
            "GATEWAY_UPSTREAMS": json.dumps(upstreams),
            "FUPIN_SERVICE_URLS": json.dumps(upstreams),
            "GATEWAY_UPSTREAM_TIMEOUT_S": "10",
            "REGISTRY_DATABASE_URL": registry_db,
            "REGISTRY_EVENTS_RETRY_BASE_S": "0.3",
            "REGISTRY_EVENTS_RETRY_CAP_S": "1",  # the tests outlast many attempts in seconds, not minutes
            "REGISTRY_EVENTS_POLL_S": "0.2",
            "FUPIN_EVENTS_SECRET": EVENTS_SECRET,
            "NO_PROXY": "127.0.0.1,localhost",
            "RELIEF_DATABASE_URL": relief_db,
            "RELIEF_CLIENT_ID": RELIEF_CLIENT,
            "RELIEF_CLIENT_SECRET": RELIEF_SECRET,
            "RELIEF_EVENTS_RETRY_BASE_S": "0.3",
            "RELIEF_EVENTS_RETRY_CAP_S": "1",
            "RELIEF_EVENTS_POLL_S": "0.2",
        }
    )
    services: list[Service] = []
    started: Stack | None = None
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=15, trust_env=False)
    try:
        services.append(spawn("gateway", "services.gateway.app:create_app", gateway_port, env, logs))
        await wait_healthy(services[0])
        services.append(spawn("registry", "services.registry.app:create_app", registry_port, env, logs))
        await wait_healthy(services[1])
        started = Stack(gateway=services[0], registry=services[1], http=http, env=env, logs=logs)
        started.relief = spawn("relief", "services.relief.app:create_app", relief_port, env, logs)
        await wait_healthy(started.relief)
        yield started
    finally:
        await http.aclose()
        if started is not None and started.relief is not None:
            started.relief.stop()
        for service in reversed(services):
            service.stop()
