"""Forwarding `/api/v1/<service>/...` to the service, as a plain ASGI app on aiohttp's client.

Measured in ../shared/PERFORMANCE.md: a forwarding route on httpx keeps 5–10% of a direct call's throughput,
aiohttp's pooled client 55–73%; this path also skips FastAPI's routing and validation, which the service does.
Bodies stream both ways; a service that is down answers 503 and one that is slow 504, as problem documents.
"""

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from services.gateway.errors import ServiceTimeout, ServiceUnavailable
from shared.errors import DomainError, domain_problem

log = logging.getLogger("fupin.gateway.proxy")

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)
BUFFER_LIMIT = 1 << 20


class Forwarder:
    def __init__(self, upstreams: dict[str, str], *, timeout_s: float, connect_timeout_s: float):
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=timeout_s)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=256, ttl_dns_cache=300, keepalive_timeout=30)
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=self.timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        assert self.session is not None
        headers: list[tuple[str, str]] = []
        content_length: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                content_length = int(value)
            if name not in HOP_BY_HOP and name != b"x-request-id":
                headers.append((name.decode("latin-1"), value.decode("latin-1")))
        state = scope.get("state") or {}
        if "request_id" in state:
            headers.append(("X-Request-ID", state["request_id"]))
        client = scope.get("client")
        if client:
            headers.append(("X-Forwarded-For", client[0]))
        raw_path = scope.get("raw_path") or quote(scope["path"]).encode()
        url = self.upstreams[service] + raw_path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")

        body: bytes | AsyncIterator[bytes] | None
        if content_length is not None and content_length <= BUFFER_LIMIT:
            body = await _read_all(receive) if content_length else None
        else:
            has_body = content_length is not None or any(n == b"transfer-encoding" for n, _ in scope["headers"])
            body = _stream(receive) if has_body else None

        scope["route_template"] = f"/api/v1/{service}/*"
        started = False
        try:
            async with self.session.request(
                scope["method"], url, headers=headers, data=body, allow_redirects=False, compress=None
            ) as upstream:
                # X-Request-ID is set by the gateway's own middleware (the same id the service was given).
                response_headers = [
                    (k.lower(), v)
                    for k, v in upstream.raw_headers
                    if k.lower() not in HOP_BY_HOP and k.lower() != b"x-request-id"
                ]
                length = upstream.headers.get("Content-Length")
                if length is not None:
                    response_headers.append((b"content-length", length.encode()))
                await send({"type": "http.response.start", "status": upstream.status, "headers": response_headers})
                started = True
                async for chunk in upstream.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
        except (TimeoutError, aiohttp.ServerTimeoutError):
            error: DomainError = ServiceTimeout(service=service)
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError):
            error = ServiceUnavailable(service=service, headers={"Retry-After": "5"})
        log.warning("upstream %s failed: %s", service, error.code)
        if started:  # the status line is out: all that is left is to cut the response short
            return
        await domain_problem(Request(scope), error)(scope, receive, send)


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _stream(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
