"""TokenVerifier fetches the gateway's JWKS over HTTP, caches it, and fetches again for a key id it does not know."""

import asyncio
import json

import pytest

import shared.auth
from services.gateway.keys import SigningKey
from services.gateway.tokens import TokenIssuer
from shared.auth import TokenVerifier
from shared.errors import DomainError

ISSUER, AUDIENCE = "fupin-gateway", "fupin-api"


class JwksServer:
    """Serves whatever key set it holds at /.well-known/jwks.json and counts the fetches."""

    def __init__(self, *keys: SigningKey):
        self.keys = list(keys)
        self.fetches = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        self.fetches += 1
        body = json.dumps({"keys": [k for key in self.keys for k in key.jwks()["keys"]]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> "JwksServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/.well-known/jwks.json"


def token(key: SigningKey, subject: str = "wanzhou") -> str:
    issuer = TokenIssuer(key, issuer=ISSUER, audience=AUDIENCE, ttl_s=300)
    return issuer.access_token(subject=subject, kind="user", roles=["county_officer"], regions=["500101"], name="x")


async def test_keys_are_fetched_once_and_cached():
    key = SigningKey.generate()
    async with JwksServer(key) as server:
        verifier = TokenVerifier(server.url, ISSUER, AUDIENCE)
        for _ in range(5):
            principal = await verifier.verify(token(key))
        assert principal.subject == "wanzhou"
        assert principal.permissions >= {"registry:read", "pii:read"}
        assert server.fetches == 1


async def test_a_new_key_id_is_fetched_again_after_rotation(monkeypatch):
    old, new = SigningKey.generate(), SigningKey.generate()
    async with JwksServer(old) as server:
        verifier = TokenVerifier(server.url, ISSUER, AUDIENCE)
        await verifier.verify(token(old))
        server.keys = [old, new]  # the gateway rotated its key
        monkeypatch.setattr(TokenVerifier, "REFETCH_AFTER_S", 0.0)
        assert (await verifier.verify(token(new, "fengdu"))).subject == "fengdu"
        assert server.fetches == 2


async def test_unknown_key_ids_do_not_make_a_fetch_each():
    key, stranger = SigningKey.generate(), SigningKey.generate()
    async with JwksServer(key) as server:
        verifier = TokenVerifier(server.url, ISSUER, AUDIENCE)
        await verifier.verify(token(key))
        for _ in range(5):
            with pytest.raises(DomainError) as refused:
                await verifier.verify(token(stranger))
            assert refused.value.code == "unauthenticated"
        assert server.fetches == 1  # within REFETCH_AFTER_S the cached set answers


async def test_unreachable_jwks_refuses_the_token_instead_of_failing():
    key = SigningKey.generate()
    async with JwksServer(key) as server:
        url = server.url
    verifier = TokenVerifier(url, ISSUER, AUDIENCE)  # nothing listens there any more
    with pytest.raises(DomainError) as refused:
        await verifier.verify(token(key))
    assert refused.value.code == "unauthenticated"


async def test_a_gateway_that_is_down_is_not_asked_again_by_every_request(monkeypatch):
    key = SigningKey.generate()
    async with JwksServer(key) as server:
        url = server.url
    verifier = TokenVerifier(url, ISSUER, AUDIENCE)  # down, and no key known yet
    fetches = []
    refresh = verifier._refresh

    async def counted() -> None:
        fetches.append(1)
        await refresh()

    monkeypatch.setattr(verifier, "_refresh", counted)
    connects = []
    real_client = shared.auth.httpx.AsyncClient

    def counting_client(*args, **kwargs):
        connects.append(1)
        return real_client(*args, **kwargs)

    monkeypatch.setattr(shared.auth.httpx, "AsyncClient", counting_client)
    for _ in range(20):
        with pytest.raises(DomainError):
            await verifier.verify(token(key))
    assert len(fetches) == 20 and len(connects) == 1  # tried once; the others within RETRY_AFTER_S did not wait
    monkeypatch.setattr(TokenVerifier, "RETRY_AFTER_S", 0.0)
    with pytest.raises(DomainError):
        await verifier.verify(token(key))
    assert len(connects) == 2  # and once the pause is over, it asks again


async def test_a_verified_token_is_remembered_until_it_expires(monkeypatch):
    key = SigningKey.generate()
    verifier = TokenVerifier("", ISSUER, AUDIENCE, jwks=key.jwks())
    issued = token(key)
    calls = []
    verify = verifier._verify

    async def counted(value: str):
        calls.append(value)
        return await verify(value)

    monkeypatch.setattr(verifier, "_verify", counted)
    first = await verifier.verify(issued)
    assert await verifier.verify(issued) == first
    assert len(calls) == 1  # the second time from memory
    with pytest.raises(DomainError):
        await verifier.verify(issued[:-2] + ("AA" if not issued.endswith("AA") else "BB"))  # a forged signature
    assert len(calls) == 2

    later = shared.auth.time.time() + 300 + TokenVerifier.LEEWAY_S + 1  # past its expiry and the leeway
    monkeypatch.setattr(shared.auth.time, "time", lambda: later)
    await verifier.verify(issued)  # the signature library's clock is not moved: only the memory is tested here
    assert len(calls) == 3  # not taken from memory once expired
