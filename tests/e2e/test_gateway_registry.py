"""The gateway and the registry as real processes on loopback: log in, write and read through the gateway only.

Each process gets its own database (migrated first), FUPIN_VAR_DIR in a temporary folder, and the registry
fetches the gateway's JWKS over HTTP. The last test stops the registry and expects 503 from the gateway.
"""

import time

import pytest

from services.gateway.keys import SigningKey
from services.gateway.tokens import TokenIssuer
from tests.support.callers import AUDIENCE, ISSUER
from tests.support.e2e import ADMIN, VILLAGE, create_household

pytestmark = pytest.mark.e2e


async def test_login_create_and_read_back_through_the_gateway(stack):
    token = await stack.admin_token()
    me = await stack.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == ADMIN

    village = await stack.http.get(f"/api/v1/registry/regions/{VILLAGE[:9]}", headers=await stack.auth())
    assert village.status_code == 200, village.text
    assert village.json()["level"] == "township"

    household = await create_household(stack)
    fetched = await stack.http.get(f"/api/v1/registry/households/{household['id']}", headers=await stack.auth())
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("application/json")
    got = fetched.json()
    assert got["id"] == household["id"]
    assert got["village_code"] == VILLAGE
    assert [m["relation"] for m in got["members"]] == ["head", "spouse"]
    assert got["members"][0]["id_number"] == household["members"][0]["id_number"]

    listed = await stack.http.get("/api/v1/registry/households", params={"region": VILLAGE}, headers=await stack.auth())
    assert listed.status_code == 200, listed.text
    assert household["id"] in [item["id"] for item in listed.json()["items"]]


async def test_registry_problems_pass_through_the_gateway(stack):
    missing = await stack.http.get(
        "/api/v1/registry/households/01a22530-0000-7000-8000-000000000000", headers=await stack.auth()
    )
    assert missing.status_code == 404, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "household_not_found"

    anonymous = await stack.http.get(f"/api/v1/registry/regions/{VILLAGE[:9]}")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthenticated"


async def test_registry_verifies_tokens_with_the_gateways_jwks(stack):
    """A well-formed token signed by any other key is refused by the registry, reached through the gateway."""
    forger = TokenIssuer(SigningKey.generate(), issuer=ISSUER, audience=AUDIENCE, ttl_s=900)
    forged = forger.access_token(subject=ADMIN, kind="user", roles=["city_admin"], regions=["500000"], name="x")
    response = await stack.http.get(
        f"/api/v1/registry/regions/{VILLAGE[:9]}", headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"


async def test_merged_openapi_lists_the_registry(stack):
    response = await stack.http.get("/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert "x-unavailable-services" not in document
    assert "post" in document["paths"]["/api/v1/registry/households"]
    assert "/api/v1/registry/households/{household_id}" in document["paths"]
    assert "/auth/token" in document["paths"]
    for target in _refs(document):
        assert target.removeprefix("#/components/schemas/") in document["components"]["schemas"], target


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


async def test_request_id_round_trip_through_the_gateway(stack):
    response = await stack.http.get(
        f"/api/v1/registry/regions/{VILLAGE[:9]}",
        headers={**(await stack.auth()), "X-Request-ID": "e2e-request-0001"},
    )
    assert response.status_code == 200, response.text
    assert response.headers.get_list("x-request-id") == ["e2e-request-0001"]


# Keep last: it stops the registry.
async def test_registry_down_is_503_through_the_gateway(stack):
    household = await create_household(stack)
    path = f"/api/v1/registry/households/{household['id']}"
    headers = await stack.auth()
    assert (await stack.http.get(path, headers=headers)).status_code == 200

    stack.registry.stop()
    assert stack.registry.process.returncode is not None

    started = time.monotonic()
    response = await stack.http.get(path, headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["instance"] == path
    assert elapsed < 5, elapsed
    # the gateway itself stays up and keeps answering
    assert (await stack.http.get("/healthz")).status_code == 200
    again = await stack.http.get(path, headers=headers)
    assert again.status_code == 503
    assert again.json()["code"] == "service_unavailable"
