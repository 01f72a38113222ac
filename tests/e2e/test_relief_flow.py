"""Relief with real processes: a confirmation recorded in the registry through the gateway opens a relief case
(relief checks the household with the registry, with its own token), a discharge closes it, the case's events reach
the household's ledger; with relief stopped while a confirmation is recorded, the case appears once it is back."""

import asyncio

import pytest

from tests.support.e2e import cases_of, create_household, record, until

pytestmark = pytest.mark.e2e


async def test_a_confirmation_opens_a_case_and_a_discharge_closes_it(stack):
    household = await create_household(stack)
    person = household["members"][0]
    await record(
        stack,
        person["id"],
        {"kind": "confirmed", "occurred_on": "2020-02-03", "hospital": "丰都县人民医院", "hospitalised": True},
    )

    async def opened():
        return [c for c in await cases_of(stack, person["id"]) if c["status"] == "open"]

    [case] = await until(opened, "relief opens the case")
    assert (case["diagnosed_on"], case["household_id"]) == ("2020-02-03", household["id"])

    await record(stack, person["id"], {"kind": "discharged", "occurred_on": "2020-03-03"})

    async def closed():
        return [c for c in await cases_of(stack, person["id"]) if c["status"] == "closed"]

    [case] = await until(closed, "relief closes the case")
    assert (case["closed_on"], case["close_reason"]) == ("2020-03-03", "discharged")

    async def in_ledger():
        response = await stack.http.get(
            f"/api/v1/registry/households/{household['id']}/ledger", params={"limit": 200}, headers=await stack.auth()
        )
        assert response.status_code == 200, response.text
        types = [e["event_type"] for e in response.json()["items"]]
        return {"relief.case_opened", "relief.case_closed"} <= set(types) and types

    types = await until(in_ledger, "the case's events reach the household ledger")
    assert types.index("relief.case_opened") < types.index("relief.case_closed")


async def test_a_confirmation_while_relief_is_down_opens_the_case_once_relief_is_back(stack):
    household = await create_household(stack)
    person = household["members"][1]
    assert stack.relief is not None
    stack.relief.stop()
    try:
        await record(
            stack,
            person["id"],
            {"kind": "confirmed", "occurred_on": "2020-02-05", "hospital": "丰都县人民医院", "hospitalised": False},
        )
        await asyncio.sleep(1.0)  # the registry's dispatcher tries, and fails, meanwhile
    finally:
        await stack.start_relief()

    async def opened():
        return await cases_of(stack, person["id"])

    [case] = await until(opened, "the case appears once relief is back")
    assert (case["status"], case["diagnosed_on"]) == ("open", "2020-02-05")
