"""Token verification against the gateway's JWKS, roles and permissions, region scope.

Every service verifies the gateway's access tokens itself (EdDSA, issuer and audience checked), so a service can
be reached through the gateway or straight from an ingress alike. Deny by default: a route states the permission it
needs with `require(...)`.
"""

import asyncio
import hashlib
import math
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any

import httpx
import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared.errors import Forbidden, Unauthenticated

ACCESS_TOKEN_ALGORITHM = "EdDSA"

# Role → permissions. Roles are a contract between the gateway (which puts them in tokens) and every service.
_OFFICER = {
    "registry:read", "registry:create", "registry:update", "cadres:manage", "health:record", "flags:manage",
    "contacts:record", "registry:import",
}  # fmt: skip
_RELIEF_READ = {"relief:read", "insurance:read"}
_CIVIL_AFFAIRS = _RELIEF_READ | {
    "relief:standards", "relief:cases", "relief:pay", "relief:approve", "relief:bank", "relief:accounts",
    "insurance:manage",
}  # fmt: skip
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "city_admin": frozenset(
        _OFFICER
        | _RELIEF_READ
        | {"pii:read", "audit:read", "users:manage", "events:manage", "parameters:manage", "insurance:manage"}
    ),
    "county_officer": frozenset(_OFFICER | _RELIEF_READ | {"pii:read"}),
    "township_officer": frozenset(_OFFICER - {"registry:import"}),
    "village_cadre": frozenset({"registry:read", "registry:update", "health:record", "contacts:record"}),
    "civil_affairs": frozenset({"registry:read", "pii:read", "dibao:decide"} | _CIVIL_AFFAIRS),
    "human_resources": frozenset({"registry:read"}),
    "bank_officer": frozenset({"registry:read", "pii:read", "relief:read", "relief:bank", "relief:accounts"}),
    "supplies_officer": frozenset({"registry:read"}),
    "auditor": frozenset({"registry:read", "audit:read"} | _RELIEF_READ),
    "department_system": frozenset({"registry:read"}),
    "service": frozenset({"registry:read"}),
}
ROLES = tuple(ROLE_PERMISSIONS)


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def scope_prefix(code: str) -> str:
    """The prefix a region code covers: 500000 (the city) covers '50', 500101 covers '500101', and so on."""
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class Principal:
    """Who is calling: from a verified access token."""

    subject: str
    kind: str  # "user" or "client"
    roles: tuple[str, ...]
    regions: tuple[str, ...]
    name: str = ""
    token_id: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_cadre_only(self) -> bool:
        """A village cadre sees the households paired with them, not a whole region."""
        return set(self.roles) == {"village_cadre"}

    @cached_property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(scope_prefix(code) for code in self.regions)

    def covers(self, code: str | None) -> bool:
        return code is not None and code.startswith(self.prefixes)

    def region_clause(self, *columns: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
        """A WHERE clause keeping rows in scope; `columns` are tried finest first (county, township, village)."""
        return region_clause(self.regions, *columns)


def region_clause(codes: Iterable[str], *columns: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Rows whose region is within any of `codes`, read through the narrowest indexed code column that fits."""
    clauses = []
    for prefix in {scope_prefix(code) for code in codes}:
        column = _column_for(prefix, columns)
        clauses.append(column == prefix if len(prefix) == _column_width(column) else column.startswith(prefix))
    return sa.or_(*clauses) if clauses else sa.false()


def _column_width(column: sa.ColumnElement[str]) -> int:
    length = getattr(column.type, "length", None)
    return int(length) if length else 0


def _column_for(prefix: str, columns: tuple[sa.ColumnElement[str], ...]) -> sa.ColumnElement[str]:
    """The narrowest column at least as long as the prefix, so scope filters read the county/township index."""
    for column in columns:
        if _column_width(column) >= len(prefix):
            return column
    return columns[-1]


class TokenVerifier:
    """Verifies access tokens with the gateway's public keys, fetched from its JWKS and cached. PyJWT and the
    cryptography stack under it (several MB) are loaded when the first keys are.

    A token verified once is remembered (by its SHA-256, never the token itself) until it expires, so a service
    calling with the same token again and again is not checked again each time: an Ed25519 signature costs more
    than the rest of a small request."""

    REFETCH_AFTER_S = 30.0
    RETRY_AFTER_S = 1.0
    LEEWAY_S = 10
    REMEMBERED = 4096

    def __init__(self, jwks_url: str, issuer: str, audience: str, jwks: dict[str, Any] | None = None):
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self._keys: dict[str, Any] = {}  # kid → jwt.PyJWK
        self._verified: dict[bytes, tuple[Principal, float]] = {}  # digest → (principal, expiry)
        self._fetched_at = -math.inf  # when keys were last asked for
        self._lock = asyncio.Lock()
        if jwks is not None:
            self._load(jwks)
            self._fetched_at = time.monotonic()

    def _load(self, jwks: dict[str, Any]) -> None:
        import jwt

        keys = {}
        for key in jwks.get("keys", []):
            if "kid" in key:
                keys[key["kid"]] = jwt.PyJWK(key)
        self._keys = keys

    async def _refresh(self) -> None:
        """Fetch the keys again, at most every REFETCH_AFTER_S (RETRY_AFTER_S while none is known): a token with an
        unknown key id, or a gateway that is down, must not make every request wait for a fetch in turn."""
        async with self._lock:
            pause = self.REFETCH_AFTER_S if self._keys else self.RETRY_AFTER_S
            if time.monotonic() - self._fetched_at < pause:
                return
            self._fetched_at = time.monotonic()
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                self._load(response.json())

    async def key_for(self, kid: str) -> Any:
        """The key (jwt.PyJWK) with id `kid`; None when the gateway has none."""
        if kid not in self._keys and self.jwks_url:
            try:
                await self._refresh()
            except (httpx.HTTPError, ValueError):
                return None
        return self._keys.get(kid)

    async def verify(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode()).digest()
        remembered = self._verified.get(digest)
        if remembered is not None:
            principal, expires = remembered
            if time.time() <= expires + self.LEEWAY_S:
                return principal
            del self._verified[digest]
        principal, expires = await self._verify(token)
        if len(self._verified) >= self.REMEMBERED:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[digest] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated() from exc
        if header.get("alg") != ACCESS_TOKEN_ALGORITHM or not isinstance(header.get("kid"), str):
            raise Unauthenticated()
        key = await self.key_for(header["kid"])
        if key is None:
            raise Unauthenticated()
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ACCESS_TOKEN_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated() from exc
        if claims.get("typ") != "access":
            raise Unauthenticated()
        roles = tuple(r for r in claims.get("roles", []) if r in ROLE_PERMISSIONS)
        principal = Principal(
            subject=claims["sub"],
            kind=claims.get("kind", "user"),
            roles=roles,
            regions=tuple(claims.get("regions", [])),
            name=claims.get("name", ""),
            token_id=claims["jti"],
            permissions=permissions_of(roles),
        )
        return principal, float(claims["exp"])


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def principal_of(request: Request, token: str | None) -> Principal:
    """The caller the bearer token names (401 without a valid one), kept on the request."""
    if not token:
        raise Unauthenticated(headers={"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(token)
    request.state.principal = principal
    return principal


async def authorised(request: Request, token: str | None, permission: str) -> Principal:
    """The caller, when they hold `permission` (403 when they do not)."""
    principal = await principal_of(request, token)
    if not principal.can(permission):
        raise Forbidden(permission=permission)
    return principal


async def current_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    return await principal_of(request, token)


def require(permission: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets the call through only with `permission`."""

    async def dependency(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
        return await authorised(request, token, permission)

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency
