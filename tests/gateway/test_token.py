"""/auth/token (password, client credentials, refresh), failed-login limits, /auth/me, the JWKS, /auth/users."""

import base64

import jwt
import pytest

from services.gateway.settings import gateway_settings
from shared.auth import ROLE_PERMISSIONS
from tests.support.callers import AUDIENCE, CITY_ADMIN, ISSUER, WANZHOU, Caller
from tests.support.gateway import add_client, add_user, assert_problem

PASSWORD = "correct horse battery"
TOKEN = "/auth/token"


async def login(api, username: str, password: str, **extra):
    return await api.post(
        TOKEN, None, data={"grant_type": "password", "username": username, "password": password, **extra}
    )


async def refresh(api, token: str):
    return await api.post(TOKEN, None, data={"grant_type": "refresh_token", "refresh_token": token})


def claims_of(api, access_token: str) -> dict:
    """The claims, verified with the key the gateway publishes."""
    key = jwt.PyJWK(api.app.state.signing_key.jwks()["keys"][0])
    return jwt.decode(access_token, key.key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)


# --- password grant -------------------------------------------------------------------------------------------


async def test_password_grant_issues_access_and_refresh_token(gateway):
    await add_user(gateway, "alice", PASSWORD, roles=("county_officer",), regions=("500230",))
    response = await login(gateway, "alice", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == gateway_settings().access_token_ttl_s
    assert body["refresh_token"]
    claims = claims_of(gateway, body["access_token"])
    assert claims["sub"] == "alice"
    assert claims["kind"] == "user"
    assert claims["typ"] == "access"
    assert claims["roles"] == ["county_officer"]
    assert claims["regions"] == ["500230"]
    assert claims["exp"] - claims["iat"] == body["expires_in"]

    me = await gateway.get("/auth/me", None, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == "alice"


async def test_user_created_through_the_api_can_log_in(gateway):
    created = await gateway.post(
        "/auth/users",
        CITY_ADMIN,
        json={
            "username": "wulong",
            "password": PASSWORD,
            "display_name": "武隆区扶贫办",
            "roles": ["county_officer"],
            "regions": ["500156"],
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["username"] == "wulong"
    assert user["roles"] == ["county_officer"]
    assert user["regions"] == ["500156"]
    assert user["active"] is True
    assert "password" not in user and "password_hash" not in user

    response = await login(gateway, "wulong", PASSWORD)
    assert response.status_code == 200, response.text
    assert claims_of(gateway, response.json()["access_token"])["regions"] == ["500156"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(gateway):
    await add_user(gateway, "bob", PASSWORD)
    wrong = await login(gateway, "bob", "not the password")
    unknown = await login(gateway, "nobody-here", PASSWORD)
    wrong_body = assert_problem(wrong, 401, "invalid_grant")
    unknown_body = assert_problem(unknown, 401, "invalid_grant")
    assert wrong_body["title"] == unknown_body["title"]
    assert "errors" not in wrong_body and "errors" not in unknown_body  # nothing tells which part was wrong


async def test_inactive_user_cannot_log_in(gateway):
    await add_user(gateway, "retired", PASSWORD, active=False)
    assert_problem(await login(gateway, "retired", PASSWORD), 401, "invalid_grant")


async def test_unsupported_grant_type(gateway):
    response = await gateway.post(TOKEN, None, data={"grant_type": "authorization_code", "code": "x"})
    body = assert_problem(response, 400, "unsupported_grant_type")
    assert body["errors"][0]["field"] == "grant_type"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"grant_type": "password", "password": PASSWORD}, "username"),
        ({"grant_type": "password", "username": "alice"}, "password"),
        ({"grant_type": "password", "username": "alice", "password": ""}, "password"),
        ({"grant_type": "client_credentials", "client_secret": "s"}, "client_id"),
        ({"grant_type": "client_credentials", "client_id": "c"}, "client_secret"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
    ],
)
async def test_missing_parameter_is_invalid_request_naming_the_field(gateway, data, field):
    response = await gateway.post(TOKEN, None, data=data, headers={"Accept-Language": "en"})
    body = assert_problem(response, 400, "invalid_request")
    assert body["errors"] == [{"field": field, "code": "invalid_request", "message": body["title"]}]
    assert field in body["title"]


async def test_missing_grant_type_is_a_validation_error(gateway):
    response = await gateway.post(TOKEN, None, data={"username": "alice", "password": PASSWORD})
    body = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["grant_type"]


# --- client credentials ---------------------------------------------------------------------------------------


async def test_client_credentials_with_form_fields(gateway):
    await add_client(gateway, "dept-civil", "client-secret-1", roles=("department_system",), regions=("500000",))
    response = await gateway.post(
        TOKEN,
        None,
        data={"grant_type": "client_credentials", "client_id": "dept-civil", "client_secret": "client-secret-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] is None
    claims = claims_of(gateway, body["access_token"])
    assert (claims["sub"], claims["kind"], claims["roles"]) == ("dept-civil", "client", ["department_system"])

    me = await gateway.get("/auth/me", None, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["kind"] == "client"
    assert me.json()["permissions"] == ["registry:read"]


async def test_client_credentials_with_http_basic(gateway):
    await add_client(gateway, "dept-hr", "client-secret-2")
    response = await gateway.post(
        TOKEN, None, data={"grant_type": "client_credentials"}, auth=("dept-hr", "client-secret-2")
    )
    assert response.status_code == 200, response.text
    assert claims_of(gateway, response.json()["access_token"])["sub"] == "dept-hr"


async def test_client_credentials_wrong_secret(gateway):
    await add_client(gateway, "dept-bank", "client-secret-3")
    basic = await gateway.post(TOKEN, None, data={"grant_type": "client_credentials"}, auth=("dept-bank", "nope"))
    assert_problem(basic, 401, "invalid_client")
    assert basic.headers["www-authenticate"] == "Basic"
    form = await gateway.post(
        TOKEN, None, data={"grant_type": "client_credentials", "client_id": "dept-bank", "client_secret": "nope"}
    )
    assert_problem(form, 401, "invalid_client")
    unknown = await gateway.post(TOKEN, None, data={"grant_type": "client_credentials"}, auth=("nosuch", "nope"))
    assert_problem(unknown, 401, "invalid_client")


async def test_client_credentials_malformed_basic_header(gateway):
    response = await gateway.post(
        TOKEN, None, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic %%%not-base64"}
    )
    assert_problem(response, 401, "invalid_client")


async def test_client_secret_is_not_a_user_password(gateway):
    """A client cannot use the password grant and a user cannot use client credentials."""
    await add_client(gateway, "dept-x", "client-secret-4")
    await add_user(gateway, "carol", PASSWORD)
    assert_problem(await login(gateway, "dept-x", "client-secret-4"), 401, "invalid_grant")
    response = await gateway.post(TOKEN, None, data={"grant_type": "client_credentials"}, auth=("carol", PASSWORD))
    assert_problem(response, 401, "invalid_client")


# --- refresh tokens -------------------------------------------------------------------------------------------


async def test_refresh_token_rotates_and_reuse_revokes_the_family(gateway):
    await add_user(gateway, "dave", PASSWORD)
    first = await login(gateway, "dave", PASSWORD)
    assert first.status_code == 200, first.text
    r1 = first.json()["refresh_token"]

    second = await refresh(gateway, r1)
    assert second.status_code == 200, second.text
    r2 = second.json()["refresh_token"]
    assert r2 and r2 != r1
    assert claims_of(gateway, second.json()["access_token"])["sub"] == "dave"

    third = await refresh(gateway, r2)  # the new one works once
    assert third.status_code == 200, third.text
    r3 = third.json()["refresh_token"]
    assert r3 not in (r1, r2)

    body = assert_problem(await refresh(gateway, r2), 401, "invalid_grant")  # r2 presented again
    assert body["errors"][0]["field"] == "refresh_token"
    # The whole family is revoked: the newest token fails too, and so does the first.
    assert_problem(await refresh(gateway, r3), 401, "invalid_grant")
    assert_problem(await refresh(gateway, r1), 401, "invalid_grant")


async def test_reuse_revokes_only_its_own_family(gateway):
    await add_user(gateway, "erin", PASSWORD)
    phone = (await login(gateway, "erin", PASSWORD)).json()["refresh_token"]
    laptop = (await login(gateway, "erin", PASSWORD)).json()["refresh_token"]
    assert (await refresh(gateway, phone)).status_code == 200
    assert_problem(await refresh(gateway, phone), 401, "invalid_grant")
    other = await refresh(gateway, laptop)
    assert other.status_code == 200, other.text


async def test_unknown_refresh_token(gateway):
    assert_problem(await refresh(gateway, "not-a-token-we-issued"), 401, "invalid_grant")


async def test_refresh_token_of_a_deactivated_user_fails(gateway):
    user = await add_user(gateway, "frank", PASSWORD)
    token = (await login(gateway, "frank", PASSWORD)).json()["refresh_token"]
    async with gateway.app.state.session_factory() as session:
        stored = await session.get(type(user), user.id)
        stored.active = False
        await session.commit()
    assert_problem(await refresh(gateway, token), 401, "invalid_grant")


# --- failed-login limits --------------------------------------------------------------------------------------


async def test_too_many_failures_lock_the_user_out_even_with_the_right_password(gateway):
    limit = gateway_settings().login_max_failures_per_user
    await add_user(gateway, "grace", PASSWORD)
    for attempt in range(limit):
        response = await login(gateway, "grace", f"wrong-{attempt}")
        assert_problem(response, 401, "invalid_grant")
    locked = await login(gateway, "grace", PASSWORD)
    assert_problem(locked, 429, "too_many_login_failures")
    assert locked.headers["retry-after"] == str(gateway_settings().login_window_s)
    # Another user from the same address is not locked out (the address limit is higher).
    await add_user(gateway, "heidi", PASSWORD)
    assert (await login(gateway, "heidi", PASSWORD)).status_code == 200


async def test_a_successful_login_clears_the_failures(gateway):
    limit = gateway_settings().login_max_failures_per_user
    await add_user(gateway, "ivan", PASSWORD)
    for _ in range(limit - 1):
        assert_problem(await login(gateway, "ivan", "wrong"), 401, "invalid_grant")
    assert (await login(gateway, "ivan", PASSWORD)).status_code == 200
    for _ in range(limit - 1):
        assert_problem(await login(gateway, "ivan", "wrong"), 401, "invalid_grant")
    assert (await login(gateway, "ivan", PASSWORD)).status_code == 200


# --- /auth/me and the JWKS ------------------------------------------------------------------------------------


async def test_me_shows_roles_regions_and_permissions(gateway):
    response = await gateway.get("/auth/me", WANZHOU)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": "wanzhou",
        "kind": "user",
        "name": "wanzhou",
        "roles": ["county_officer"],
        "regions": ["500101"],
        "permissions": sorted(ROLE_PERMISSIONS["county_officer"]),
    }
    admin = (await gateway.get("/auth/me", CITY_ADMIN)).json()
    assert "users:manage" in admin["permissions"]


async def test_me_without_a_token(gateway):
    response = await gateway.get("/auth/me", None)
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_jwks_publishes_one_ed25519_public_key(gateway):
    response = await gateway.get("/.well-known/jwks.json", None)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert key["kid"]
    assert "d" not in key  # never the private part
    assert len(base64.urlsafe_b64decode(key["x"] + "==")) == 32

    await add_user(gateway, "judy", PASSWORD)
    token = (await login(gateway, "judy", PASSWORD)).json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "judy"


# --- /auth/users ----------------------------------------------------------------------------------------------


def user_body(username: str = "newuser", **overrides) -> dict:
    body = {
        "username": username,
        "password": PASSWORD,
        "display_name": "新用户",
        "roles": ["county_officer"],
        "regions": ["500230"],
    }
    body.update(overrides)
    return body


async def test_creating_users_needs_users_manage(gateway):
    response = await gateway.post("/auth/users", WANZHOU, json=user_body())
    body = assert_problem(response, 403, "forbidden")
    assert "users:manage" in body["title"]
    assert_problem(await gateway.post("/auth/users", None, json=user_body()), 401, "unauthenticated")
    # and nothing was created
    assert_problem(await login(gateway, "newuser", PASSWORD), 401, "invalid_grant")


async def test_creating_a_user_twice_conflicts(gateway):
    assert (await gateway.post("/auth/users", CITY_ADMIN, json=user_body("twice"))).status_code == 201
    response = await gateway.post("/auth/users", CITY_ADMIN, json=user_body("twice", password="another passphrase"))
    body = assert_problem(response, 409, "username_taken")
    assert body["errors"][0]["field"] == "username"
    # The first password still works.
    assert (await login(gateway, "twice", PASSWORD)).status_code == 200


async def test_creating_a_user_with_an_unknown_role(gateway):
    response = await gateway.post("/auth/users", CITY_ADMIN, json=user_body(roles=["county_officer", "emperor"]))
    body = assert_problem(response, 422, "unknown_role")
    assert body["errors"][0]["field"] == "roles"
    assert_problem(await login(gateway, "newuser", PASSWORD), 401, "invalid_grant")


@pytest.mark.parametrize(
    "overrides",
    [{"password": "short"}, {"username": "has space"}, {"roles": []}, {"is_admin": True}],
)
async def test_creating_a_user_validates_the_body(gateway, overrides):
    response = await gateway.post("/auth/users", CITY_ADMIN, json=user_body(**overrides))
    assert_problem(response, 422, "validation_failed")


async def test_user_creation_is_audited(gateway):
    auditor = Caller("city-auditor", ("auditor",), ("500000",))
    created = await gateway.post("/auth/users", CITY_ADMIN, json=user_body("audited"))
    assert created.status_code == 201
    log = await gateway.get("/api/v1/gateway/audit", auditor, params={"action": "user.create"})
    assert log.status_code == 200, log.text
    entries = [e for e in log.json()["items"] if e["entity_id"] == created.json()["id"]]
    assert len(entries) == 1
    assert entries[0]["actor"] == "admin"
    assert entries[0]["changes"]["username"] == "audited"
    assert "password" not in str(entries[0]["changes"])
