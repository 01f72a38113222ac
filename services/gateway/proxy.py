"""Forwarding `/api/v1/<service>/...` to the service, as a plain ASGI app on the lean upstream client.

Bodies stream both ways (small ones, of known size, go in one piece); a service that is down answers 503 and one
that is slow 504, as problem documents; the request id and the caller's address are passed on.
"""

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from services.gateway.errors import ServiceTimeout, ServiceUnavailable
from services.gateway.upstream import UpstreamPool, UpstreamResponse, UpstreamTimeout, UpstreamUnavailable
from shared.errors import DomainError, domain_problem

log = logging.getLogger("fupin.gateway.proxy")

# Not passed on: hop-by-hop headers (RFC 9110 §7.6.1), and those the gateway sets itself.
DROPPED_REQUEST_HEADERS = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
     b"transfer-encoding", b"upgrade", b"host", b"content-length", b"expect", b"x-request-id",
     b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto"}
)  # fmt: skip
DROPPED_RESPONSE_HEADERS = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"trailer", b"x-request-id", b"server",
     b"date"}
)  # fmt: skip
BUFFER_LIMIT = 1 << 20


def pool_for(url: str, *, connect_timeout_s: float, read_timeout_s: float) -> UpstreamPool:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"an upstream is http://host:port, not {url!r}")
    return UpstreamPool(
        parts.hostname, parts.port or 80, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s
    )


class Forwarder:
    def __init__(self, upstreams: dict[str, str], *, timeout_s: float, connect_timeout_s: float):
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.pools = {
            name: pool_for(url, connect_timeout_s=connect_timeout_s, read_timeout_s=timeout_s)
            for name, url in self.upstreams.items()
        }

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        headers: list[tuple[bytes, bytes]] = []
        content_length: int | None = None
        chunked = False
        original_host = b""
        named_hop_by_hop = _connection_tokens(scope["headers"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                content_length = int(value)
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"host":
                original_host = value
            if name not in DROPPED_REQUEST_HEADERS and name not in named_hop_by_hop:
                headers.append((name, value))
        state = scope.get("state") or {}
        if "request_id" in state:
            headers.append((b"x-request-id", state["request_id"].encode()))
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        if original_host:
            headers.append((b"x-forwarded-host", original_host))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        target = scope.get("raw_path") or quote(scope["path"]).encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]

        body: bytes | AsyncIterator[bytes] | None = None
        if content_length is not None and content_length <= BUFFER_LIMIT:
            body = await _read_all(receive) if content_length else None
        elif content_length is not None or chunked:
            body = _stream(receive)

        scope["route_template"] = f"/api/v1/{service}/*"
        upstream: UpstreamResponse | None = None
        started = False
        try:
            upstream = await self.pools[service].request(scope["method"].encode(), target, headers, body)
            named = _connection_tokens(upstream.headers)
            response_headers = [
                (k, v) for k, v in upstream.headers if k not in DROPPED_RESPONSE_HEADERS and k not in named
            ]
            length = upstream.header(b"content-length")
            if length is not None and int(length) <= BUFFER_LIMIT:
                # A small answer of known size leaves in one piece: each write is a system call.
                payload = await upstream.read()
                await send({"type": "http.response.start", "status": upstream.status, "headers": response_headers})
                started = True
                await send({"type": "http.response.body", "body": payload, "more_body": False})
                return
            await send({"type": "http.response.start", "status": upstream.status, "headers": response_headers})
            started = True
            async for chunk in upstream.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        except UpstreamTimeout:
            error: DomainError = ServiceTimeout(service=service)
        except UpstreamUnavailable as exc:
            log.warning("upstream %s unavailable: %s", service, exc)
            error = ServiceUnavailable(service=service, headers={"Retry-After": "5"})
        finally:
            if upstream is not None:
                upstream.release()
        log.warning("upstream %s failed: %s", service, error.code)
        if started:  # the status line is out: all that is left is to cut the response short
            return
        await domain_problem(Request(scope), error)(scope, receive, send)


def _connection_tokens(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names a Connection header lists: hop-by-hop too (RFC 9110 §7.6.1), so not passed on."""
    return frozenset(
        token.strip().lower() for name, value in headers if name == b"connection" for token in value.split(b",")
    )


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
