"""The gateway and every service as real processes on loopback (the `stack` fixture, one per test module), each
with a database of its own and the logins of the tests; relief calls the registry with its own client at the
gateway. The processes and the calls through the gateway are helpers of tests/support/e2e.py."""

import base64
import json
import os
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from services.gateway.auth.service import create_user, ensure_service_client
from services.gateway.models import plumbing as gateway_tables
from shared.db import Database
from shared.migrations import upgrade_async
from tests.support.e2e import (
    ADMIN,
    ADMIN_PASSWORD,
    CIVIL,
    CIVIL_PASSWORD,
    EVENTS_SECRET,
    Service,
    Stack,
    free_port,
    spawn,
    wait_healthy,
)

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
