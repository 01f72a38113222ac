"""The gateway's lean HTTP/1.1 client (services/gateway/upstream.py) against tiny loopback servers, and forwarding
through the gateway app in-process: keep-alive and its limits, body framing both ways, retries, timeouts, headers."""

import asyncio
import hashlib
import random
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.gateway import upstream as upstream_module
from services.gateway.upstream import BUFFER_HIGH, UpstreamPool, UpstreamResponse, UpstreamTimeout, UpstreamUnavailable
from shared.migrations import upgrade_async
from tests.support.gateway import (
    ConnectionHandler,
    SeenRequest,
    ServerConnection,
    TinyServer,
    chunked,
    closed_port,
    gateway_client,
    gateway_served,
    http_response,
    wait_for,
)

MB = 1 << 20


def payload(size: int, seed: int) -> bytes:
    """Bytes that differ everywhere, so a lost, doubled or reordered piece shows."""
    return random.Random(seed).randbytes(size)


def serve(answer: Callable[[SeenRequest], bytes]) -> ConnectionHandler:
    """A keep-alive handler: every request on the connection gets `answer(request)`, until the client closes."""

    async def handler(conn: ServerConnection) -> None:
        while (seen := await conn.request()) is not None:
            await conn.send(answer(seen))

    return handler


def hello(seen: SeenRequest) -> bytes:
    return http_response(200, f"hello {seen.method} {seen.target}".encode(), [("Content-Type", "text/plain")])


@pytest.fixture
def make_pool() -> AsyncIterator[Callable[..., UpstreamPool]]:
    pools: list[UpstreamPool] = []

    def make(port: int, *, read_timeout_s: float = 5.0, connect_timeout_s: float = 2.0) -> UpstreamPool:
        pool = UpstreamPool("127.0.0.1", port, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


async def call(
    pool: UpstreamPool,
    method: bytes = b"GET",
    target: bytes = b"/",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes | AsyncIterator[bytes] | None = None,
) -> UpstreamResponse:
    return await asyncio.wait_for(pool.request(method, target, headers or [], body), 10)


async def fetch(pool: UpstreamPool, method: bytes = b"GET", target: bytes = b"/", **kwargs) -> tuple[int, bytes]:
    """A request read to its end and released; the status and body."""
    response = await call(pool, method, target, **kwargs)
    try:
        return response.status, await asyncio.wait_for(response.read(), 10)
    finally:
        response.release()


def where(server: TinyServer) -> list[tuple[int, str, str]]:
    """Each request the server saw: (connection number, method, target)."""
    return [(seen.connection, seen.method, seen.target) for seen in server.requests]


# --- keep-alive -----------------------------------------------------------------------------------------------


async def test_sequential_requests_reuse_one_connection(make_pool):
    def answer(seen: SeenRequest) -> bytes:
        body = f"answer to {seen.target}".encode()
        return http_response(
            200, body, [("Content-Type", "text/plain; charset=utf-8"), ("X-Custom-Thing", "Mixed-Case")]
        )

    async with TinyServer(serve(answer)) as server:
        pool = make_pool(server.port)
        for n in (1, 2):
            response = await call(pool, b"GET", f"/items/{n}?q=x".encode(), [(b"accept", b"text/plain")])
            assert response.status == 200
            body = f"answer to /items/{n}?q=x".encode()
            assert response.headers == [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"x-custom-thing", b"Mixed-Case"),
                (b"content-length", str(len(body)).encode()),
            ]
            assert response.header(b"x-custom-thing") == b"Mixed-Case"
            assert response.header(b"x-absent") is None
            assert await asyncio.wait_for(response.read(), 5) == body
            response.release()

        assert len(server.connections) == 1
        assert where(server) == [(0, "GET", "/items/1?q=x"), (0, "GET", "/items/2?q=x")]
        for seen in server.requests:
            assert seen.headers == [
                ("host", f"127.0.0.1:{server.port}"),
                ("accept", "text/plain"),
                ("content-length", "0"),
            ]
            assert seen.body == b""


