"""Request bodies and setup helpers of the registry tests, used by the relief, shared and e2e tests too: checksum-valid
ID numbers, villages, households, cadres, pairings, health events, contacts, surveys and income plans through the
API (or straight into the test's transaction), the audit log, published events and RFC 9457 problem assertions."""

import itertools
import random
from datetime import datetime, timedelta

from shared.dates import today
from shared.pii import check_character

_serial = itertools.count(1)
_rng = random.Random(7)
_issued: set[str] = set()


def tomorrow() -> str:
    """Tomorrow in Asia/Shanghai, computed when called: a constant taken at import goes stale when a run crosses
    midnight there (16:00 UTC)."""
    return (today() + timedelta(days=1)).isoformat()


def id_number(address: str = "500230", birth: str = "19700101") -> str:
    """A checksum-valid ID number, different on every call."""
    while True:
        first17 = f"{address}{birth}{_rng.randrange(1000):03d}"
        if first17 not in _issued:
            _issued.add(first17)
            return first17 + check_character(first17)


def household_body(village_code: str, **overrides) -> dict:
    body = {
        "household_no": f"{village_code}{next(_serial):06d}",
        "village_code": village_code,
        "status": "not_lifted",
        "attribute": "dibao",
        "dibao": True,
        "area_class": "rural",
        "phone": "13812341234",
        "members": [
            {"name": "张秀华", "id_number": id_number(village_code[:6]), "relation": "head"},
            {"name": "李明", "id_number": id_number(village_code[:6], "19750505"), "relation": "spouse"},
        ],
    }
    body.update(overrides)
    return body


async def make_village(api, code: str, name: str = "测试村") -> None:
    response = await api.post("/api/v1/registry/regions", json={"code": code, "name": name})
    assert response.status_code in (201, 409), response.text


# --- households, cadres and pairings through the API ------------------------------------------------------------

HOUSEHOLDS = "/api/v1/registry/households"
PERSONS = "/api/v1/registry/persons"
CADRES = "/api/v1/registry/cadres"
PAIRINGS = "/api/v1/registry/pairings"
AUDIT = "/api/v1/registry/audit"


def masked(number: str) -> str:
    """How an ID number looks to a caller without pii:read: address code and last four kept."""
    return number[:6] + "*" * 8 + number[-4:]


