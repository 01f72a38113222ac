"""Helpers for gateway tests: users and clients inside the test's transaction, problem assertions, ports;
tiny HTTP/1.1 servers standing in for a service, and the gateway app in-process."""

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from services.gateway.app import create_app
from services.gateway.auth.service import create_client, create_user
from services.gateway.settings import gateway_settings
from tests.support.callers import Api


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


# --- tiny HTTP/1.1 servers on loopback, standing in for a service ------------------------------------------------


@dataclass
class SeenRequest:
    """One request as a tiny server received it: header names lower-cased, in order; the body de-chunked."""

    connection: int
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool

    def header(self, name: str) -> str | None:
        values = self.header_list(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None

    def header_list(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


async def read_http_request(reader: asyncio.StreamReader, connection: int = 0) -> SeenRequest | None:
    """One HTTP/1.1 request (body by Content-Length or chunked), or None when the client closed before sending."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    assert version == "HTTP/1.1", lines[0]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    seen = SeenRequest(connection, method, target, headers, b"", chunked=False)
    if (seen.header("transfer-encoding") or "").lower() == "chunked":
        seen.chunked = True
        seen.body = await asyncio.wait_for(read_chunked(reader), 10)
    else:
        length = int(seen.header("content-length") or "0")
        seen.body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
    return seen


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, framing checked: hex size lines, CRLF after each chunk, the last chunk and the final CRLF."""
    parts = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailer fields, if any
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        assert await reader.readexactly(2) == b"\r\n", "chunk not followed by CRLF"


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    *,
    reason: str = "OK",
    content_length: bool = True,
) -> bytes:
    """A response's bytes; Content-Length is added for `body` unless `content_length` is False."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


class ServerConnection:
    """One accepted connection, handed to a TinyServer's handler."""

    def __init__(self, server: "TinyServer", index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.index = index
        self.reader = reader
        self.writer = writer
        self.saw_eof = False
        self.ended = asyncio.Event()  # the handler returned

    async def request(self) -> SeenRequest | None:
        """The next request on this connection, or None when the client closed it (then `saw_eof` is True)."""
        seen = await read_http_request(self.reader, self.index)
        if seen is None:
            self.saw_eof = True
        else:
            self.server.requests.append(seen)
        return seen

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), 10)

    async def wait_closed_by_client(self, timeout_s: float = 5.0) -> None:
        """Until the client closes its end (anything it still sends is an error)."""
        extra = await asyncio.wait_for(self.reader.read(), timeout_s)
        assert extra == b"", f"client sent more: {extra[:100]!r}"
        self.saw_eof = True

    def close(self) -> None:
        self.writer.close()


ConnectionHandler = Callable[[ServerConnection], Awaitable[None]]


class TinyServer:
    """asyncio.start_server on 127.0.0.1, port 0: counts connections, records requests; closes all on exit."""

    def __init__(self, handler: ConnectionHandler):
        self.handler = handler
        self.server: asyncio.Server | None = None
        self.connections: list[ServerConnection] = []
        self.requests: list[SeenRequest] = []
        self.handler_errors: list[BaseException] = []
        self._tasks: set[asyncio.Task] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ServerConnection(self, len(self.connections), reader, writer)
        self.connections.append(conn)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handler(conn)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: what some tests are about
        except asyncio.CancelledError:
            pass  # the server's teardown: ended quietly, as asyncio's streams expect of a connection's task
        except Exception as exc:  # an assertion in the handler: reported by the test
            self.handler_errors.append(exc)
        finally:
            writer.close()
            conn.ended.set()
            self._tasks.discard(task)

    async def __aenter__(self) -> "TinyServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aexit__(self, *exc) -> None:
        assert self.server is not None
        self.server.close()
        for conn in self.connections:
            conn.writer.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        await asyncio.wait_for(self.server.wait_closed(), 5)
        if exc == (None, None, None):
            assert not self.handler_errors, self.handler_errors


# --- a gateway app in-process -------------------------------------------------------------------------------------


@asynccontextmanager
async def gateway_client(
    database_url: str, upstreams: dict[str, str], env: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway app in-process (httpx's ASGI transport), forwarding to `upstreams`, GATEWAY_* settings from `env`."""
    async with _gateway_app(database_url, upstreams, env) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test", timeout=30) as client:
            yield client


@asynccontextmanager
async def gateway_served(database_url: str, upstreams: dict[str, str]) -> AsyncIterator[str]:
    """The gateway app under uvicorn in this process, on a loopback port; yields its base URL."""
    import uvicorn

    app = create_app(database_url=database_url, upstreams=upstreams)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        await wait_for(lambda: server.started or task.done(), 10)
        assert server.started, task.exception() if task.done() else "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def _gateway_app(database_url: str, upstreams: dict[str, str], env: dict[str, str] | None):
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    gateway_settings.cache_clear()
    try:
        app = create_app(database_url=database_url, upstreams=upstreams)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        gateway_settings.cache_clear()
    async with app.router.lifespan_context(app):
        yield app