# --- bodies ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["read", "chunks"])
async def test_chunked_answer_is_read_completely(make_pool, how):
    first_piece_seen = asyncio.Event()

    async def handler(conn: ServerConnection) -> None:
        while (seen := await conn.request()) is not None:
            head = http_response(200, headers=[("Transfer-Encoding", "chunked")], content_length=False)
            if seen.target == "/streamed":
                # the first chunk, then the rest only after the client had it: the answer is not waited for whole
                await conn.send(head + b"6\r\nhello \r\n")
                if how == "chunks":
                    await asyncio.wait_for(first_piece_seen.wait(), 5)
                await conn.send(b"8\r\nchunked \r\n5;ext=1\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n")
            else:
                await conn.send(head + chunked(b"second ", b"answer"))

    async with TinyServer(handler) as server:
        pool = make_pool(server.port)
        response = await call(pool, target=b"/streamed")
        assert response.status == 200
        assert response.header(b"transfer-encoding") == b"chunked"
        if how == "read":
            body = await asyncio.wait_for(response.read(), 5)
        else:
            pieces = []
            async for piece in response.chunks():
                pieces.append(piece)
                first_piece_seen.set()
            body = b"".join(pieces)
            assert pieces[0] == b"hello "
        assert body == b"hello chunked world"
        response.release()

        # the end of the chunked answer was found: the connection serves the next request
        assert await fetch(pool, target=b"/next") == (200, b"second answer")
        assert where(server) == [(0, "GET", "/streamed"), (0, "GET", "/next")]


async def test_large_answer_arrives_intact_with_a_slow_reader(make_pool):
    big = payload(3 * MB + 7, seed=1)

    def answer(seen: SeenRequest) -> bytes:
        return http_response(
            200, big if seen.target == "/big" else b"small", [("Content-Type", "application/octet-stream")]
        )

    async with TinyServer(serve(answer)) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/big") == (200, big)

        # a reader that stops for a while: the client stops reading from the service instead of buffering it all
        response = await call(pool, target=b"/big")
        assert response.header(b"content-length") == str(len(big)).encode()
        chunks = response.chunks()
        pieces = [await asyncio.wait_for(anext(chunks), 5)]
        await asyncio.sleep(0.3)
        assert response.conn._buffered <= BUFFER_HIGH + MB // 2, response.conn._buffered
        pieces += [piece async for piece in chunks]
        response.release()
        assert b"".join(pieces) == big

        assert await fetch(pool, target=b"/small") == (200, b"small")
        assert len(server.connections) == 1


async def test_large_streamed_request_body_is_sent_chunked_and_arrives_intact(make_pool):
    big = payload(2 * MB + 12345, seed=2)

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]
            if start == 0:
                yield b""  # an empty piece must not end the chunked body early

    def answer(seen: SeenRequest) -> bytes:
        return http_response(201, hashlib.sha256(seen.body).hexdigest().encode())

    async with TinyServer(serve(answer)) as server:
        pool = make_pool(server.port)
        status, digest = await fetch(
            pool, b"POST", b"/upload", headers=[(b"content-type", b"application/x")], body=body()
        )
        assert (status, digest) == (201, hashlib.sha256(big).hexdigest().encode())
        seen = server.requests[0]
        assert seen.chunked
        assert seen.header("transfer-encoding") == "chunked"
        assert seen.header("content-length") is None
        assert seen.header("content-type") == "application/x"
        assert len(seen.body) == len(big)
        assert seen.body == big

        # the chunked framing ended where it should: the next request on the connection is read right
        assert await fetch(pool, target=b"/after") == (201, hashlib.sha256(b"").hexdigest().encode())
        assert where(server) == [(0, "POST", "/upload"), (0, "GET", "/after")]


