"""Claims opened by the registry's health events (measure 23 RULE): in hospital → a hospitalisation claim, deceased
→ a death claim, for an enrolled person whose policy covers the day; at most once per person and kind, whatever the
number of events or policies. The events are the registry's own, delivered signed to relief's inbox."""

import json

import pytest

from shared.events import SIGNATURE_HEADER, sign
from shared.ids import uuid7
from shared.settings import common_settings
from tests.support.callers import AUDITOR, CIVIL, FENGDU, WANZHOU
from tests.support.registry import assert_problem, ledger_of, make_household, published, record_health
from tests.support.relief import (
    CLAIMS,
    FENGDU_VILLAGE,
    WANZHOU_VILLAGE,
    enrol_household,
    listed,
    make_policy,
    registry_down,
    relief_audit,
    relief_published,
    step,
)

RELIEF_INBOX = "/api/v1/relief/events/inbox"
REGISTRY_INBOX = "/api/v1/registry/events/inbox"


def _signed(event: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {SIGNATURE_HEADER: sign(common_settings().internal_events_secret(), body)}


async def deliver(api, inbox: str, event: dict) -> bool:
    """Post an event to a service's inbox as a dispatcher would; whether it was new."""
    body, headers = _signed(event)
    response = await api.post(inbox, None, content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["accepted"]


async def health(registry, relief, person_id: str, kind: str, occurred_on: str, **details) -> dict:
    """Record a health event in the registry and deliver the event it published to relief; returns the event."""
    await record_health(registry, person_id, kind, occurred_on, **details)
    event = (await published(registry, "person.health_changed"))[0]
    assert (event["data"]["person_id"], event["data"]["kind"]) == (person_id, kind)
    assert await deliver(relief, RELIEF_INBOX, event)
    return event


@pytest.fixture
async def household(registry) -> dict:
    return await make_household(registry, FENGDU_VILLAGE)


@pytest.fixture
def head(household) -> dict:
    return household["members"][0]


@pytest.fixture
async def policy(relief, household) -> dict:
    """A poor-household policy (10,000 yuan in hospital, 500,000 on death, 2020) covering the whole household."""
    made = await make_policy(relief)
    await enrol_household(relief, made["id"], household["id"])
    return made


async def claims(relief, caller=CIVIL, **params) -> list[dict]:
    return await listed(relief, CLAIMS, caller, **params)


# --- what opens a claim ----------------------------------------------------------------------------------------------


async def test_confirmed_in_hospital_opens_a_hospitalisation_claim(relief, registry, household, head, policy):
    event = await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    [claim] = await claims(relief)
    assert (claim["kind"], claim["occurred_on"], claim["amount_fen"]) == ("hospitalisation", "2020-02-03", 1_000_000)
    assert (claim["status"], claim["opened_by"], claim["source_event_id"]) == ("opened", "event", event["id"])
    assert (claim["insured_kind"], claim["insured_id"], claim["insured_name"]) == ("person", head["id"], "张秀华")
    assert (claim["policy_id"], claim["household_id"], claim["county_code"]) == (
        policy["id"], household["id"], "500230",
    )  # fmt: skip
    assert claim["open_reason"] is None
    [opened] = await relief_published(relief, "insurance.claim_opened")
    assert (opened["household_id"], opened["county_code"]) == (household["id"], "500230")
    assert opened["data"]["summary"] == "张秀华 专属保险住院理赔立案 10000.00元"
    assert (opened["data"]["claim_id"], opened["data"]["amount_fen"]) == (claim["id"], 1_000_000)
    [entry] = await relief_audit(relief, entity_id=claim["id"])
    assert (entry["action"], entry["actor"], entry["changes"]["source_event_id"]) == (
        "insurance_claim.open", "event", event["id"],
    )  # fmt: skip


async def test_the_claim_events_reach_the_household_ledger(relief, registry, household, head, policy):
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    [claim] = await claims(relief)
    await step(relief, claim["id"], "approve")
    await step(relief, claim["id"], "pay")
    for event_type in ("insurance.claim_opened", "insurance.claim_paid"):
        [event] = await relief_published(relief, event_type)
        assert await deliver(registry, REGISTRY_INBOX, event)
        assert not await deliver(registry, REGISTRY_INBOX, event)
    ledger = {e["event_type"]: e for e in await ledger_of(registry, household["id"])}
    assert ledger["insurance.claim_opened"]["summary"] == "张秀华 专属保险住院理赔立案 10000.00元"
    assert ledger["insurance.claim_paid"]["summary"] == "张秀华 专属保险住院理赔已赔付 10000.00元"
    assert ledger["insurance.claim_paid"]["source"] == "relief"


async def test_confirmed_but_not_in_hospital_opens_nothing(relief, registry, head, policy):
    await health(registry, relief, head["id"], "confirmed", "2020-02-03", hospitalised=False)
    assert await claims(relief) == []
    assert await relief_published(relief, "insurance.claim_opened") == []


@pytest.mark.parametrize("kind", ["suspected", "isolated"])
async def test_other_health_events_open_nothing(relief, registry, head, policy, kind):
    await health(registry, relief, head["id"], kind, "2020-02-03")
    assert await claims(relief) == []


async def test_a_later_event_in_hospital_opens_the_claim(relief, registry, head, policy):
    await health(registry, relief, head["id"], "confirmed", "2020-02-03", hospitalised=False)
    await health(registry, relief, head["id"], "discharged", "2020-02-20")
    assert await claims(relief) == []
    later = await health(registry, relief, head["id"], "confirmed", "2020-03-05")
    [claim] = await claims(relief)
    assert (claim["kind"], claim["occurred_on"], claim["source_event_id"]) == ("hospitalisation", "2020-03-05",
                                                                               later["id"])  # fmt: skip


async def test_death_opens_a_death_claim_beside_the_hospitalisation_claim(relief, registry, head, policy):
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    await health(registry, relief, head["id"], "deceased", "2020-02-18")
    by_kind = {c["kind"]: c for c in await claims(relief)}
    assert by_kind.keys() == {"hospitalisation", "death"}
    assert (by_kind["death"]["occurred_on"], by_kind["death"]["amount_fen"]) == ("2020-02-18", 50_000_000)
    summaries = [e["data"]["summary"] for e in await relief_published(relief, "insurance.claim_opened")]
    assert summaries == ["张秀华 专属保险身故理赔立案 500000.00元", "张秀华 专属保险住院理赔立案 10000.00元"]


async def test_death_without_a_hospital_stay_opens_only_the_death_claim(relief, registry, head, policy):
    await health(registry, relief, head["id"], "deceased", "2020-02-18")
    assert [c["kind"] for c in await claims(relief)] == ["death"]


async def test_a_policy_paying_nothing_for_a_kind_opens_no_claim_of_it(relief, registry, household, head):
    no_death = await make_policy(relief, death_fen=0)
    await enrol_household(relief, no_death["id"], household["id"])
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    await health(registry, relief, head["id"], "deceased", "2020-02-18")
    assert [c["kind"] for c in await claims(relief)] == ["hospitalisation"]


# --- at most once per person and kind -------------------------------------------------------------------------------


async def test_the_same_event_delivered_again_changes_nothing(relief, registry, head, policy):
    event = await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    assert not await deliver(relief, RELIEF_INBOX, event)
    assert len(await claims(relief)) == 1
    assert len(await relief_published(relief, "insurance.claim_opened")) == 1


async def test_another_event_in_hospital_for_the_same_person_opens_no_second_claim(relief, registry, head, policy):
    first = await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    await health(registry, relief, head["id"], "discharged", "2020-02-20")
    await health(registry, relief, head["id"], "confirmed", "2020-03-05")
    resent = {**first, "id": uuid7()}  # the same facts under a new event id get past the inbox, not the rule
    assert await deliver(relief, RELIEF_INBOX, resent)
    [claim] = await claims(relief)
    assert (claim["occurred_on"], claim["source_event_id"]) == ("2020-02-03", first["id"])
    assert len(await relief_published(relief, "insurance.claim_opened")) == 1


async def test_a_rejected_claim_is_not_reopened_by_a_later_event(relief, registry, head, policy):
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    [claim] = await claims(relief)
    assert (await step(relief, claim["id"], "reject", json={"reason": "非新冠住院"})).status_code == 200
    await health(registry, relief, head["id"], "discharged", "2020-02-20")
    await health(registry, relief, head["id"], "confirmed", "2020-03-05")
    assert [c["status"] for c in await claims(relief)] == ["rejected"]


async def test_two_policies_open_one_claim_under_the_earliest_enrolment(relief, registry, household, head, policy):
    richer = await make_policy(relief, name="补充保险", hospitalisation_fen=3_000_000)
    await enrol_household(relief, richer["id"], household["id"])
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    [claim] = await claims(relief)
    assert (claim["policy_id"], claim["amount_fen"]) == (policy["id"], 1_000_000)
    assert await claims(relief, policy_id=richer["id"]) == []


async def test_the_policy_covering_the_day_is_used_when_the_first_does_not(relief, registry, household, head):
    january = await make_policy(relief, cover_from="2020-01-01", cover_to="2020-01-31", hospitalisation_fen=500_000)
    february = await make_policy(relief, cover_from="2020-02-01", cover_to="2020-02-29", hospitalisation_fen=700_000)
    for made in (january, february):
        await enrol_household(relief, made["id"], household["id"])
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    [claim] = await claims(relief)
    assert (claim["policy_id"], claim["amount_fen"]) == (february["id"], 700_000)


# --- not enrolled, not covered -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cover_from", "cover_to", "occurred_on", "opened"),
    [
        ("2020-02-01", "2020-02-29", "2020-02-01", True),  # the first day of cover
        ("2020-02-01", "2020-02-29", "2020-02-29", True),  # the last day, inclusive
        ("2020-02-01", "2020-02-29", "2020-01-31", False),  # the day before cover
        ("2020-02-01", "2020-02-29", "2020-03-01", False),  # the day after
    ],
)
async def test_only_a_day_within_cover_opens_a_claim(
    relief, registry, household, head, cover_from, cover_to, occurred_on, opened
):
    made = await make_policy(relief, cover_from=cover_from, cover_to=cover_to)
    await enrol_household(relief, made["id"], household["id"])
    await health(registry, relief, head["id"], "confirmed", occurred_on)
    assert [c["occurred_on"] for c in await claims(relief)] == ([occurred_on] if opened else [])


async def test_a_person_not_enrolled_gets_no_claim(relief, registry, household, head):
    made = await make_policy(relief)
    spouse = household["members"][1]
    await enrol_household(relief, made["id"], household["id"], [spouse["id"]])
    other = await make_household(registry, FENGDU_VILLAGE)
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    await health(registry, relief, other["members"][0]["id"], "deceased", "2020-02-05")
    assert await claims(relief) == []
    assert await relief_published(relief, "insurance.claim_opened") == []


async def test_claims_from_events_are_scoped_by_county(relief, registry, head, policy):
    wanzhou = await make_household(registry, WANZHOU_VILLAGE)
    await enrol_household(relief, policy["id"], wanzhou["id"])
    await health(registry, relief, head["id"], "confirmed", "2020-02-03")
    await health(registry, relief, wanzhou["members"][0]["id"], "confirmed", "2020-02-04")
    fengdu_claims = await claims(relief, FENGDU)
    wanzhou_claims = await claims(relief, WANZHOU)
    assert [c["insured_id"] for c in fengdu_claims] == [head["id"]]
    assert [c["insured_id"] for c in wanzhou_claims] == [wanzhou["members"][0]["id"]]
    assert len(await claims(relief, AUDITOR)) == 2
    assert_problem(await relief.get(f"{CLAIMS}/{wanzhou_claims[0]['id']}", FENGDU), 404, "claim_not_found")


# --- the registry unreachable ----------------------------------------------------------------------------------------


async def test_with_the_registry_unreachable_no_claim_opens_until_the_event_comes_again(relief, registry, head, policy):
    """Claims follow the person's timeline as the registry has it: with the registry unreachable the inbox answers
    503 and records nothing, and the event delivered again opens the claim."""
    await record_health(registry, head["id"], "confirmed", "2020-02-03", hospital="丰都县人民医院", hospitalised=True)
    event = (await published(registry, "person.health_changed"))[0]
    body, headers = _signed(event)
    async with registry_down(relief):
        response = await relief.post(RELIEF_INBOX, None, content=body, headers=headers)
    assert response.status_code == 503 and response.json()["code"] == "registry_unavailable"
    assert await claims(relief) == []
    assert await deliver(relief, RELIEF_INBOX, event)
    [claim] = await claims(relief)
    assert (claim["source_event_id"], claim["amount_fen"]) == (event["id"], 1_000_000)
