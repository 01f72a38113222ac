"""The gateway and the registry as real processes on loopback: log in, write and read through the gateway only.

Each process gets its own database (migrated first), FUPIN_VAR_DIR in a temporary folder, and the registry
fetches the gateway's JWKS over HTTP. The last test stops the registry and expects 503 from the gateway.
"""

import asyncio
import base64
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

from services.gateway.auth.service import create_user
from services.gateway.keys import SigningKey
from services.gateway.models import plumbing as gateway_tables
from services.gateway.tokens import TokenIssuer
from shared.db import Database
from shared.migrations import upgrade_async
from tests.conftest import AUDIENCE, ISSUER
from tests.registry.factories import household_body

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "e2e-admin", "an e2e passphrase"
VILLAGE = "500230101201"  # under 虎威镇 (500230101), 丰都县
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


async def create_admin(database_url: str) -> None:
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
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
async def stack(databases, tmp_path_factory) -> AsyncIterator[Stack]:
    gateway_db = await databases.create("e2e_gateway")
    registry_db = await databases.create("e2e_registry")
    await upgrade_async("gateway", gateway_db)
    await upgrade_async("registry", registry_db)
    await create_admin(gateway_db)

    var_dir = tmp_path_factory.mktemp("e2e-var")
    logs = tmp_path_factory.mktemp("e2e-logs")
    gateway_port, registry_port = free_port(), free_port()
    while registry_port == gateway_port:
        registry_port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and not name.startswith(("GATEWAY_", "REGISTRY_", "FUPIN_"))
    }
    env.update(
        {
            "FUPIN_VAR_DIR": str(var_dir),
            "FUPIN_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
            "FUPIN_PII_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "FUPIN_PII_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "FUPIN_LOG_LEVEL": "WARNING",
            "GATEWAY_DATABASE_URL": gateway_db,
            "GATEWAY_UPSTREAMS": f'{{"registry": "http://127.0.0.1:{registry_port}"}}',
            "GATEWAY_UPSTREAM_TIMEOUT_S": "10",
            "REGISTRY_DATABASE_URL": registry_db,
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    services: list[Service] = []
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=15, trust_env=False)
    try:
        services.append(spawn("gateway", "services.gateway.app:create_app", gateway_port, env, logs))
        await wait_healthy(services[0])
        services.append(spawn("registry", "services.registry.app:create_app", registry_port, env, logs))
        await wait_healthy(services[1])
        yield Stack(gateway=services[0], registry=services[1], http=http)
    finally:
        await http.aclose()
        for service in reversed(services):
            service.stop()


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


async def test_login_create_and_read_back_through_the_gateway(stack):
    token = await stack.admin_token()
    me = await stack.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == ADMIN

    village = await stack.http.get(f"/api/v1/registry/regions/{VILLAGE[:9]}", headers=await stack.auth())
    assert village.status_code == 200, village.text
    assert village.json()["level"] == "township"

    household = await create_household(stack)
    fetched = await stack.http.get(f"/api/v1/registry/households/{household['id']}", headers=await stack.auth())
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("application/json")
    got = fetched.json()
    assert got["id"] == household["id"]
    assert got["village_code"] == VILLAGE
    assert [m["relation"] for m in got["members"]] == ["head", "spouse"]
    assert got["members"][0]["id_number"] == household["members"][0]["id_number"]

    listed = await stack.http.get("/api/v1/registry/households", params={"region": VILLAGE}, headers=await stack.auth())
    assert listed.status_code == 200, listed.text
    assert household["id"] in [item["id"] for item in listed.json()["items"]]


async def test_registry_problems_pass_through_the_gateway(stack):
    missing = await stack.http.get(
        "/api/v1/registry/households/01a22530-0000-7000-8000-000000000000", headers=await stack.auth()
    )
    assert missing.status_code == 404, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "household_not_found"

    anonymous = await stack.http.get(f"/api/v1/registry/regions/{VILLAGE[:9]}")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthenticated"


async def test_registry_verifies_tokens_with_the_gateways_jwks(stack):
    """A well-formed token signed by any other key is refused by the registry, reached through the gateway."""
    forger = TokenIssuer(SigningKey.generate(), issuer=ISSUER, audience=AUDIENCE, ttl_s=900)
    forged = forger.access_token(subject=ADMIN, kind="user", roles=["city_admin"], regions=["500000"], name="x")
    response = await stack.http.get(
        f"/api/v1/registry/regions/{VILLAGE[:9]}", headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"


async def test_merged_openapi_lists_the_registry(stack):
    response = await stack.http.get("/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert "x-unavailable-services" not in document
    assert "post" in document["paths"]["/api/v1/registry/households"]
    assert "/api/v1/registry/households/{household_id}" in document["paths"]
    assert "/auth/token" in document["paths"]
    for target in _refs(document):
        assert target.removeprefix("#/components/schemas/") in document["components"]["schemas"], target


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


async def test_request_id_round_trip_through_the_gateway(stack):
    response = await stack.http.get(
        f"/api/v1/registry/regions/{VILLAGE[:9]}",
        headers={**(await stack.auth()), "X-Request-ID": "e2e-request-0001"},
    )
    assert response.status_code == 200, response.text
    assert response.headers.get_list("x-request-id") == ["e2e-request-0001"]


# Keep last: it stops the registry.
async def test_registry_down_is_503_through_the_gateway(stack):
    household = await create_household(stack)
    path = f"/api/v1/registry/households/{household['id']}"
    headers = await stack.auth()
    assert (await stack.http.get(path, headers=headers)).status_code == 200

    stack.registry.stop()
    assert stack.registry.process.returncode is not None

    started = time.monotonic()
    response = await stack.http.get(path, headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["instance"] == path
    assert elapsed < 5, elapsed
    # the gateway itself stays up and keeps answering
    assert (await stack.http.get("/healthz")).status_code == 200
    again = await stack.http.get(path, headers=headers)
    assert again.status_code == 503
    assert again.json()["code"] == "service_unavailable"