async def test_request_body_framing_bytes_and_none(make_pool):
    async with TinyServer(serve(hello)) as server:
        pool = make_pool(server.port)
        document = '{"name": "张三", "n": 1}'.encode()
        assert (await fetch(pool, b"POST", b"/a", body=document))[0] == 200
        assert (await fetch(pool, b"PUT", b"/b", body=b""))[0] == 200
        assert (await fetch(pool, b"DELETE", b"/c", body=None))[0] == 200
        assert (await fetch(pool, b"GET", b"/d"))[0] == 200

        assert where(server) == [(0, "POST", "/a"), (0, "PUT", "/b"), (0, "DELETE", "/c"), (0, "GET", "/d")]
        with_bytes, empty, none, get = server.requests
        assert with_bytes.header("content-length") == str(len(document))
        assert with_bytes.body == document
        for seen in (with_bytes, empty, none, get):
            assert seen.header("transfer-encoding") is None
            assert not seen.chunked
        for seen in (empty, none, get):
            assert seen.header("content-length") == "0"
            assert seen.body == b""


# --- connections that end -------------------------------------------------------------------------------------


async def test_connection_close_from_the_server_is_not_reused(make_pool):
    def answer(seen: SeenRequest) -> bytes:
        return http_response(200, f"once {seen.target}".encode(), [("Connection", "close")])

    async with TinyServer(serve(answer)) as server:  # the server leaves the connection open: the client must not use it
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"once /1")
        assert await fetch(pool, target=b"/2") == (200, b"once /2")
        assert where(server) == [(0, "GET", "/1"), (1, "GET", "/2")]
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof  # the client closed it


async def test_idle_connection_closed_by_the_server_is_replaced(make_pool):
    async def handler(conn: ServerConnection) -> None:
        if conn.index == 0:
            seen = await conn.request()
            assert seen is not None
            await conn.send(hello(seen))
            return  # and close: a service ending an idle keep-alive connection
        await serve(hello)(conn)

    async with TinyServer(handler) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"hello GET /1")
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        await wait_for(lambda: all(conn.closed for conn in pool._idle), 5)

        assert await fetch(pool, target=b"/2") == (200, b"hello GET /2")
        assert where(server) == [(0, "GET", "/1"), (1, "GET", "/2")]


async def test_connection_idle_longer_than_idle_max_is_not_reused(make_pool, monkeypatch):
    monkeypatch.setattr(upstream_module, "IDLE_MAX_S", 0.05)
    async with TinyServer(serve(hello)) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"hello GET /1")
        await asyncio.sleep(0.2)
        assert await fetch(pool, target=b"/2") == (200, b"hello GET /2")
        assert where(server) == [(0, "GET", "/1"), (1, "GET", "/2")]
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof  # the stale one was closed by the client, not left open


def drops_the_second_request(*, later: ConnectionHandler | None) -> ConnectionHandler:
    """Connection 0 answers one request, reads the next and closes without a word; later ones use `later`."""

    async def handler(conn: ServerConnection) -> None:
        if conn.index == 0:
            seen = await conn.request()
            assert seen is not None
            await conn.send(hello(seen))
            await conn.request()
            return
        if later is not None:
            await later(conn)
        else:
            await conn.request()  # and close again

    return handler


async def test_get_on_a_connection_closed_as_it_is_used_is_retried_once(make_pool):
    async with TinyServer(drops_the_second_request(later=serve(hello))) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"hello GET /1")
        assert await fetch(pool, target=b"/2?x=1", headers=[(b"accept", b"*/*")]) == (200, b"hello GET /2?x=1")
        assert where(server) == [(0, "GET", "/1"), (0, "GET", "/2?x=1"), (1, "GET", "/2?x=1")]
        assert server.requests[1].headers == server.requests[2].headers  # the same request, again


async def test_get_is_retried_only_once(make_pool):
    async with TinyServer(drops_the_second_request(later=None)) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"hello GET /1")
        with pytest.raises(UpstreamUnavailable):
            await call(pool, target=b"/2")
        await asyncio.sleep(0.1)
        assert where(server) == [(0, "GET", "/1"), (0, "GET", "/2"), (1, "GET", "/2")]


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.mark.parametrize(
    ("method", "body"),
    [(b"POST", lambda: b"pay once"), (b"PATCH", lambda: b"pay once"), (b"PUT", lambda: once(b"pay once"))],
    ids=["post", "patch", "put-streamed"],
)
async def test_request_that_cannot_be_repeated_is_not_retried(make_pool, method, body):
    async with TinyServer(drops_the_second_request(later=serve(hello))) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"hello GET /1")
        with pytest.raises(UpstreamUnavailable):
            await call(pool, method, b"/payments", body=body())
        await asyncio.sleep(0.1)
        assert where(server) == [(0, "GET", "/1"), (0, method.decode(), "/payments")]
        assert server.requests[1].body == b"pay once"
        assert len(server.connections) == 1


