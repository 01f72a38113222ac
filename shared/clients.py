"""Typed HTTP clients for service-to-service calls (httpx: pooled, timeouts, retries only for safe requests).

Each call carries the current request id and the calling service's own token (OAuth2 client credentials at the
gateway, cached until shortly before it expires).
"""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shared.observability import request_id_var
from shared.schemas.registry import (
    IDS_PER_READ,
    CadreOut,
    HealthEventOut,
    HealthKind,
    HouseholdOut,
    PersonHealthHistory,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ClientCredentials:
    """A service's own access token, fetched from the gateway and reused until it is about to expire."""

    def __init__(self, token_url: str, client_id: str, client_secret: str):
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, http: httpx.AsyncClient) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() > self._expires_at - 60:
                response = await http.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                )
                response.raise_for_status()
                body = response.json()
                self._token = body["access_token"]
                self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
            return self._token


class ServiceClient:
    """Base of the typed clients: one pooled connection set per upstream."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: ClientCredentials | None = None,
        timeout_s: float = 5.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            transport=transport,
        )
        self.credentials = credentials
        self.retries = retries

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-ID"] = request_id
        if self.credentials is not None:
            headers["Authorization"] = f"Bearer {await self.credentials.token(self.http)}"
        attempts = 1 + (self.retries if method.upper() in SAFE_METHODS else 0)
        for attempt in range(attempts):
            try:
                response = await self.http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError:
                if attempt + 1 == attempts:
                    raise
            else:
                if response.status_code < 500 or attempt + 1 == attempts:
                    return response
            await asyncio.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        response = await self.request("GET", path, **kwargs)
        response.raise_for_status()
        return response.json()

    async def aclose(self) -> None:
        await self.http.aclose()


class RegistryClient(ServiceClient):
    """The registry, as other services read it (role "service": registry:read, ID numbers masked)."""

    async def household(self, household_id: str) -> HouseholdOut | None:
        """The household with its members; None when the registry has no such household."""
        response = await self.request("GET", f"/api/v1/registry/households/{household_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return HouseholdOut.model_validate(response.json())

    async def cadre(self, cadre_id: str) -> CadreOut | None:
        """The assistance cadre (帮扶干部); None when the registry has no such cadre."""
        response = await self.request("GET", f"/api/v1/registry/cadres/{cadre_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return CadreOut.model_validate(response.json())

    async def health_histories(self, person_ids: list[str]) -> dict[str, PersonHealthHistory]:
        """The histories of many persons, by person id, a hundred a call; a person the registry does not have is
        left out."""
        found = await self._many("/api/v1/registry/health-histories", "person_id", person_ids)
        return {item["person_id"]: PersonHealthHistory.model_validate(item) for item in found}

    async def households(self, household_ids: list[str]) -> dict[str, HouseholdOut]:
        """Many households with their members, by id, a hundred a call; one the registry does not have is left
        out."""
        found = await self._many("/api/v1/registry/household-details", "household_id", household_ids)
        return {item["id"]: HouseholdOut.model_validate(item) for item in found}

    async def _many(self, path: str, parameter: str, ids: list[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), IDS_PER_READ):
            found += await self.get_json(path, params={parameter: unique[start : start + IDS_PER_READ]})
        return found

    async def health_events(self, kind: HealthKind) -> AsyncIterator[HealthEventOut]:
        """Every health event of a kind in the caller's scope, page by page (newest recorded first)."""
        params: dict[str, Any] = {"kind": kind.value, "limit": 200}
        while True:
            page = await self.get_json("/api/v1/registry/health-events", params=params)
            for item in page["items"]:
                yield HealthEventOut.model_validate(item)
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]
