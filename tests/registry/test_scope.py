"""Who sees what: county, township and 万盛 officers, village cadres, read-only roles, and callers without a token."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.gateway.keys import SigningKey
from services.gateway.tokens import TokenIssuer
from shared.auth import ACCESS_TOKEN_ALGORITHM
from shared.regions import WANSHENG_TOWNSHIPS
from tests.support.callers import AUDIENCE, AUDITOR, CITY_ADMIN, FENGDU, HR, HUWEI_TOWNSHIP, ISSUER, WANZHOU, Caller
from tests.support.registry import (
    AUDIT,
    HOUSEHOLDS,
    PAIRINGS,
    PERSONS,
    assert_problem,
    household_body,
    id_number,
    make_cadre,
    make_household,
    make_pairing,
    make_village,
    masked,
)

WANSHENG_OFFICER = Caller("ws", ("county_officer",), tuple(sorted(WANSHENG_TOWNSHIPS)))
CADRE = Caller("cadre-x", ("village_cadre",), ("500230101201",))


async def listed_ids(registry, caller, **params) -> set[str]:
    response = await registry.get(HOUSEHOLDS, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return {h["id"] for h in response.json()["items"]}


# --- county officers -------------------------------------------------------------------------------------------------


async def test_officer_cannot_read_other_county_household(registry):
    fengdu = await make_household(registry, "500230101201")
    response = await registry.get(f"{HOUSEHOLDS}/{fengdu['id']}", WANZHOU)
    problem = assert_problem(response, 404, "household_not_found")
    assert problem["title"] == "未找到该贫困户"
    assert (await registry.get(f"{HOUSEHOLDS}/{fengdu['id']}", FENGDU)).status_code == 200


async def test_officer_list_holds_only_own_county(registry):
    fengdu = await make_household(registry, "500230101201")
    wanzhou = await make_household(registry, "500101001201")
    assert await listed_ids(registry, WANZHOU) == {wanzhou["id"]}
    assert await listed_ids(registry, FENGDU) == {fengdu["id"]}
    assert await listed_ids(registry, CITY_ADMIN) == {fengdu["id"], wanzhou["id"]}


async def test_officer_cannot_patch_other_county_household(registry):
    fengdu = await make_household(registry, "500230101201")
    response = await registry.patch(
        f"{HOUSEHOLDS}/{fengdu['id']}", WANZHOU, json={"status": "lifted", "status_reason": "r"}
    )
    assert_problem(response, 404, "household_not_found")
    assert (await registry.get(f"{HOUSEHOLDS}/{fengdu['id']}")).json() == fengdu


async def test_officer_cannot_reach_other_county_persons(registry):
    fengdu = await make_household(registry, "500230101201")
    head = fengdu["members"][0]
    assert_problem(await registry.get(f"{PERSONS}/{head['id']}", WANZHOU), 404, "person_not_found")
    found = await registry.get(PERSONS, WANZHOU, params={"id_number": head["id_number"]})
    assert_problem(found, 404, "person_not_found")
    patched = await registry.patch(f"{PERSONS}/{head['id']}", WANZHOU, json={"name": "冒名"})
    assert_problem(patched, 404, "person_not_found")
    assert (await registry.get(f"{PERSONS}/{head['id']}")).json()["name"] == head["name"]


async def test_officer_cannot_add_member_to_other_county_household(registry):
    fengdu = await make_household(registry, "500230101201")
    body = {"name": "张三", "id_number": id_number("500101", "20100101"), "relation": "child"}
    response = await registry.post(f"{HOUSEHOLDS}/{fengdu['id']}/members", WANZHOU, json=body)
    assert_problem(response, 404, "household_not_found")
    assert (await registry.get(f"{HOUSEHOLDS}/{fengdu['id']}")).json()["member_count"] == 2


async def test_officer_cannot_create_in_other_county(registry):
    await make_village(registry, "500230101201")
    response = await registry.post(HOUSEHOLDS, WANZHOU, json=household_body("500230101201"))
    assert_problem(response, 403, "out_of_scope", field="village_code")
    assert await listed_ids(registry, CITY_ADMIN) == set()


async def test_duplicate_id_number_is_refused_across_counties(registry):
    """Uniqueness is city-wide even though the other county's household is invisible to the caller."""
    fengdu = await make_household(registry, "500230101201")
    await make_village(registry, "500101001201")
    body = household_body("500101001201")
    body["members"][0]["id_number"] = fengdu["members"][0]["id_number"]
    response = await registry.post(HOUSEHOLDS, WANZHOU, json=body)
    assert_problem(response, 409, "id_number_duplicate", field="members.0.id_number")


