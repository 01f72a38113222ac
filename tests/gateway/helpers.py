"""Helpers for gateway tests: users and clients inside the test's transaction, problem assertions, ports."""

import asyncio
import socket
from collections.abc import Callable

from services.gateway.auth.service import create_client, create_user
from tests.conftest import Api


async def add_user(
    api: Api,
    username: str,
    password: str,
    *,
    roles: tuple[str, ...] = ("county_officer",),
    regions: tuple[str, ...] = ("500230",),
    active: bool = True,
):
    """A user created inside the test's transaction (rolled back with it)."""
    async with api.app.state.session_factory() as session:
        user = await create_user(
            session,
            username=username,
            password=password,
            display_name=f"{username} 测试",
            roles=list(roles),
            regions=list(regions),
        )
        user.active = active
        await session.commit()
        return user


async def add_client(
    api: Api,
    client_id: str,
    secret: str,
    *,
    roles: tuple[str, ...] = ("department_system",),
    regions: tuple[str, ...] = ("500000",),
):
    async with api.app.state.session_factory() as session:
        client = await create_client(
            session,
            client_id=client_id,
            secret=secret,
            display_name=f"{client_id} 系统",
            roles=list(roles),
            regions=list(regions),
        )
        await session.commit()
        return client


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"] == f"urn:fupin:problem:{code}"
    return body


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