async def make_household(api, village_code: str, caller=None, **overrides) -> dict:
    """Register the village if need be, then a household in it; returns the created household."""
    await make_village(api, village_code)
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.post(HOUSEHOLDS, json=household_body(village_code, **overrides), **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def cadre_body(region_code: str, **overrides) -> dict:
    body = {
        "name": f"干部{next(_serial)}",
        "unit": "丰都县扶贫办",
        "position": "第一书记",
        "phone": "13900001111",
        "region_code": region_code,
    }
    body.update(overrides)
    return body


async def make_cadre(api, region_code: str, caller=None, **overrides) -> dict:
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.post(CADRES, json=cadre_body(region_code, **overrides), **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def make_pairing(api, cadre_id: str, household_id: str, start_date: str = "2020-02-09", caller=None) -> dict:
    kwargs = {} if caller is None else {"caller": caller}
    body = {"cadre_id": cadre_id, "household_id": household_id, "start_date": start_date}
    response = await api.post(PAIRINGS, json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def audit_entries(api, caller=None, **filters) -> list[dict]:
    """The audit log rows matching `filters` (entity_id, action, actor), newest first."""
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.get(AUDIT, params={**filters, "limit": 200}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def assert_problem(response, status: int, code: str, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status and code (and, if given, an error on `field`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    problem = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"urn:fupin:problem:{code}"
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
    return problem


def field_error(problem: dict, field: str) -> dict:
    """The one entry of a problem's `errors` list about `field`."""
    matches = [e for e in problem.get("errors", []) if e["field"] == field]
    assert len(matches) == 1, problem
    return matches[0]


def instant(value: str) -> datetime:
    """A timestamp from a response, comparable (ISO strings are not: microseconds may be left out)."""
    return datetime.fromisoformat(value)


# --- health events and contact rows ----------------------------------------------------------------------------

HEALTH_EVENTS = "/api/v1/registry/health-events"


def health_path(person_id: str) -> str:
    return f"{PERSONS}/{person_id}/health-events"


HEALTH_DETAILS = {
    "confirmed": {"hospital": "重庆三峡中心医院", "hospitalised": True},
    "isolated": {"isolation_place": "home", "isolation_reason": "close_contact"},
}


def health_body(kind: str, occurred_on: str, **overrides) -> dict:
    """A valid event of `kind`, with the details that kind needs (override or drop them with None)."""
    body = {"kind": kind, "occurred_on": occurred_on, **HEALTH_DETAILS.get(kind, {}), **overrides}
    return {k: v for k, v in body.items() if v is not None}


async def record_health(api, person_id: str, kind: str, occurred_on: str, caller=None, **overrides) -> dict:
    """Record a health event that must be accepted; returns {"event": ..., "person": ...}."""
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.post(health_path(person_id), json=health_body(kind, occurred_on, **overrides), **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def add_contact(api, household: dict, contacted_at: datetime, kind: str = "care", channel: str = "phone") -> None:
    """A contact row with the household, written straight into the test's transaction."""
    from services.registry.models import Contact

    async with api.app.state.session_factory() as session:
        session.add(
            Contact(
                household_id=household["id"], county_code=household["county_code"],
                township_code=household["township_code"], village_code=household["village_code"], channel=channel,
                kind=kind, contacted_at=contacted_at, recorded_by="test",
            )
        )  # fmt: skip
        await session.commit()


# --- contacts, surveys and the five ones ------------------------------------------------------------------------

CONTACTS = "/api/v1/registry/contacts"
FIVE_ONES = "/api/v1/registry/five-ones"
PARAMETERS = "/api/v1/registry/parameters"


def contact_body(household_id: str, **overrides) -> dict:
    body = {
        "household_id": household_id,
        "channel": "phone",
        "kind": "care",
        "contacted_at": "2020-02-12T10:00:00+08:00",
        "notes": "询问身体状况",
    }
    body.update(overrides)
    return body


async def make_contact(api, household_id: str, caller=None, **overrides) -> dict:
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.post(CONTACTS, json=contact_body(household_id, **overrides), **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def flag_case_region(api, region_code: str, flagged: bool = True) -> None:
    """Mark a village (12 digits) or township (9) as having cases, as the health events would, in the test's
    transaction."""
    from services.registry.models import CaseFlag

    level = "village" if len(region_code) == 12 else "township"
    async with api.app.state.session_factory() as session:
        await session.merge(
            CaseFlag(
                region_code=region_code,
                level=level,
                county_code=region_code[:6],
                active_cases=1 if flagged else 0,
                flagged=flagged,
                manual=True,
                manual_reason="测试",
                manual_by="test",
            )
        )
        await session.commit()


async def ledger_of(api, household_id: str, caller=None) -> list[dict]:
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.get(f"{HOUSEHOLDS}/{household_id}/ledger", params={"limit": 200}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def published(api, event_type: str) -> list[dict]:
    """The events of `event_type` the registry published, newest first (as the city admin sees them)."""
    response = await api.get("/api/v1/registry/events", params={"type": event_type, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def set_five_ones_window(api, start: str, end: str | None, effective_from: str = "2020-01-01") -> None:
    body = {"value": {"start": start, "end": end}, "effective_from": effective_from}
    response = await api.request("PUT", f"{PARAMETERS}/five_ones_window", json=body)
    assert response.status_code == 200, response.text


async def listed(api, path: str, caller=None, **params) -> list[dict]:
    """Every item of a one-page list."""
    kwargs = {} if caller is None else {"caller": caller}
    response = await api.get(path, params={"limit": 200, **params}, **kwargs)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


async def make_needs_survey(api, household_id: str, surveyed_on: str = "2020-02-20", caller=None, **overrides) -> dict:
    kwargs = {} if caller is None else {"caller": caller}
    body = {"surveyed_on": surveyed_on, "needs": ["employment"], "difficulties": "外出务工受阻", **overrides}
    response = await api.post(f"{HOUSEHOLDS}/{household_id}/needs-surveys", json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def income_plan_body(planned_on: str = "2020-02-25", **overrides) -> dict:
    body = {
        "planned_on": planned_on,
        "measures": [
            {"kind": "public_post", "description": "村道保洁公益性岗位", "expected_income_fen": 360000},
            {"kind": "industry", "description": "养殖生猪 3 头", "expected_income_fen": 450050},
        ],
    }
    body.update(overrides)
    return body


async def make_income_plan(api, household_id: str, planned_on: str = "2020-02-25", caller=None, **overrides) -> dict:
    kwargs = {} if caller is None else {"caller": caller}
    body = income_plan_body(planned_on, **overrides)
    response = await api.post(f"{HOUSEHOLDS}/{household_id}/income-plans", json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def make_paired(api, village_code: str, username: str, name: str = "李明") -> dict:
    """A household in the village paired with a township cadre who logs in as `username`."""
    household = await make_household(api, village_code)
    cadre = await make_cadre(api, village_code[:9], name=name, username=username)
    pairing = await make_pairing(api, cadre["id"], household["id"])
    return {"household": household, "cadre": cadre, "pairing": pairing}
