"""A lean HTTP/1.1 client for the gateway's forwarding path: pooled keep-alive connections, httptools parsing.

Why not a general client: measured on this project's box (bench/gateway), forwarding through aiohttp's client kept
60–65% of a direct call's throughput and httpx's far less (measured with bench/gateway), while a protocol on
asyncio's transports with the same parser uvicorn uses keeps close to all of it. The forwarding path needs only a
small part of HTTP: one request at a time per connection, bodies by length or chunked, both ways streamed with
flow control. The typed service-to-service clients stay on httpx (shared/clients.py).
"""

import asyncio
import collections
import time
from collections.abc import AsyncIterator

import httptools

BUFFER_HIGH = 1 << 20  # pause reading from the service when this much of its answer waits to be sent on
IDLE_MAX_S = 2.0  # below uvicorn's 5 s keep-alive, so a pooled connection is not one the service is closing
RETRY_METHODS = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE"})


class UpstreamUnavailable(Exception):
    """The service could not be reached, or dropped the connection before answering."""


class UpstreamTimeout(Exception):
    """The service did not answer in time."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._head: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._complete = False
        self._got_bytes = False
        self._wake = asyncio.Event()
        self._can_write = asyncio.Event()
        self._can_write.set()
        self.keep_alive = False

    # asyncio protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio's classes

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamUnavailable(f"bad answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        if not self._complete:
            self._fail(UpstreamUnavailable("connection closed before the answer was complete"))
        self._can_write.set()
        self._wake.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if self._head is not None and not self._head.done():
            self._head.set_result((self.parser.get_status_code(), self._headers))

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > BUFFER_HIGH and self.transport is not None:
            self.transport.pause_reading()
        self._wake.set()

    def on_message_complete(self) -> None:
        self._complete = True
        self.keep_alive = self.parser.should_keep_alive()
        self._wake.set()

    # used by the pool
    def _fail(self, exc: Exception) -> None:
        if self._head is not None and not self._head.done():
            self._head.set_exception(exc)

    def start(self) -> asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]]:
        self._head = asyncio.get_running_loop().create_future()
        self._chunks.clear()
        self._buffered = 0
        self._complete = False
        self._got_bytes = False
        self._wake.clear()
        return self._head

    def write(self, data: bytes) -> None:
        if self.transport is None:
            raise UpstreamUnavailable("connection closed")
        self.transport.write(data)

    async def drain(self) -> None:
        await self._can_write.wait()
        if self.closed:
            raise UpstreamUnavailable("connection closed while sending")

    async def next_chunk(self, timeout_s: float) -> bytes | None:
        """The next piece of the body, or None at its end."""
        while not self._chunks:
            if self._complete:
                return None
            if self.closed:
                raise UpstreamUnavailable("connection closed in the middle of the answer")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout_s)
            except TimeoutError as exc:
                raise UpstreamTimeout() from exc
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._buffered <= BUFFER_HIGH // 2 and self.transport is not None:
            self.transport.resume_reading()
        return chunk

    def finish_without_body(self) -> None:
        """An answer to HEAD: headers only. The parser cannot be told, so the connection is not reused."""
        self._complete = True
        self.keep_alive = False
        self._wake.set()

    @property
    def reusable(self) -> bool:
        return self._complete and self.keep_alive and not self.closed

    @property
    def answered_anything(self) -> bool:
        return self._got_bytes

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.closed = True


class UpstreamResponse:
    def __init__(self, pool: "UpstreamPool", conn: _Connection, status: int, headers: list[tuple[bytes, bytes]]):
        self.pool = pool
        self.conn = conn
        self.status = status
        self.headers = headers
        self._released = False

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self.conn.next_chunk(self.pool.read_timeout_s)) is not None:
            yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def release(self) -> None:
        """Back to the pool when the answer was read to its end on a keep-alive connection; closed otherwise."""
        if self._released:
            return
        self._released = True
        if self.conn.reusable:
            self.pool._give_back(self.conn)
        else:
            self.conn.close()


class UpstreamPool:
    """Keep-alive connections to one service (host and port), one request at a time on each."""

    def __init__(self, host: str, port: int, *, connect_timeout_s: float, read_timeout_s: float, max_idle: int = 256):
        self.host = host
        self.port = port
        self.host_header = f"{host}:{port}".encode()
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_idle = max_idle
        self._idle: collections.deque[_Connection] = collections.deque()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(_Connection, self.host, self.port), self.connect_timeout_s
            )
        except (OSError, TimeoutError) as exc:
            raise UpstreamUnavailable(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return conn

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_MAX_S:
                return conn
            conn.close()
        return None

    def _give_back(self, conn: _Connection) -> None:
        if len(self._idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _head(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], framing: bytes) -> bytes:
        lines = [method, b" ", target, b" HTTP/1.1\r\nhost: ", self.host_header, b"\r\n"]
        for name, value in headers:
            lines += [name, b": ", value, b"\r\n"]
        lines += [framing, b"\r\n"]
        return b"".join(lines)

    async def request(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | AsyncIterator[bytes] | None,
    ) -> UpstreamResponse:
        """Send the request and wait for the answer's status and headers (the body is read from the response)."""
        replayable = not (body is not None and not isinstance(body, bytes))
        conn = self._take_idle()
        reused = conn is not None
        if conn is None:
            conn = await self._connect()
        try:
            return await self._exchange(conn, method, target, headers, body)
        except UpstreamUnavailable:
            # A pooled connection the service closed just as we used it: one more try on a new connection,
            # only when nothing came back and sending the request again cannot do anything twice.
            if reused and replayable and method in RETRY_METHODS and not conn.answered_anything:
                conn = await self._connect()
                return await self._exchange(conn, method, target, headers, body)
            raise

    async def _exchange(
        self,
        conn: _Connection,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | AsyncIterator[bytes] | None,
    ) -> UpstreamResponse:
        head_future = conn.start()
        try:
            if body is None:
                conn.write(self._head(method, target, headers, b"content-length: 0\r\n"))
            elif isinstance(body, bytes):
                framing = b"content-length: " + str(len(body)).encode() + b"\r\n"
                conn.write(self._head(method, target, headers, framing) + body)
            else:
                conn.write(self._head(method, target, headers, b"transfer-encoding: chunked\r\n"))
                async for chunk in body:
                    if chunk:
                        conn.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                        await conn.drain()
                conn.write(b"0\r\n\r\n")
            status, response_headers = await asyncio.wait_for(head_future, self.read_timeout_s)
        except TimeoutError as exc:
            conn.close()
            raise UpstreamTimeout() from exc
        except BaseException:
            conn.close()
            raise
        if method == b"HEAD":
            conn.finish_without_body()
        return UpstreamResponse(self, conn, status, response_headers)
