"""A department's webhook (or another service's batch inbox) on loopback, for tests: checks each delivery's
signature, answers with a set status (or what `answer` says of the event).

A POST of several events (`{"events": [...]}`, what a dispatcher sends to a service of ours) is answered as a
service's batch inbox answers: one result per event, or, when every event is answered 5xx, that status for the
whole POST (a service that is down)."""

import asyncio
import json
from collections.abc import Callable

from shared.events import BatchAnswer, EventBatch, EventResult, verify_signature
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
            if json.loads(body).keys() == {"events"}:
                status, text = self._batch(EventBatch.model_validate_json(body).events)
            else:
                status, text = self._one(EventEnvelope.model_validate_json(body))
        else:
            self.bad_signatures += 1
        content = text.encode()
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: {len(content)}\r\nconnection: close\r\n\r\n".encode())
        writer.write(content)
        await writer.drain()
        writer.close()

    def _one(self, event: EventEnvelope) -> tuple[int, str]:
        self.requests.append(event)
        status, text = self.answer(event)
        if 200 <= status < 300:
            self.received.append(event)
            self.arrived.set()
        return status, text

    def _batch(self, events: list[EventEnvelope]) -> tuple[int, str]:
        answers = [(event, *self._one(event)) for event in events]
        if all(status >= 500 for _, status, _ in answers):
            return answers[0][1], answers[0][2]
        results = [
            EventResult(id=event.id, status=status, accepted=200 <= status < 300, detail=text or None)
            for event, status, text in answers
        ]
        return 200, BatchAnswer(results=results).model_dump_json()

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
