"""The end-to-end tests' stack: the gateway and every service as real processes on loopback (`spawn`, each one's
`Service` with its log, `wait_healthy`; `Stack`, what the `stack` fixture of tests/e2e/conftest.py starts), the
logins and the events secret they share, and calls through the gateway: a household in the test village, health
events recorded, relief's cases read as civil affairs, and waiting `until` something is seen."""

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.registry import household_body

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "e2e-admin", "an e2e passphrase"
VILLAGE = "500230101201"  # under 虎威镇 (500230101), 丰都县
EVENTS_SECRET = secrets.token_urlsafe(32)  # the internal events secret the processes share
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
CIVIL, CIVIL_PASSWORD = "e2e-civil", "a civil-affairs passphrase"
WAIT_S = 30.0


# --- the processes --------------------------------------------------------------------------------------------------


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


# --- calls through the gateway --------------------------------------------------------------------------------------


async def create_household(stack: Stack) -> dict:
    headers = await stack.auth()
    village = await stack.http.post(
        "/api/v1/registry/regions", json={"code": VILLAGE, "name": "e2e 测试村"}, headers=headers
    )
    assert village.status_code in (201, 409), village.text
    if village.status_code == 409:
        assert village.json()["code"] == "region_exists", village.text
    body = household_body(VILLAGE)
    created = await stack.http.post(
        "/api/v1/registry/households",
        json=body,
        headers={**headers, "Idempotency-Key": secrets.token_hex(8)},
    )
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["household_no"] == body["household_no"]
    return household


async def civil_headers(stack: Stack) -> dict[str, str]:
    if "civil" not in stack.tokens:
        response = await stack.http.post(
            "/auth/token", data={"grant_type": "password", "username": CIVIL, "password": CIVIL_PASSWORD}
        )
        assert response.status_code == 200, response.text
        stack.tokens["civil"] = response.json()["access_token"]
    return {"Authorization": f"Bearer {stack.tokens['civil']}"}


async def record(stack: Stack, person_id: str, body: dict) -> None:
    response = await stack.http.post(
        f"/api/v1/registry/persons/{person_id}/health-events", json=body, headers=await stack.auth()
    )
    assert response.status_code == 201, response.text


async def cases_of(stack: Stack, person_id: str) -> list[dict]:
    response = await stack.http.get(
        "/api/v1/relief/cases", params={"person_id": person_id}, headers=await civil_headers(stack)
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def until(check, what: str):
    """The first truthy answer of `check()` within WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        answer = await check()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"not within {WAIT_S} s: {what}"
        await asyncio.sleep(0.2)
