"""The relief service starts, answers its probes, documents its routes, and takes events only when signed."""

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.gateway.keys import SigningKey
from shared.auth import ACCESS_TOKEN_ALGORITHM
from shared.events import SIGNATURE_HEADER, sign
from shared.settings import common_settings
from tests.support.callers import AUDIENCE, ISSUER, Api
from tests.support.registry import assert_problem


async def test_probes_answer(relief_app, token_for):
    # outside a test transaction: on SQLite an open one would hold the database the readiness check pings
    api = Api(relief_app, token_for)
    try:
        assert (await api.get("/healthz", caller=None)).status_code == 200
        ready = await api.get("/readyz", caller=None)
        assert ready.status_code == 200, ready.text
    finally:
        await api.http.aclose()


async def test_an_unsigned_event_is_refused(relief):
    response = await relief.post("/api/v1/relief/events/inbox", caller=None, content=b"{}")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


async def test_a_signed_event_of_no_interest_is_accepted_once(relief):
    body = json.dumps(
        {"id": "01900000-0000-7000-8000-000000000001", "type": "contact.recorded", "version": 1,
         "source": "registry", "occurred_at": "2020-02-10T08:00:00+08:00", "data": {}}
    ).encode()  # fmt: skip
    headers = {SIGNATURE_HEADER: sign(common_settings().internal_events_secret(), body)}
    first = await relief.post("/api/v1/relief/events/inbox", caller=None, content=body, headers=headers)
    again = await relief.post("/api/v1/relief/events/inbox", caller=None, content=body, headers=headers)
    assert (first.json(), again.json()) == ({"accepted": True}, {"accepted": False})


# --- every route declares its permission; forged and expired tokens are refused --------------------------------


def _forged_token(signing_key) -> str:
    impostor = SigningKey.generate()
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "civil", "roles": ["civil_affairs"], "regions": ["500000"],
        "typ": "access", "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": "forged",
    }  # fmt: skip
    return jwt.encode(claims, impostor.private_key, algorithm=ACCESS_TOKEN_ALGORITHM, headers={"kid": signing_key.kid})


@pytest.mark.parametrize(
    "path", ["/api/v1/relief/cases", "/api/v1/relief/batches", "/api/v1/relief/insurance/claims",
             "/api/v1/relief/standards"],
)  # fmt: skip
async def test_forged_expired_and_missing_tokens_are_refused(relief, signing_key, issuer, path):
    expired = issuer.access_token(
        subject="civil", kind="user", roles=["civil_affairs"], regions=["500000"], name="civil",
        now=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    for token in (_forged_token(signing_key), expired):
        response = await relief.get(path, None, headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "unauthenticated")
    assert_problem(await relief.get(path, None), 401, "unauthenticated")


async def test_every_relief_route_refuses_a_caller_without_a_token(relief, relief_app):
    """Deny by default: each route needs a token (the inbox, a signature instead)."""
    open_routes = {"/api/v1/relief/events/inbox"}
    checked = 0
    for path, operations in relief_app.openapi()["paths"].items():
        if not path.startswith("/api/") or path in open_routes:
            continue
        url = path.replace("{", "").replace("}", "")  # an id that exists nowhere: the token is checked first
        for method in operations:
            response = await relief.request(method.upper(), url, None, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 40
