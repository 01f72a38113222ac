"""Cursor pagination (shared/pagination.py), alone and through the registry's list routes."""

import base64
import json

import pytest

from shared.errors import DomainError
from shared.pagination import PageParams, after_id, decode_cursor, encode_cursor, page_of
from tests.support.callers import AUDITOR
from tests.support.registry import AUDIT, CADRES, HOUSEHOLDS, PAIRINGS, assert_problem, make_household


def raw_cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_cursor_round_trip():
    values = {"id": "01a22531-6ddf-7257-800c-334ec7c74eb3"}
    assert decode_cursor(encode_cursor(values)) == values


def test_cursor_is_url_safe_and_unpadded():
    cursor = encode_cursor({"id": "??>>??>>", "n": "é" * 7})
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert decode_cursor(cursor) == {"id": "??>>??>>", "n": "é" * 7}


@pytest.mark.parametrize(
    "cursor",
    ["garbage!", "!!!", "%%%", raw_cursor([1, 2]), raw_cursor("id"), raw_cursor(None), "\u6e38\u6807"],
)
def test_garbage_cursor_raises_invalid_cursor(cursor):
    with pytest.raises(DomainError) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_cursor"
    assert caught.value.field == "cursor"


def test_page_of_without_more_rows_has_no_cursor():
    assert page_of([1, 2, 3], 3, lambda r: {"id": r}) == ([1, 2, 3], None)
    assert page_of([], 3, lambda r: {"id": r}) == ([], None)


def test_page_of_cuts_to_limit_and_points_at_last_row_kept():
    kept, cursor = page_of(["d", "c", "b", "a"], 3, lambda r: {"id": r})
    assert kept == ["d", "c", "b"]
    assert decode_cursor(cursor) == {"id": "b"}


# --- through the API -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HOUSEHOLDS, CADRES, PAIRINGS, AUDIT])
@pytest.mark.parametrize("cursor", ["garbage!", "not-a-cursor", raw_cursor([1, 2])])
async def test_garbage_cursor_is_a_400_problem(registry, path, cursor):
    response = await registry.get(path, params={"cursor": cursor})
    problem = assert_problem(response, 400, "invalid_cursor", field="cursor")
    assert problem["title"] == "分页游标无效"
    assert problem["instance"] == path


async def test_garbage_cursor_message_in_english(registry):
    response = await registry.get(HOUSEHOLDS, params={"cursor": "garbage!"}, headers={"Accept-Language": "en"})
    problem = assert_problem(response, 400, "invalid_cursor", field="cursor")
    assert problem["title"] == "The page cursor is invalid"


@pytest.mark.parametrize("value", [{"id": 5}, {}])
async def test_cursor_without_a_string_id_is_a_400_problem(registry, value):
    """A cursor that decodes but was never made by the service must not restart the list or reach the database."""
    await make_household(registry, "500230101201")
    response = await registry.get(HOUSEHOLDS, params={"cursor": raw_cursor(value)})
    assert_problem(response, 400, "invalid_cursor", field="cursor")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
async def test_limit_out_of_range_is_a_validation_problem(registry, limit):
    response = await registry.get(HOUSEHOLDS, params={"limit": limit})
    problem = assert_problem(response, 422, "validation_failed", field="query.limit")
    assert problem["detail"] == "query.limit"


async def test_audit_log_pages_without_gaps(registry):
    for _ in range(3):
        await make_household(registry, "500230101201")
    everything = (await registry.get(AUDIT, AUDITOR, params={"limit": 200})).json()
    assert everything["next_cursor"] is None
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await registry.get(AUDIT, AUDITOR, params=params)).json()
        assert len(page["items"]) <= 2
        seen += [entry["id"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [entry["id"] for entry in everything["items"]]
    assert len(seen) == len(set(seen)) >= 4


def test_after_id_reads_the_id_of_a_cursor():
    assert after_id(PageParams()) is None
    assert after_id(PageParams(cursor=encode_cursor({"id": "01a2"}))) == "01a2"


@pytest.mark.parametrize("value", [{"id": 5}, {"id": None}, {"position": "01a2"}, {}])
def test_after_id_refuses_a_cursor_without_a_string_id(value):
    with pytest.raises(DomainError) as caught:
        after_id(PageParams(cursor=raw_cursor(value)))
    assert (caught.value.status, caught.value.code, caught.value.field) == (400, "invalid_cursor", "cursor")