async def test_get_is_not_retried_after_part_of_an_answer(make_pool):
    async def handler(conn: ServerConnection) -> None:
        seen = await conn.request()
        assert seen is not None
        await conn.send(hello(seen))
        await conn.request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Le")  # then closes

    async with TinyServer(handler) as server:
        pool = make_pool(server.port)
        assert await fetch(pool, target=b"/1") == (200, b"hello GET /1")
        with pytest.raises(UpstreamUnavailable):
            await call(pool, target=b"/2")
        await asyncio.sleep(0.1)
        assert where(server) == [(0, "GET", "/1"), (0, "GET", "/2")]
        assert len(server.connections) == 1


# --- answers without a body -----------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", [("Content-Length", "12345"), ("Transfer-Encoding", "chunked")])
async def test_head_answer_has_no_body_and_its_connection_is_not_reused(make_pool, framing):
    def answer(seen: SeenRequest) -> bytes:
        if seen.method == "HEAD":
            return http_response(200, headers=[framing, ("ETag", '"v1"')], content_length=False)
        return hello(seen)

    async with TinyServer(serve(answer)) as server:
        pool = make_pool(server.port, read_timeout_s=5.0)
        response = await call(pool, b"HEAD", b"/resource")
        assert response.status == 200
        assert response.header(framing[0].lower().encode()) == framing[1].encode()
        assert response.header(b"etag") == b'"v1"'
        started = time.monotonic()
        assert await asyncio.wait_for(response.read(), 1) == b""
        assert time.monotonic() - started < 0.5
        response.release()

        assert await fetch(pool, target=b"/after") == (200, b"hello GET /after")
        assert where(server) == [(0, "HEAD", "/resource"), (1, "GET", "/after")]
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof


