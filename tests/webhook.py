"""A department's webhook on loopback, for tests: checks each delivery's signature, answers with a set status (or
what `answer` says of the event)."""

import asyncio
from collections.abc import Callable

from shared.events import verify_signature
from shared.schemas.events import EventEnvelope

Answer = Callable[[EventEnvelope], tuple[int, str]]


class Webhook:
    """`requests`: every signed request in the order it came; `received`: the events it answered 2xx."""

    def __init__(self, secret: str, status: int = 200, answer: Answer | None = None):
        self.secret = secret
        self.status = status
        self.answer: Answer = answer or (lambda _event: (self.status, ""))
        self.requests: list[EventEnvelope] = []
        self.received: list[EventEnvelope] = []
        self.bad_signatures = 0
        self.arrived = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 5)
        status, text = 401, ""
        if verify_signature([self.secret], headers.get("x-fupin-signature"), body):
            event = EventEnvelope.model_validate_json(body)
            self.requests.append(event)
            status, text = self.answer(event)
            if 200 <= status < 300:
                self.received.append(event)
                self.arrived.set()
        else:
            self.bad_signatures += 1
        content = text.encode()
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: {len(content)}\r\nconnection: close\r\n\r\n".encode())
        writer.write(content)
        await writer.drain()
        writer.close()

    async def start(self, port: int = 0) -> "Webhook":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def __aenter__(self) -> "Webhook":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"
