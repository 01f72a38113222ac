"""Request bodies and setup helpers for registry tests."""

import itertools
import random
from datetime import datetime

from shared.pii import check_character

_serial = itertools.count(1)
_rng = random.Random(7)
_issued: set[str] = set()


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
