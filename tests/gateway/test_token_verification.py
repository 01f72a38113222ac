"""A service refuses every access token that is not a valid, current, gateway-signed access token (401)."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from services.gateway.keys import SigningKey
from services.gateway.tokens import TokenIssuer
from tests.support.callers import AUDIENCE, CITY_ADMIN, ISSUER
from tests.support.gateway import assert_problem

ROUTE = "/api/v1/registry/regions/500000"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def claims(**overrides) -> dict:
    now = datetime.now(UTC)
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "admin",
        "kind": "user",
        "name": "admin",
        "roles": ["city_admin"],
        "regions": ["500000"],
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=15)).timestamp()),
        "jti": "0190a0b0-0000-7000-8000-000000000001",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def signed(key: SigningKey, payload: dict, *, kid: str | None = None) -> str:
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers={"kid": kid or key.kid})


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(payload).encode()),
            b64url(signature),
        ]
    )


def hmac_signed(header: dict, payload: dict, secret: bytes) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


async def call(registry, token: str):
    return await registry.get(ROUTE, None, headers={"Authorization": f"Bearer {token}"})


async def assert_refused(registry, token: str) -> None:
    response = await call(registry, token)
    assert_problem(response, 401, "unauthenticated")


async def test_valid_token_baseline(registry, issuer):
    token = issuer.access_token(subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a")
    response = await call(registry, token)
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "500000"
    # and a hand-built token with the same claims as the refusals below is accepted too
    assert (await call(registry, signed(issuer.key, claims()))).status_code == 200


async def test_fixture_token_baseline(registry):
    assert (await registry.get(ROUTE, CITY_ADMIN)).status_code == 200


async def test_missing_token(registry):
    response = await registry.get(ROUTE, None)
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_not_a_bearer_token(registry, issuer):
    token = signed(issuer.key, claims())
    response = await registry.get(ROUTE, None, headers={"Authorization": f"Basic {token}"})
    assert_problem(response, 401, "unauthenticated")


async def test_expired_token(registry, issuer):
    old = datetime.now(UTC) - timedelta(hours=1)
    token = issuer.access_token(
        subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a", now=old
    )
    await assert_refused(registry, token)


async def test_token_expired_beyond_the_leeway(registry, issuer):
    now = datetime.now(UTC)
    expired = claims(
        iat=int((now - timedelta(minutes=20)).timestamp()), exp=int((now - timedelta(seconds=60)).timestamp())
    )
    await assert_refused(registry, signed(issuer.key, expired))


async def test_token_signed_by_another_key_with_the_same_kid(registry, issuer):
    other = SigningKey.generate()
    await assert_refused(registry, signed(other, claims(), kid=issuer.key.kid))


async def test_token_signed_by_another_key_with_its_own_kid(registry):
    other = SigningKey.generate()
    await assert_refused(registry, signed(other, claims()))
    other_issuer = TokenIssuer(other, issuer=ISSUER, audience=AUDIENCE, ttl_s=900)
    token = other_issuer.access_token(subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a")
    await assert_refused(registry, token)


async def test_token_without_kid(registry, issuer):
    token = jwt.encode(claims(), issuer.key.private_key, algorithm="EdDSA")
    assert "kid" not in jwt.get_unverified_header(token)
    await assert_refused(registry, token)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_token(registry, issuer, alg):
    await assert_refused(registry, unsigned({"alg": alg, "typ": "JWT", "kid": issuer.key.kid}, claims()))


async def test_eddsa_header_with_the_signature_stripped(registry, issuer):
    await assert_refused(registry, unsigned({"alg": "EdDSA", "typ": "JWT", "kid": issuer.key.kid}, claims()))


async def test_signature_of_another_token(registry, issuer):
    real = signed(issuer.key, claims(roles=["human_resources"]))
    forged = signed(issuer.key, claims(roles=["city_admin"]))
    header, payload, _ = forged.split(".")
    await assert_refused(registry, f"{header}.{payload}.{real.split('.')[2]}")


@pytest.mark.parametrize("encoding", ["pem", "raw", "jwk_x"])
async def test_hs256_token_signed_with_the_public_key(registry, issuer, encoding):
    public = issuer.key.private_key.public_key()
    secret = {
        "pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "jwk_x": issuer.key.public_jwk["x"].encode(),
    }[encoding]
    token = hmac_signed({"alg": "HS256", "typ": "JWT", "kid": issuer.key.kid}, claims(), secret)
    await assert_refused(registry, token)


async def test_wrong_audience(registry, issuer):
    await assert_refused(registry, signed(issuer.key, claims(aud="another-api")))
    other = TokenIssuer(issuer.key, issuer=ISSUER, audience="another-api", ttl_s=900)
    await assert_refused(
        registry, other.access_token(subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a")
    )


async def test_wrong_issuer(registry, issuer):
    await assert_refused(registry, signed(issuer.key, claims(iss="someone-else")))
    other = TokenIssuer(issuer.key, issuer="someone-else", audience=AUDIENCE, ttl_s=900)
    await assert_refused(
        registry, other.access_token(subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a")
    )


@pytest.mark.parametrize("typ", ["refresh", "id", "ACCESS", None])
async def test_token_that_is_not_an_access_token(registry, issuer, typ):
    await assert_refused(registry, signed(issuer.key, claims(typ=typ)))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss", "jti"])
async def test_token_missing_a_required_claim(registry, issuer, missing):
    await assert_refused(registry, signed(issuer.key, claims(**{missing: None})))


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJFZERTQSJ9",
        "eyJhbGciOiJFZERTQSJ9.e30",
        "eyJhbGciOiJFZERTQSJ9.e30.",
        "....",
        "Bearer",
    ],
)
async def test_malformed_token(registry, token):
    await assert_refused(registry, token)


async def test_header_kid_that_is_not_a_string(registry, issuer):
    header = {"alg": "EdDSA", "typ": "JWT", "kid": 12345}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims()).encode())}"
    token = f"{signing_input}.{b64url(issuer.key.private_key.sign(signing_input.encode()))}"
    await assert_refused(registry, token)
