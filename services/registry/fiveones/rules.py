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

Written here once: `CONTACT_ITEMS` says which contacts by the pairing's own cadre count for which progress column,
`RECORD_ITEMS` which records count for the household whoever made them, and `ITEM_COLUMNS` which columns make each
item. An item is done as of a day when its first time on or after the window start is on or before that day (and
within the window's end).
"""

from datetime import date
from typing import Any

from services.registry.contacts.rollup import percent
from services.registry.contacts.schemas import RollupLevel
from services.registry.contacts.scope import region_group
from services.registry.fiveones.schemas import FiveOnesItem, FiveOnesLevel
from services.registry.models import IncomePlan, NeedsSurvey
from shared.dates import SHANGHAI
from shared.regions import unit_of

# (progress column, Contact attribute, value): a contact by the pairing's cadre whose attribute has the value
CONTACT_ITEMS = (
    ("phone_call", "channel", "phone"),
    ("prevention_education", "kind", "prevention_education"),
    ("supplies_help", "kind", "supplies_help"),
    ("needs_contact", "kind", "needs_survey"),
    ("plan_contact", "kind", "income_plan"),
)
# a record of the household, by anyone: (progress column, its date attribute)
RECORD_ITEMS: dict[type, tuple[str, str]] = {
    NeedsSurvey: ("needs_record", "surveyed_on"),
    IncomePlan: ("plan_record", "planned_on"),
}
# Which progress columns make each item (the first of them is when the item was done); which columns are instants.
ITEM_COLUMNS: dict[FiveOnesItem, tuple[str, ...]] = {
    FiveOnesItem.phone_call: ("phone_call",),
    FiveOnesItem.prevention_education: ("prevention_education",),
    FiveOnesItem.supplies_help: ("supplies_help",),
    FiveOnesItem.needs_survey: ("needs_contact", "needs_record"),
    FiveOnesItem.income_plan: ("plan_contact", "plan_record"),
}
INSTANTS = frozenset(column for column, _, _ in CONTACT_ITEMS)
DUE, COMPLETE = "pairing", "complete"  # the tally's other rows: pairings due, pairings with all five done
TALLIED = ("county_code", "township_code", "start_date", "active", *(c for cs in ITEM_COLUMNS.values() for c in cs))

ITEMS = [item.value for item in FiveOnesItem]
ITEM_ZH = {
    FiveOnesItem.phone_call: "打一个电话",
    FiveOnesItem.prevention_education: "一次防疫知识宣传",
    FiveOnesItem.supplies_help: "帮购或赠送防护用品",
    FiveOnesItem.needs_survey: "一次脱贫需求调查",
    FiveOnesItem.income_plan: "一个脱贫增收计划",
}
GROUPS: dict[FiveOnesLevel, Any] = {
    FiveOnesLevel.cadre: lambda t: t.c.cadre_id,
    FiveOnesLevel.township: lambda t: t.c.township_code,
    FiveOnesLevel.county: lambda t: region_group(RollupLevel.county, t.c.county_code, t.c.township_code),
    FiveOnesLevel.city: lambda t: None,
}

# The item of each first-time column in TALLIED order after the pairing's columns, and whether it is an instant.
_FIRSTS = [(item.value, column in INSTANTS) for item, columns in ITEM_COLUMNS.items() for column in columns]


def tally_keys(row: Any) -> list[tuple[str, str, str, date]]:
    """What a progress row counts in the tally, (county, unit, what, day); nothing for an ended pairing. Due from
    the pairing's start; an item from the day it was first done, not before the start; complete from the last."""
    return keys(*(getattr(row, column) for column in TALLIED))


def keys(county: str, township: str, start: date, active: bool, *firsts: Any) -> list[tuple[str, str, str, date]]:
    """`tally_keys` of a row read as the values of TALLIED."""
    if not active:
        return []
    days: dict[str, date] = {}
    for (item, instant), first in zip(_FIRSTS, firsts, strict=True):
        if first is not None:
            day = max(start, first.astimezone(SHANGHAI).date() if instant else first)
            if day < days.get(item, date.max):
                days[item] = day
    unit = unit_of(county, township)
    found = [(county, unit, DUE, start), *((county, unit, item, day) for item, day in days.items())]
    if len(days) == len(ITEM_COLUMNS):
        found.append((county, unit, COMPLETE, max(days.values())))
    return found


def counts(row: dict[str, Any]) -> dict[str, Any]:
    """A roll-up row's counts: pairings complete of pairings, items done of items due (five per pairing)."""
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
