"""Cursor pagination: `limit` + opaque `cursor`, newest first; `updated_since` for incremental sync."""

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from shared.errors import InvalidCursor

MAX_LIMIT = 200


class PageParams(BaseModel):
    limit: int = 50
    cursor: str | None = None
    updated_since: datetime | None = None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数 Page size")] = 50,
    cursor: Annotated[str | None, Query(description="上一页返回的游标 Cursor from the previous page")] = None,
    updated_since: Annotated[
        AwareDatetime | None,
        Query(description="只返回此时间之后更新的记录，须带时区 Only rows updated after this instant, with its offset"),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, updated_since=updated_since)


T = TypeVar("T")


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first; pass `next_cursor` back as `cursor` for the next page."""

    items: list[T]
    next_cursor: str | None = Field(
        None, description="下一页游标，为空表示没有更多 Next page's cursor; null at the end"
    )


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(field="cursor") from exc
    if not isinstance(value, dict):
        raise InvalidCursor(field="cursor")
    return value


def after_id(page: PageParams) -> str | None:
    """The id the next page starts below, from the page's cursor (lists keyed by UUIDv7 id, newest first)."""
    if not page.cursor:
        return None
    value = decode_cursor(page.cursor).get("id")
    if not isinstance(value, str):
        raise InvalidCursor(field="cursor")
    return value


def page_of(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """Rows were fetched with limit + 1: cut to `limit` and make the cursor from the last row kept."""
    if len(rows) <= limit:
        return rows, None
    kept = rows[:limit]
    return kept, encode_cursor(key(kept[-1]))
