"""Request bodies and setup helpers for registry tests."""

import itertools
import random

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