# --- township officers -----------------------------------------------------------------------------------------------


async def test_township_officer_sees_only_own_township(registry):
    huwei = await make_household(registry, "500230101201")
    shetan = await make_household(registry, "500230102201")
    assert await listed_ids(registry, HUWEI_TOWNSHIP) == {huwei["id"]}
    assert (await registry.get(f"{HOUSEHOLDS}/{huwei['id']}", HUWEI_TOWNSHIP)).status_code == 200
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{shetan['id']}", HUWEI_TOWNSHIP), 404, "household_not_found")
    patched = await registry.patch(
        f"{HOUSEHOLDS}/{shetan['id']}", HUWEI_TOWNSHIP, json={"status": "lifted", "status_reason": "r"}
    )
    assert_problem(patched, 404, "household_not_found")


async def test_township_officer_region_filter_cannot_widen_scope(registry):
    huwei = await make_household(registry, "500230101201")
    await make_household(registry, "500230102201")
    assert await listed_ids(registry, HUWEI_TOWNSHIP, region="500230") == {huwei["id"]}
    assert await listed_ids(registry, HUWEI_TOWNSHIP, region="500230102") == set()


# --- 万盛经开区 --------------------------------------------------------------------------------------------------------


async def test_wansheng_officer_sees_wansheng_not_the_rest_of_qijiang(registry):
    wansheng = await make_household(registry, "500110004201")
    heishan = await make_household(registry, "500110107201")
    gunan = await make_household(registry, "500110001201")
    assert await listed_ids(registry, WANSHENG_OFFICER) == {wansheng["id"], heishan["id"]}
    assert (await registry.get(f"{HOUSEHOLDS}/{wansheng['id']}", WANSHENG_OFFICER)).status_code == 200
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{gunan['id']}", WANSHENG_OFFICER), 404, "household_not_found")
    assert await listed_ids(registry, CITY_ADMIN, region="wansheng") == {wansheng["id"], heishan["id"]}


async def test_wansheng_officer_creates_only_in_wansheng(registry):
    await make_village(registry, "500110004201")
    await make_village(registry, "500110001201")
    ok = await registry.post(HOUSEHOLDS, WANSHENG_OFFICER, json=household_body("500110004201"))
    assert ok.status_code == 201, ok.text
    assert (ok.json()["county_code"], ok.json()["township_code"]) == ("500110", "500110004")
    refused = await registry.post(HOUSEHOLDS, WANSHENG_OFFICER, json=household_body("500110001201"))
    assert_problem(refused, 403, "out_of_scope", field="village_code")


# --- village cadres --------------------------------------------------------------------------------------------------


@pytest.fixture
async def paired(registry) -> dict:
    """cadre-x is paired with one household of their village; another household there is not theirs."""
    mine = await make_household(registry, "500230101201")
    other = await make_household(registry, "500230101201")
    cadre = await make_cadre(registry, "500230101201", username=CADRE.subject)
    pairing = await make_pairing(registry, cadre["id"], mine["id"])
    return {"mine": mine, "other": other, "cadre": cadre, "pairing": pairing}


async def test_cadre_lists_only_paired_households(registry, paired):
    assert await listed_ids(registry, CADRE) == {paired["mine"]["id"]}


async def test_cadre_reads_paired_household_masked(registry, paired):
    response = await registry.get(f"{HOUSEHOLDS}/{paired['mine']['id']}", CADRE)
    assert response.status_code == 200
    household = response.json()
    assert household["id"] == paired["mine"]["id"]
    assert [m["id_number"] for m in household["members"]] == [masked(m["id_number"]) for m in paired["mine"]["members"]]
    assert household["phone"] == "138****1234"


