"""Forwarding /api/v1/<service>/...: a service that is down (503), slow (504), unknown (404); request ids."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest

from services.gateway.settings import gateway_settings
from shared.migrations import upgrade_async
from tests.support.gateway import assert_problem, closed_port, gateway_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Upstream:
    """A tiny HTTP server on loopback, standing in for a service."""

    def __init__(self, handler: Handler):
        self.handler = handler
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass

    async def __aenter__(self) -> "Upstream":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.wait_for(self.server.wait_closed(), 5)


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(length), 5) if length else b""
    return method, target, headers, body


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(3600)


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers with what it received; echoes X-Request-ID the way fupin services do."""
    method, target, headers, body = await read_request(reader)
    payload = json.dumps({"method": method, "target": target, "headers": headers, "body": body.decode()}).encode()
    response_headers = [
        "HTTP/1.1 201 Created",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "X-Upstream: echo",
        "Connection: close",
    ]
    if "x-request-id" in headers:
        response_headers.append(f"X-Request-ID: {headers['x-request-id']}")
    writer.write(("\r\n".join(response_headers) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    writer.close()


@pytest.fixture(scope="module")
async def gateway_db(databases) -> str:
    url = await databases.create("gateway_proxy")
    await upgrade_async("gateway", url)
    return url


async def test_service_down_is_503(gateway_db):
    async with gateway_client(gateway_db, {"registry": f"http://127.0.0.1:{closed_port()}"}) as http:
        started = time.monotonic()
        response = await http.get("/api/v1/registry/anything", headers={"Accept-Language": "en"})
        elapsed = time.monotonic() - started
        body = assert_problem(response, 503, "service_unavailable")
        assert elapsed < 3, elapsed
        assert body["instance"] == "/api/v1/registry/anything"
        assert "registry" in body["title"]
        assert response.headers["retry-after"] == "5"

        posted = await http.post("/api/v1/registry/households", json={"household_no": "x"})
        assert_problem(posted, 503, "service_unavailable")


async def test_service_that_never_answers_is_504_within_the_timeout(gateway_db):
    timeout_s = 0.5
    async with Upstream(never_answers) as upstream:
        env = {"GATEWAY_UPSTREAM_TIMEOUT_S": str(timeout_s)}
        async with gateway_client(gateway_db, {"registry": upstream.url}, env) as http:
            started = time.monotonic()
            response = await asyncio.wait_for(http.get("/api/v1/registry/households"), 10)
            elapsed = time.monotonic() - started
            assert_problem(response, 504, "service_timeout")
            assert timeout_s * 0.8 <= elapsed < timeout_s + 2, elapsed
            assert upstream.connections >= 1  # it did reach the upstream
    assert gateway_settings().upstream_timeout_s == 30.0  # the setting was put back


async def test_unknown_service_is_404_problem(gateway_db):
    async with gateway_client(gateway_db, {"registry": f"http://127.0.0.1:{closed_port()}"}) as http:
        for path in ("/api/v1/nosuch/x", "/api/v1/nosuch", "/api/v1/registryx/households"):
            response = await http.get(path, headers={"Accept-Language": "en"})
            body = assert_problem(response, 404, "unknown_service")
            assert body["instance"] == path


async def test_request_id_comes_back_on_a_gateway_problem(gateway_db):
    async with gateway_client(gateway_db, {"registry": f"http://127.0.0.1:{closed_port()}"}) as http:
        response = await http.get("/api/v1/registry/x", headers={"X-Request-ID": "client-req-0001"})
        assert_problem(response, 503, "service_unavailable")
        assert response.headers.get_list("x-request-id") == ["client-req-0001"]
        assert response.json()["request_id"] == "client-req-0001"


async def test_request_id_is_forwarded_and_comes_back_once(gateway_db):
    async with Upstream(echo) as upstream, gateway_client(gateway_db, {"registry": upstream.url}) as http:
        response = await http.get("/api/v1/registry/households", headers={"X-Request-ID": "client-req-0002"})
        assert response.status_code == 201, response.text
        assert response.json()["headers"]["x-request-id"] == "client-req-0002"
        assert response.headers.get_list("x-request-id") == ["client-req-0002"]


async def test_an_unusable_request_id_is_replaced(gateway_db):
    async with Upstream(echo) as upstream, gateway_client(gateway_db, {"registry": upstream.url}) as http:
        response = await http.get("/api/v1/registry/x", headers={"X-Request-ID": "bad id with spaces"})
        assert response.status_code == 201
        sent_upstream = response.json()["headers"]["x-request-id"]
        assert sent_upstream != "bad id with spaces"
        assert response.headers.get_list("x-request-id") == [sent_upstream]


async def test_request_is_forwarded_as_sent(gateway_db):
    async with Upstream(echo) as upstream, gateway_client(gateway_db, {"registry": upstream.url}) as http:
        response = await http.post(
            "/api/v1/registry/households?region=500230&status=not_lifted",
            content=b'{"household_no": "1"}',
            headers={
                "Authorization": "Bearer abc.def.ghi",
                "Content-Type": "application/json",
                "Idempotency-Key": "k-1",
                "Proxy-Authorization": "Basic secret",
            },
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-upstream"] == "echo"
        seen = response.json()
        assert seen["method"] == "POST"
        assert seen["target"] == "/api/v1/registry/households?region=500230&status=not_lifted"
        assert seen["body"] == '{"household_no": "1"}'
        assert seen["headers"]["authorization"] == "Bearer abc.def.ghi"
        assert seen["headers"]["idempotency-key"] == "k-1"
        assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert "proxy-authorization" not in seen["headers"]


async def test_gateway_routes_are_not_forwarded(gateway_db):
    async with gateway_client(gateway_db, {"registry": f"http://127.0.0.1:{closed_port()}"}) as http:
        assert (await http.get("/healthz")).status_code == 200
        jwks = await http.get("/.well-known/jwks.json")
        assert jwks.status_code == 200
        audit = await http.get("/api/v1/gateway/audit")
        assert_problem(audit, 401, "unauthenticated")
