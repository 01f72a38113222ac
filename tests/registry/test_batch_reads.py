"""Reads of many at once, what a consumer of many events asks: households with their members
(/household-details) and persons' health histories (/health-histories), by id, scoped like one at a time."""

from tests.support.callers import CITY_ADMIN, FENGDU, RELIEF_SERVICE, WANZHOU
from tests.support.registry import HOUSEHOLDS, assert_problem, audit_entries, make_household, masked, record_health

DETAILS = "/api/v1/registry/household-details"
HISTORIES = "/api/v1/registry/health-histories"


async def test_households_by_id_keep_the_callers_scope_and_leave_out_the_unknown(registry):
    fengdu = [await make_household(registry, "500230101201") for _ in range(2)]
    wanzhou = await make_household(registry, "500101001201")
    ids = [fengdu[1]["id"], wanzhou["id"], "no-such-household", fengdu[0]["id"], fengdu[0]["id"]]
    answer = await registry.get(DETAILS, FENGDU, params={"household_id": ids})
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert sorted(h["id"] for h in got) == sorted(h["id"] for h in fengdu)  # Wanzhou's is not Fengdu's to see
    one = await registry.get(f"{HOUSEHOLDS}/{fengdu[0]['id']}", FENGDU)
    assert next(h for h in got if h["id"] == fengdu[0]["id"]) == one.json()  # the same as read one at a time
    everything = await registry.get(DETAILS, CITY_ADMIN, params={"household_id": ids})
    assert len(everything.json()) == 3
    assert (await registry.get(DETAILS, WANZHOU, params={"household_id": [fengdu[0]["id"]]})).json() == []


async def test_households_by_id_mask_id_numbers_for_a_service_and_audit_unmasked_reads(registry):
    made = await make_household(registry, "500230101201")
    member = made["members"][0]
    [seen] = (await registry.get(DETAILS, RELIEF_SERVICE, params={"household_id": [made["id"]]})).json()
    assert seen["members"][0]["id_number"] == masked(member["id_number"])
    await registry.get(DETAILS, FENGDU, params={"household_id": [made["id"]]})
    reads = await audit_entries(registry, CITY_ADMIN, entity_id=made["id"], actor=FENGDU.subject)
    assert reads, "an unmasked read of the household is audited"


async def test_health_histories_by_person_keep_the_callers_scope(registry):
    fengdu = await make_household(registry, "500230101201")
    wanzhou = await make_household(registry, "500101001201")
    patient, other = fengdu["members"][0]["id"], wanzhou["members"][0]["id"]
    await record_health(registry, patient, "suspected", "2020-02-01")
    await record_health(registry, patient, "confirmed", "2020-02-03", hospital="丰都县人民医院", hospitalised=True)
    answer = await registry.get(HISTORIES, FENGDU, params={"person_id": [patient, other, "nobody"]})
    assert answer.status_code == 200, answer.text
    [history] = answer.json()
    assert history["person_id"] == patient and history["health_status"] == "confirmed"
    assert [e["kind"] for e in history["events"]] == ["suspected", "confirmed"]
    one = await registry.get(f"/api/v1/registry/persons/{patient}/health-events", FENGDU)
    assert history == one.json()
    both = await registry.get(HISTORIES, CITY_ADMIN, params={"person_id": [patient, other]})
    assert {h["person_id"]: len(h["events"]) for h in both.json()} == {patient: 2, other: 0}


async def test_reads_of_many_need_ids_and_take_at_most_a_hundred(registry):
    for path, parameter in ((DETAILS, "household_id"), (HISTORIES, "person_id")):
        assert_problem(await registry.get(path, CITY_ADMIN), 422, "validation_failed", f"query.{parameter}")
        too_many = {parameter: [f"id-{n}" for n in range(101)]}
        assert_problem(
            await registry.get(path, CITY_ADMIN, params=too_many), 422, "validation_failed", f"query.{parameter}"
        )
        assert (await registry.get(path, None, params={parameter: ["x"]})).status_code == 401
