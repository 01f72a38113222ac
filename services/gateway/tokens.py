"""Access tokens (short-lived JWT, EdDSA) and refresh tokens (opaque, rotating)."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from services.gateway.keys import SigningKey
from shared.auth import ACCESS_TOKEN_ALGORITHM
from shared.ids import uuid7


class TokenIssuer:
    def __init__(self, key: SigningKey, *, issuer: str, audience: str, ttl_s: int):
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s

    def access_token(
        self, *, subject: str, kind: str, roles: list[str], regions: list[str], name: str, now: datetime | None = None
    ) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "kind": kind,
            "name": name,
            "roles": roles,
            "regions": regions,
            "typ": "access",
            "iat": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=self.ttl_s)).timestamp()),
            "jti": uuid7(),
        }
        return jwt.encode(claims, self.key.private_key, algorithm=ACCESS_TOKEN_ALGORITHM, headers={"kid": self.key.kid})


def new_refresh_token() -> tuple[str, str]:
    """(the token handed to the client, the hash kept in the database)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
