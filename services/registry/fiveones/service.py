"""The five ones (五个一, measure 6) as reported: per pairing or rolled up per cadre, township, county or city, and
the Excel table; the RULE is in rules.py, the tables it counts from are kept by upkeep.py."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.registry.contacts.rollup import summed
from services.registry.contacts.scope import in_region
from services.registry.fiveones import repository, upkeep
from services.registry.fiveones.errors import ExportTooLarge
from services.registry.fiveones.rules import GROUPS, ITEM_ZH, ITEMS, counts
from services.registry.fiveones.schemas import (
    FiveOnesCounts,
    FiveOnesItem,
    FiveOnesLevel,
    FiveOnesPairing,
    FiveOnesPairings,
    FiveOnesRollup,
    FiveOnesRow,
    WindowOut,
)
from services.registry.models import FiveOnesProgress as Progress
from services.registry.parameters.service import five_ones_window
from services.registry.regions import repository as regions
from services.registry.scope import pairing_scope
from shared.context import Ctx
from shared.dates import not_in_future, today
from shared.pagination import PageParams, after_id, page_of
from shared.regions import CITY_CODE
from shared.schemas.registry import POVERTY_STATUS_ZH

EXPORT_LIMIT = 100_000


class Campaign:
    """The window in force on `as_of` and the days that count: the window cut at `as_of`."""

    def __init__(self, as_of: date, start: date, end: date | None):
        self.as_of = as_of
        self.window = WindowOut(start=start, end=end)
        self.period = repository.Period(first=start, last=as_of if end is None else min(end, as_of))


async def campaign(ctx: Ctx, as_of: date | None) -> Campaign:
    """The campaign as of a day up to today (what is done later is not known yet), its progress rows built."""
    if as_of is not None:
        not_in_future(as_of, "as_of")
    on = as_of or today()
    window = await five_ones_window(ctx.session, on)
    if not await repository.known_built(ctx.session, window.start):
        await ctx.written_apart(lambda session: upkeep.ensure(session, window.start))
    return Campaign(on, window.start, window.end)


def pairing_filters(ctx: Ctx, current: Campaign, region: str | None, *extra: Any) -> list[Any]:
    """The active pairings started by the as-of date, in the caller's scope and the region (on FiveOnesProgress)."""
    return [
        Progress.active.is_(True),
        Progress.start_date <= current.as_of,
        pairing_scope(ctx.principal, Progress),
        *in_region(region, Progress.county_code, Progress.township_code, Progress.village_code),
        *extra,
    ]


async def picked(
    ctx: Ctx, current: Campaign, filters: list[Any], *, limit: int | None = None, before_id: str | None = None
) -> Sequence[Any]:
    """Pairings with their items, newest first."""
    query = repository.pairings(current.period, filters)
    return await repository.pairing_rows(ctx.session, query, limit=limit, before_id=before_id)


def pairing_out(row: Any) -> FiveOnesPairing:
    done = [item for item in FiveOnesItem if row[item.value]]
    missing = [item for item in FiveOnesItem if not row[item.value]]
    return FiveOnesPairing(
        pairing_id=row["pairing_id"],
        cadre_id=row["cadre_id"],
        cadre_name=row["cadre_name"],
        household_id=row["household_id"],
        household_no=row["household_no"],
        head_name=row["head_name"],
        village_code=row["village_code"],
        household_status=row["household_status"],
        done=done,
        missing=missing,
        complete=not missing,
    )


