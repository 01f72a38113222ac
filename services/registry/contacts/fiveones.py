"""RULE the five ones (五个一, measure 6): during the campaign each cadre, for each household paired with them,
makes a phone call, gives a session of epidemic-prevention education, helps buy or donates protective supplies
(not-yet-lifted households first), carries out a needs survey and draws up an income plan.

Per active pairing (started on or before the as-of date), an item is done when, within the campaign window
(parameter `five_ones_window` in force on the as-of date, cut at the as-of date; Asia/Shanghai days, both ends
included):
- phone call: a contact by the pairing's cadre with the household on channel `phone`;
- prevention education / supplies help: a contact by the pairing's cadre of that kind, on any channel;
- needs survey / income plan: a needs survey / income plan on record for the household (whoever recorded it), or
  a contact by the pairing's cadre of kind `needs_survey` / `income_plan`.
Roll-ups per cadre, township, county (万盛经开区 on its own) and city count pairings complete of pairings, and items
done of items due (five per pairing), percentages to one decimal. All counting is done by grouped SQL.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.registry.contacts import progress, repository
from services.registry.contacts.errors import ExportTooLarge
from services.registry.contacts.rollup import percent, summed
from services.registry.contacts.schemas import (
    CadreTodo,
    FiveOnesCounts,
    FiveOnesItem,
    FiveOnesLevel,
    FiveOnesPairing,
    FiveOnesPairings,
    FiveOnesRollup,
    FiveOnesRow,
    RollupLevel,
    WindowOut,
)
from services.registry.contacts.scope import in_region, region_group
from services.registry.contacts.service import cadre_in_scope
from services.registry.errors import CadreNotFound
from services.registry.models import Cadre
from services.registry.models import FiveOnesProgress as Progress
from services.registry.parameters.service import five_ones_window
from services.registry.scope import pairing_scope
from shared.context import Ctx
from shared.dates import not_in_future, today
from shared.pagination import PageParams, after_id, page_of
from shared.regions import CITY_CODE

EXPORT_LIMIT = 100_000
ITEMS = [item.value for item in FiveOnesItem]
ITEM_ZH = {
    FiveOnesItem.phone_call: "打一个电话",
    FiveOnesItem.prevention_education: "一次防疫知识宣传",
    FiveOnesItem.supplies_help: "帮购或赠送防护用品",
    FiveOnesItem.needs_survey: "一次脱贫需求调查",
    FiveOnesItem.income_plan: "一个脱贫增收计划",
}
STATUS_ZH = {
    "not_lifted": "未脱贫",
    "lifted": "已脱贫",
    "returned": "返贫",
    "lifted_no_policy": "已脱贫（不再享受政策）",
}
GROUPS: dict[FiveOnesLevel, Any] = {
    FiveOnesLevel.cadre: lambda t: t.c.cadre_id,
    FiveOnesLevel.township: lambda t: t.c.township_code,
    FiveOnesLevel.county: lambda t: region_group(RollupLevel.county, t.c.county_code, t.c.township_code),
    FiveOnesLevel.city: lambda t: None,
}


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
    await progress.ensure(ctx.session, window.start)
    return Campaign(on, window.start, window.end)


def _filters(ctx: Ctx, current: Campaign, region: str | None, *extra: Any) -> list[Any]:
    """The active pairings started by the as-of date, in the caller's scope and the region (on FiveOnesProgress)."""
    return [
        Progress.active.is_(True),
        Progress.start_date <= current.as_of,
        pairing_scope(ctx.principal, Progress),
        *in_region(region, Progress.county_code, Progress.township_code, Progress.village_code),
        *extra,
    ]


async def _picked(
    ctx: Ctx, current: Campaign, filters: list[Any], *, limit: int | None = None, before_id: str | None = None
) -> Sequence[Any]:
    """Pairings with their items, newest first."""
    query = progress.pairings(current.period, filters)
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


def counts(row: dict[str, Any]) -> dict[str, Any]:
    due = row["pairings"] * len(ITEMS)
    done = sum(row[item] for item in ITEMS)
    return {
        "pairings": row["pairings"],
        "pairings_complete": row["pairings_complete"],
        "pairings_complete_pct": percent(row["pairings_complete"], row["pairings"]),
        "items_due": due,
        "items_done": done,
        "items_done_pct": percent(done, due),
        "by_item": {item: row[item] for item in ITEMS},
    }


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
            filters = _filters(ctx, current, region)
            rows = await _picked(ctx, current, filters, limit=page.limit + 1, before_id=after_id(page))
        else:  # which pairings are complete is known only once every pairing's items are counted
            rows = await repository.pairing_rows(
                ctx.session,
                progress.pairings(current.period, _filters(ctx, current, region)),
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
        names = await repository.region_names(ctx.session, codes)
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
        filters = progress.tally_filters(ctx.principal, region)
        if filters is not None:
            by_unit = level == FiveOnesLevel.county
            return await progress.tallied(ctx.session, current.window.start, current.as_of, filters, by_unit=by_unit)
    counted = progress.counted(current.period, _filters(ctx, current, region))
    return await repository.five_ones_rollup(ctx.session, counted, GROUPS[level])


async def _todo(ctx: Ctx, cadre: Cadre, current: Campaign) -> CadreTodo:
    """Unfinished households first; among them not-yet-lifted ones (the notice's priority), then the most missing."""
    rows = await _picked(ctx, current, _filters(ctx, current, None, Progress.cadre_id == cadre.id))
    households = sorted(
        (pairing_out(row) for row in rows),
        key=lambda p: (p.complete, p.household_status != "not_lifted", -len(p.missing), p.household_no),
    )
    return CadreTodo(
        cadre_id=cadre.id, cadre_name=cadre.name, as_of=current.as_of, window=current.window, households=households
    )


async def cadre_todo(ctx: Ctx, cadre_id: str, as_of: date | None) -> CadreTodo:
    current = await campaign(ctx, as_of)
    return await _todo(ctx, await cadre_in_scope(ctx, cadre_id), current)


async def my_todo(ctx: Ctx, as_of: date | None) -> CadreTodo:
    """The to-do list of the cadre whose login is the caller."""
    current = await campaign(ctx, as_of)
    cadre = await repository.cadre_of_user(ctx.session, ctx.principal.subject)
    if cadre is None:
        raise CadreNotFound()
    return await _todo(ctx, cadre, current)


async def five_ones_table(
    ctx: Ctx, *, region: str | None, as_of: date | None
) -> tuple[str, list[str], list[list[Any]]]:
    """(file name, headers, rows): every pairing of the region with its five items, by place, for the Excel export."""
    current = await campaign(ctx, as_of)
    query = progress.pairings(current.period, _filters(ctx, current, region))
    rows = await repository.pairing_rows(ctx.session, query, limit=EXPORT_LIMIT + 1, by_place=True)
    if len(rows) > EXPORT_LIMIT:
        raise ExportTooLarge(field="region", limit=EXPORT_LIMIT)
    codes = {row[column] for row in rows for column in ("county_code", "township_code", "village_code")}
    names = await repository.region_names(ctx.session, codes)
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
                STATUS_ZH.get(row["household_status"], row["household_status"]),
                row["cadre_name"],
                *("是" if value else "否" for value in done),
                sum(done),
                "是" if all(done) else "否",
            ]
        )
    return f"五个一_{region or 'all'}_{current.as_of.isoformat()}.xlsx", headers, table
