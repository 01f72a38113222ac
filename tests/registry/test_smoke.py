from tests.support.callers import FENGDU, WANZHOU
from tests.support.registry import household_body, make_village


async def test_create_and_read_household(registry):
    await make_village(registry, "500230101201")
    created = await registry.post("/api/v1/registry/households", json=household_body("500230101201"))
    assert created.status_code == 201, created.text
    household = created.json()
    fetched = await registry.get(f"/api/v1/registry/households/{household['id']}", FENGDU)
    assert fetched.status_code == 200
    assert fetched.json()["members"][0]["relation"] == "head"


async def test_officer_cannot_see_other_county(registry):
    await make_village(registry, "500230101201")
    created = await registry.post("/api/v1/registry/households", json=household_body("500230101201"))
    response = await registry.get(f"/api/v1/registry/households/{created.json()['id']}", WANZHOU)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "household_not_found"