async def five_ones(
    ctx: Ctx,
    page: PageParams,
    *,
    level: FiveOnesLevel,
    region: str | None,
    as_of: date | None,
    complete: bool | None,
) -> FiveOnesPairings | FiveOnesRollup:
    current = await campaign(ctx, as_of)
    if level == FiveOnesLevel.pairing:
        if complete is None:
            filters = pairing_filters(ctx, current, region)
            rows = await picked(ctx, current, filters, limit=page.limit + 1, before_id=after_id(page))
        else:  # which pairings are complete is known only once every pairing's items are counted
            rows = await repository.pairing_rows(
                ctx.session,
                repository.pairings(current.period, pairing_filters(ctx, current, region)),
                before_id=after_id(page),
                complete=complete,
                limit=page.limit + 1,
            )
        kept, cursor = page_of(list(rows), page.limit, lambda row: {"id": row["pairing_id"]})
        return FiveOnesPairings(
            level="pairing",
            as_of=current.as_of,
            window=current.window,
            items=[pairing_out(row) for row in kept],
            next_cursor=cursor,
        )
    rows = await _rollup(ctx, current, level, region)
    if level == FiveOnesLevel.city:
        rows = [{**row, "code": CITY_CODE} for row in rows]
    codes = {row["code"] for row in rows}
    if level == FiveOnesLevel.cadre:
        names = await repository.cadre_names(ctx.session, codes)
    else:
        names = await regions.names(ctx.session, codes)
    return FiveOnesRollup(
        level=level.value,
        as_of=current.as_of,
        window=current.window,
        total=FiveOnesCounts(**counts(summed(rows, ["pairings", "pairings_complete", *ITEMS]))),
        items=[FiveOnesRow(code=row["code"], name=names.get(row["code"]), **counts(row)) for row in rows],
    )


async def _rollup(ctx: Ctx, current: Campaign, level: FiveOnesLevel, region: str | None) -> list[dict[str, Any]]:
    """Counted from the tally (a few rows a county and day) for a county or the city in an open window when the
    caller's scope and the region are whole counties; else from the progress rows (one a pairing)."""
    open_window = current.window.end is None or current.window.end >= current.as_of
    if level in (FiveOnesLevel.county, FiveOnesLevel.city) and open_window:
        filters = repository.tally_filters(ctx.principal, region)
        if filters is not None:
            by_unit = level == FiveOnesLevel.county
            return await repository.tallied(ctx.session, current.window.start, current.as_of, filters, by_unit=by_unit)
    counted = repository.counted(current.period, pairing_filters(ctx, current, region))
    return await repository.five_ones_rollup(ctx.session, counted, GROUPS[level])


async def five_ones_table(
    ctx: Ctx, *, region: str | None, as_of: date | None
) -> tuple[str, list[str], list[list[Any]]]:
    """(file name, headers, rows): every pairing of the region with its five items, by place, for the Excel export."""
    current = await campaign(ctx, as_of)
    query = repository.pairings(current.period, pairing_filters(ctx, current, region))
    rows = await repository.pairing_rows(ctx.session, query, limit=EXPORT_LIMIT + 1, by_place=True)
    if len(rows) > EXPORT_LIMIT:
        raise ExportTooLarge(field="region", limit=EXPORT_LIMIT)
    codes = {row[column] for row in rows for column in ("county_code", "township_code", "village_code")}
    names = await regions.names(ctx.session, codes)
    headers = [
        "区县 County", "乡镇 Township", "村（社区） Village", "户编号 Household no.", "户主 Head",
        "贫困状态 Status", "帮扶干部 Cadre", *(f"{ITEM_ZH[item]} {item.value}" for item in FiveOnesItem),
        "完成项数 Items done", "全部完成 Complete",
    ]  # fmt: skip
    table = []
    for row in rows:
        done = [row[item] for item in ITEMS]
        table.append(
            [
                names.get(row["county_code"], row["county_code"]),
                names.get(row["township_code"], row["township_code"]),
                names.get(row["village_code"], row["village_code"]),
                row["household_no"],
                row["head_name"],
                POVERTY_STATUS_ZH.get(row["household_status"], row["household_status"]),
                row["cadre_name"],
                *("是" if value else "否" for value in done),
                sum(done),
                "是" if all(done) else "否",
            ]
        )
    return f"五个一_{region or 'all'}_{current.as_of.isoformat()}.xlsx", headers, table