async def test_cadre_cannot_read_unpaired_household_in_own_village(registry, paired):
    other = paired["other"]
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{other['id']}", CADRE), 404, "household_not_found")
    assert_problem(await registry.get(f"{PERSONS}/{other['members'][0]['id']}", CADRE), 404, "person_not_found")
    found = await registry.get(PERSONS, CADRE, params={"id_number": other["members"][0]["id_number"]})
    assert_problem(found, 404, "person_not_found")


async def test_cadre_updates_paired_household_only(registry, paired):
    ok = await registry.patch(
        f"{HOUSEHOLDS}/{paired['mine']['id']}", CADRE, json={"status": "lifted", "status_reason": "r"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "lifted"
    person = paired["mine"]["members"][1]
    ok = await registry.patch(f"{PERSONS}/{person['id']}", CADRE, json={"migrant_status": "in_city"})
    assert ok.status_code == 200
    refused = await registry.patch(
        f"{HOUSEHOLDS}/{paired['other']['id']}", CADRE, json={"status": "lifted", "status_reason": "r"}
    )
    assert_problem(refused, 404, "household_not_found")
    assert (await registry.get(f"{HOUSEHOLDS}/{paired['other']['id']}")).json()["status"] == "not_lifted"


async def test_cadre_cannot_create_households_or_members(registry, paired):
    response = await registry.post(HOUSEHOLDS, CADRE, json=household_body("500230101201"))
    assert_problem(response, 403, "forbidden")
    body = {"name": "张三", "id_number": id_number("500230", "20100101"), "relation": "child"}
    response = await registry.post(f"{HOUSEHOLDS}/{paired['mine']['id']}/members", CADRE, json=body)
    assert_problem(response, 403, "forbidden")


async def test_cadre_loses_sight_when_pairing_ends(registry, paired):
    ended = await registry.post(f"{PAIRINGS}/{paired['pairing']['id']}/end", json={"end_date": "2020-12-31"})
    assert ended.status_code == 200, ended.text
    assert await listed_ids(registry, CADRE) == set()
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{paired['mine']['id']}", CADRE), 404, "household_not_found")


async def test_deactivated_cadre_loses_sight_of_paired_households(registry, paired):
    """An inactive cadre may not be given new pairings (cadre_inactive); the open ones must not keep their access."""
    response = await registry.patch(f"/api/v1/registry/cadres/{paired['cadre']['id']}", json={"active": False})
    assert response.status_code == 200, response.text
    assert await listed_ids(registry, CADRE) == set()
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{paired['mine']['id']}", CADRE), 404, "household_not_found")


async def test_cadre_without_a_cadre_record_sees_nothing(registry, paired):
    stranger = Caller("cadre-unknown", ("village_cadre",), ("500230101201",))
    assert await listed_ids(registry, stranger) == set()
    assert_problem(await registry.get(f"{HOUSEHOLDS}/{paired['mine']['id']}", stranger), 404, "household_not_found")


async def test_cadre_with_another_role_uses_region_scope(registry, paired):
    both = Caller("cadre-x", ("village_cadre", "township_officer"), ("500230101",))
    assert await listed_ids(registry, both) == {paired["mine"]["id"], paired["other"]["id"]}


# --- read-only roles -------------------------------------------------------------------------------------------------


async def test_auditor_reads_but_cannot_write(registry):
    household = await make_household(registry, "500230101201")
    assert (await registry.get(f"{HOUSEHOLDS}/{household['id']}", AUDITOR)).status_code == 200
    assert await listed_ids(registry, AUDITOR) == {household["id"]}
    await make_village(registry, "500230101202")
    created = await registry.post(HOUSEHOLDS, AUDITOR, json=household_body("500230101202"))
    problem = assert_problem(created, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 registry:create）"
    patched = await registry.patch(f"{HOUSEHOLDS}/{household['id']}", AUDITOR, json={"status": "lifted"})
    problem = assert_problem(patched, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 registry:update）"
    assert await listed_ids(registry, CITY_ADMIN) == {household["id"]}


async def test_auditor_reads_the_audit_log_officers_do_not(registry):
    await make_household(registry, "500230101201")
    assert (await registry.get(AUDIT, AUDITOR)).status_code == 200
    for caller in (FENGDU, HR, HUWEI_TOWNSHIP):
        assert_problem(await registry.get(AUDIT, caller), 403, "forbidden")


async def test_county_auditor_sees_only_own_county_audit_rows(registry):
    fengdu = await make_household(registry, "500230101201")
    wanzhou = await make_household(registry, "500101001201")
    county_auditor = Caller("auditor-wz", ("auditor",), ("500101",))
    response = await registry.get(AUDIT, county_auditor, params={"limit": 200})
    entity_ids = {entry["entity_id"] for entry in response.json()["items"]}
    assert wanzhou["id"] in entity_ids
    assert fengdu["id"] not in entity_ids
    assert {entry["county_code"] for entry in response.json()["items"]} == {"500101"}


async def test_unknown_roles_grant_nothing(registry):
    household = await make_household(registry, "500230101201")
    nobody = Caller("mallory", ("superuser",), ("500000",))
    response = await registry.get(f"{HOUSEHOLDS}/{household['id']}", nobody)
    problem = assert_problem(response, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 registry:read）"


async def test_officer_without_regions_sees_nothing(registry):
    await make_household(registry, "500230101201")
    assert await listed_ids(registry, Caller("lost", ("county_officer",), ())) == set()


# --- authentication --------------------------------------------------------------------------------------------------


async def test_no_token_is_401(registry):
    household = await make_household(registry, "500230101201")
    for method, path in (("GET", HOUSEHOLDS), ("GET", f"{HOUSEHOLDS}/{household['id']}"), ("POST", HOUSEHOLDS)):
        response = await registry.request(method, path, None, json={} if method == "POST" else None)
        problem = assert_problem(response, 401, "unauthenticated")
        assert problem["title"] == "未登录或令牌无效"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_no_token_message_in_english(registry):
    response = await registry.get(HOUSEHOLDS, None, headers={"Accept-Language": "en"})
    assert assert_problem(response, 401, "unauthenticated")["title"] == "Missing or invalid access token"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
async def test_garbage_bearer_token_is_401(registry, token):
    response = await registry.get(HOUSEHOLDS, None, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "unauthenticated")


async def test_token_signed_by_another_key_is_401(registry, signing_key):
    impostor = SigningKey.generate()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "admin",
        "roles": ["city_admin"],
        "regions": ["500000"],
        "typ": "access",
        "iat": int(datetime.now(UTC).timestamp()),
        "exp": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()),
        "jti": "forged",
    }
    for kid in (impostor.kid, signing_key.kid):  # an unknown key, and the real key's id on a forged signature
        token = jwt.encode(claims, impostor.private_key, algorithm=ACCESS_TOKEN_ALGORITHM, headers={"kid": kid})
        response = await registry.get(HOUSEHOLDS, None, headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "unauthenticated")


async def test_expired_token_is_401(registry, issuer):
    token = issuer.access_token(
        subject="admin",
        kind="user",
        roles=["city_admin"],
        regions=["500000"],
        name="admin",
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    response = await registry.get(HOUSEHOLDS, None, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "unauthenticated")


async def test_token_for_another_audience_is_401(registry, signing_key):
    other = TokenIssuer(signing_key, issuer=ISSUER, audience="another-api", ttl_s=900)
    token = other.access_token(subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a")
    response = await registry.get(HOUSEHOLDS, None, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "unauthenticated")


async def test_token_from_another_issuer_is_401(registry, signing_key):
    other = TokenIssuer(signing_key, issuer="someone-else", audience=AUDIENCE, ttl_s=900)
    token = other.access_token(subject="admin", kind="user", roles=["city_admin"], regions=["500000"], name="a")
    response = await registry.get(HOUSEHOLDS, None, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "unauthenticated")


async def test_valid_token_is_accepted(registry, token_for):
    response = await registry.get(HOUSEHOLDS, None, headers={"Authorization": f"Bearer {token_for(HR)}"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