@pytest.mark.parametrize(
    ("status", "head"),
    [
        (204, b"HTTP/1.1 204 No Content\r\nX-Done: yes\r\n\r\n"),
        (304, b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 100\r\n\r\n'),
    ],
)
async def test_answer_without_body_then_another_request_on_the_same_connection(make_pool, status, head):
    def answer(seen: SeenRequest) -> bytes:
        return head if seen.target == "/empty" else hello(seen)

    async with TinyServer(serve(answer)) as server:
        pool = make_pool(server.port)
        response = await call(pool, target=b"/empty")
        assert response.status == status
        assert await asyncio.wait_for(response.read(), 1) == b""
        response.release()
        assert await fetch(pool, target=b"/next") == (200, b"hello GET /next")
        assert where(server) == [(0, "GET", "/empty"), (0, "GET", "/next")]


# --- failures -------------------------------------------------------------------------------------------------


async def test_nothing_listening_is_unavailable_quickly(make_pool):
    pool = make_pool(closed_port(), connect_timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        await call(pool)
    assert time.monotonic() - started < 1.0


async def test_server_that_never_answers_times_out(make_pool):
    async def handler(conn: ServerConnection) -> None:
        await conn.request()
        await conn.wait_closed_by_client(10)

    async with TinyServer(handler) as server:
        pool = make_pool(server.port, read_timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            await call(pool, target=b"/slow")
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 1.5, elapsed
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof  # the client gave the connection up
        assert where(server) == [(0, "GET", "/slow")]


@pytest.mark.parametrize("how", ["read", "chunks"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_answer_stalling_mid_body_times_out(make_pool, how, framing):
    async def handler(conn: ServerConnection) -> None:
        await conn.request()
        if framing == "length":
            await conn.send(
                http_response(200, headers=[("Content-Length", "100")], content_length=False) + b"0123456789"
            )
        else:
            head = http_response(200, headers=[("Transfer-Encoding", "chunked")], content_length=False)
            await conn.send(head + b"a\r\n0123456789\r\n")
        await conn.wait_closed_by_client(10)

    async with TinyServer(handler) as server:
        pool = make_pool(server.port, read_timeout_s=0.3)
        response = await call(pool)
        assert response.status == 200
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            if how == "read":
                await asyncio.wait_for(response.read(), 5)
            else:
                chunks = response.chunks()
                assert await asyncio.wait_for(anext(chunks), 5) == b"0123456789"
                await asyncio.wait_for(anext(chunks), 5)
        assert 0.25 <= time.monotonic() - started < 1.5
        response.release()
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof


@pytest.mark.parametrize(
    "garbage", [b"garbage, not HTTP at all\r\n\r\n", b"HTTP/1.1 abc Nope\r\n\r\n", b"\x00\xff" * 100]
)
async def test_garbage_instead_of_http_is_unavailable(make_pool, garbage):
    async def handler(conn: ServerConnection) -> None:
        await conn.request()
        await conn.send(garbage)
        await conn.wait_closed_by_client(10)

    async with TinyServer(handler) as server:
        pool = make_pool(server.port, read_timeout_s=5.0)
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable):
            await call(pool)
        assert time.monotonic() - started < 1.0  # at once, not after the read timeout
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_server_closing_mid_body_is_unavailable(make_pool, framing):
    async def handler(conn: ServerConnection) -> None:
        await conn.request()
        if framing == "length":
            await conn.send(
                http_response(200, headers=[("Content-Length", "100")], content_length=False) + b"0123456789"
            )
        else:
            head = http_response(200, headers=[("Transfer-Encoding", "chunked")], content_length=False)
            await conn.send(head + b"a\r\n0123456789\r\n")
        # and close

    async with TinyServer(handler) as server:
        pool = make_pool(server.port, read_timeout_s=5.0)
        response = await call(pool)
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable):
            await asyncio.wait_for(response.read(), 5)
        assert time.monotonic() - started < 1.0
        response.release()
        assert not pool._idle


# --- release --------------------------------------------------------------------------------------------------


async def test_release_after_the_whole_answer_returns_the_connection_to_the_pool(make_pool):
    async with TinyServer(serve(hello)) as server:
        pool = make_pool(server.port)
        response = await call(pool, target=b"/1")
        assert not pool._idle
        assert await asyncio.wait_for(response.read(), 5) == b"hello GET /1"
        response.release()
        response.release()  # twice does no harm
        assert list(pool._idle) == [response.conn]
        assert not response.conn.closed

        second = await call(pool, target=b"/2")
        assert second.conn is response.conn
        assert await asyncio.wait_for(second.read(), 5) == b"hello GET /2"
        second.release()
        assert len(server.connections) == 1


async def test_release_of_a_half_read_answer_closes_the_connection(make_pool):
    half = payload(64 * 1024, seed=3)

    async def handler(conn: ServerConnection) -> None:
        if conn.index == 0:
            await conn.request()
            head = http_response(200, headers=[("Content-Length", str(2 * len(half)))], content_length=False)
            await conn.send(head + half)
            await conn.wait_closed_by_client(5)  # the rest is never sent: the client must give up the connection
            return
        await serve(hello)(conn)

    async with TinyServer(handler) as server:
        pool = make_pool(server.port)
        response = await call(pool, target=b"/big")
        chunks = response.chunks()
        first = await asyncio.wait_for(anext(chunks), 5)
        assert first and half.startswith(first)
        await chunks.aclose()
        response.release()
        assert response.conn.closed
        assert not pool._idle
        await asyncio.wait_for(server.connections[0].ended.wait(), 5)
        assert server.connections[0].saw_eof

        assert await fetch(pool, target=b"/next") == (200, b"hello GET /next")
        assert where(server) == [(0, "GET", "/big"), (1, "GET", "/next")]


# --- through the gateway --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def gateway_db(databases) -> str:
    url = await databases.create("gateway_upstream")
    await upgrade_async("gateway", url)
    return url


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_gateway_streams_a_large_answer_intact(gateway_db, framing):
    big = payload(3 * MB + 1, seed=4)

    def answer(seen: SeenRequest) -> bytes:
        if framing == "length":
            return http_response(200, big, [("Content-Type", "application/octet-stream")])
        head = http_response(200, headers=[("Transfer-Encoding", "chunked")], content_length=False)
        return head + chunked(*(big[i : i + 100_000] for i in range(0, len(big), 100_000)))

    async with TinyServer(serve(answer)) as server, gateway_client(gateway_db, {"registry": server.url}) as http:
        for _ in range(2):
            response = await http.get("/api/v1/registry/exports/all")
            assert response.status_code == 200
            assert len(response.content) == len(big)
            assert response.content == big
            if framing == "length":
                assert response.headers["content-length"] == str(len(big))
            assert "transfer-encoding" not in response.headers  # the server in front does the framing
        assert where(server) == [(0, "GET", "/api/v1/registry/exports/all")] * 2  # one pooled connection


async def test_gateway_sends_a_large_request_body_intact(gateway_db):
    big = payload(2 * MB + 3, seed=5)

    def answer(seen: SeenRequest) -> bytes:
        return http_response(201, hashlib.sha256(seen.body).hexdigest().encode())

    async with TinyServer(serve(answer)) as server, gateway_client(gateway_db, {"registry": server.url}) as http:
        response = await http.post(
            "/api/v1/registry/uploads", content=big, headers={"Content-Type": "application/octet-stream"}
        )
        assert response.status_code == 201, response.text
        assert response.content == hashlib.sha256(big).hexdigest().encode()
        seen = server.requests[0]
        assert seen.body == big
        assert seen.header("content-type") == "application/octet-stream"
        assert seen.chunked and seen.header("content-length") is None  # too large to hold: streamed

        small = await http.post("/api/v1/registry/uploads", content=b"tiny")
        assert small.status_code == 201
        assert server.requests[1].header("content-length") == "4"
        assert server.requests[1].body == b"tiny"


async def test_gateway_head(gateway_db):
    def answer(seen: SeenRequest) -> bytes:
        if seen.method == "HEAD":
            return http_response(200, headers=[("Content-Length", "5000"), ("ETag", '"v7"')], content_length=False)
        return hello(seen)

    async with TinyServer(serve(answer)) as server, gateway_client(gateway_db, {"registry": server.url}) as http:
        head = await asyncio.wait_for(http.head("/api/v1/registry/households/1"), 5)
        assert head.status_code == 200
        assert head.headers["content-length"] == "5000"
        assert head.headers["etag"] == '"v7"'
        assert head.content == b""

        after = await asyncio.wait_for(http.get("/api/v1/registry/households/1"), 5)
        assert after.status_code == 200
        assert after.content == b"hello GET /api/v1/registry/households/1"
        assert [(method, target) for _, method, target in where(server)] == [
            ("HEAD", "/api/v1/registry/households/1"),
            ("GET", "/api/v1/registry/households/1"),
        ]


async def test_gateway_passes_query_and_encoded_path_unchanged(gateway_db):
    targets = [
        "/api/v1/registry/households/a%2Fb/%E9%87%8D%E5%BA%86%20x?q=%E4%B8%AD&tag=a+b&tag=c&empty=&flag",
        "/api/v1/registry/files/%25percent%3Fnot-a-query;param=1?redirect=%2Fhome%3Fa%3D1",
        "/api/v1/registry/households?region=500230&status=not_lifted",
    ]
    async with TinyServer(serve(hello)) as server, gateway_client(gateway_db, {"registry": server.url}) as http:
        for target in targets:
            response = await http.get(httpx.URL("http://test" + target))
            assert response.status_code == 200, response.text
        assert [seen.target for seen in server.requests] == targets
        assert len(server.connections) == 1  # forwarded requests share one pooled connection


async def test_gateway_sets_forwarded_headers_and_drops_hop_by_hop(gateway_db):
    async with TinyServer(serve(hello)) as server, gateway_client(gateway_db, {"registry": server.url}) as http:
        response = await http.get(
            "/api/v1/registry/x",
            headers={
                "Connection": "keep-alive",
                "Keep-Alive": "timeout=5",
                "TE": "trailers",
                "Upgrade": "websocket",
                "Proxy-Authorization": "Basic c2VjcmV0",
                "X-Forwarded-For": "10.9.9.9",
                "X-Forwarded-Host": "evil.example",
                "X-Forwarded-Proto": "https",
                "X-Kept": "yes",
                "Authorization": "Bearer a.b.c",
            },
        )
        assert response.status_code == 200
        seen = server.requests[0]
        names = [name for name, _ in seen.headers]
        for hop in ("connection", "keep-alive", "te", "upgrade", "proxy-authorization"):
            assert hop not in names, seen.headers
        assert seen.header_list("x-forwarded-for") == ["127.0.0.1"]
        assert seen.header_list("x-forwarded-host") == ["test"]
        assert seen.header_list("x-forwarded-proto") == ["http"]
        assert seen.header_list("host") == [f"127.0.0.1:{server.port}"]
        assert seen.header("x-kept") == "yes"
        assert seen.header("authorization") == "Bearer a.b.c"


async def test_gateway_drops_request_headers_named_in_connection(gateway_db):
    """RFC 9110 §7.6.1: a proxy removes the fields a Connection header names, as well as Connection itself."""
    async with TinyServer(serve(hello)) as server, gateway_client(gateway_db, {"registry": server.url}) as http:
        response = await http.get(
            "/api/v1/registry/x", headers={"Connection": "close, X-Hop-Only", "X-Hop-Only": "1", "X-Kept": "yes"}
        )
        assert response.status_code == 200
        seen = server.requests[0]
        assert seen.header("x-kept") == "yes"
        assert seen.header("x-hop-only") is None, seen.headers


def upstream_with_its_own_headers(seen: SeenRequest) -> bytes:
    return http_response(
        200,
        b"mine",
        [
            ("Server", "tiny-upstream/1.0"),
            ("Date", "Sat, 01 Jan 2000 00:00:00 GMT"),
            ("X-Request-ID", "made-by-the-upstream"),
            ("Connection", "keep-alive"),
            ("Keep-Alive", "timeout=5"),
            ("X-Service-Header", "kept"),
        ],
    )


async def test_gateway_replaces_upstream_server_date_and_request_id(gateway_db):
    async with (
        TinyServer(serve(upstream_with_its_own_headers)) as server,
        gateway_client(gateway_db, {"registry": server.url}) as http,
    ):
        response = await http.get("/api/v1/registry/x", headers={"X-Request-ID": "gw-req-0001"})
        assert response.status_code == 200
        assert response.content == b"mine"
        assert server.requests[0].header("x-request-id") == "gw-req-0001"
        assert response.headers.get_list("x-request-id") == ["gw-req-0001"]
        assert "tiny-upstream/1.0" not in response.headers.get_list("server")
        assert "Sat, 01 Jan 2000 00:00:00 GMT" not in response.headers.get_list("date")
        assert "keep-alive" not in response.headers
        assert "connection" not in response.headers
        assert response.headers["x-service-header"] == "kept"


async def test_gateway_under_uvicorn_answers_with_its_own_server_and_date(gateway_db):
    async with (
        TinyServer(serve(upstream_with_its_own_headers)) as server,
        gateway_served(gateway_db, {"registry": server.url}) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as http,
    ):
        response = await asyncio.wait_for(http.get("/api/v1/registry/x", headers={"X-Request-ID": "gw-req-0002"}), 10)
        assert response.status_code == 200
        assert response.content == b"mine"
        assert response.headers.get_list("server") == ["uvicorn"]
        dates = response.headers.get_list("date")
        assert len(dates) == 1 and dates[0] != "Sat, 01 Jan 2000 00:00:00 GMT", dates
        assert response.headers.get_list("x-request-id") == ["gw-req-0002"]
        assert response.headers["x-service-header"] == "kept"
        assert server.requests[0].header("x-forwarded-for") == "127.0.0.1"
        assert server.requests[0].header("x-forwarded-host") == base_url.removeprefix("http://")
