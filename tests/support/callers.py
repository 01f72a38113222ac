"""Who calls the apps in the in-process tests: the token issuer and audience, `Caller` (subject, roles and region
scope, as the gateway puts them in a token), the callers the tests use (a city admin, county and township
officers, an auditor, civil affairs, the bank, the relief service's client...) and `Api`, which calls one app
in-process as one of them."""

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from httpx import ASGITransport

ISSUER, AUDIENCE = "fupin-gateway", "fupin-api"


@dataclass(frozen=True)
class Caller:
    """A test caller: subject, roles and region scope, as the gateway would put them in a token."""

    subject: str
    roles: tuple[str, ...]
    regions: tuple[str, ...]
    kind: str = "user"


CITY_ADMIN = Caller("admin", ("city_admin",), ("500000",))
WANZHOU = Caller("wanzhou", ("county_officer",), ("500101",))
FENGDU = Caller("fengdu", ("county_officer",), ("500230",))
HUWEI_TOWNSHIP = Caller("huwei", ("township_officer",), ("500230101",))
AUDITOR = Caller("auditor", ("auditor",), ("500000",))
CIVIL = Caller("civil", ("civil_affairs",), ("500000",))
CIVIL2 = Caller("civil2", ("civil_affairs",), ("500000",))  # a second civil-affairs user: the checker
BANK = Caller("bank", ("bank_officer",), ("500000",))
RELIEF_SERVICE = Caller("svc-relief", ("service",), ("500000",), kind="client")
HR = Caller("hr", ("human_resources",), ("500000",))


class Api:
    """Calls one app in-process as a given caller."""

    def __init__(self, app, token_for: Callable[[Caller], str]):
        self.app = app
        self.token_for = token_for
        self.http = httpx.AsyncClient(transport=ASGITransport(app), base_url="http://test")

    def _headers(self, caller: Caller | None, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if caller is not None:
            merged.setdefault("Authorization", f"Bearer {self.token_for(caller)}")
        return merged

    async def request(self, method: str, path: str, caller: Caller | None = CITY_ADMIN, **kwargs) -> httpx.Response:
        headers = self._headers(caller, kwargs.pop("headers", None))
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, caller: Caller | None = CITY_ADMIN, **kwargs) -> httpx.Response:
        return await self.request("GET", path, caller, **kwargs)

    async def post(self, path: str, caller: Caller | None = CITY_ADMIN, **kwargs) -> httpx.Response:
        return await self.request("POST", path, caller, **kwargs)

    async def patch(self, path: str, caller: Caller | None = CITY_ADMIN, **kwargs) -> httpx.Response:
        return await self.request("PATCH", path, caller, **kwargs)


class StaticToken:
    """Client credentials stand-in for in-process tests: a real token of the relief service's own client."""

    def __init__(self, token: str):
        self._token = token

    async def token(self, _http: httpx.AsyncClient) -> str:
        return self._token
