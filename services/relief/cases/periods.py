"""RULE relief months (the notice's measure 2), and what a case has been paid against what it is entitled to.

Let d be the diagnosis date and D the discharge (or death) date. Period k (k = 1, 2, …) covers
[d + (k−1) months, d + k months), month arithmetic from d itself with the day clamped to the month's end
(d = 31 Jan → 29 Feb 2020 → 31 Mar). The case is entitled to every period that starts on or before D; while not
yet discharged, to every period that has started. Each period pays 2 × the dibao standard in force on its start
date for the household's county (or 万盛经开区) and rural or urban class. Money is integer fen.

Plain functions of dates and amounts: the schedule, the payment batches and the tests all use these.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

RELIEF_MULTIPLE = 2  # 按当地低保标准2倍 (the notice, measure 2)


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, the day clamped to the month's end (31 Jan + 1 → 29 Feb 2020)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Period:
    number: int  # k, from 1
    start: date  # d + (k−1) months
    end: date  # d + k months: the first day of the next period, not covered by this one


def period(diagnosed_on: date, number: int) -> Period:
    return Period(number, add_months(diagnosed_on, number - 1), add_months(diagnosed_on, number))


def entitled_periods(diagnosed_on: date, closed_on: date | None, as_of: date) -> list[Period]:
    """The periods due by `as_of`: each that has started by then and, once the case is closed, on or before D."""
    last_day = as_of if closed_on is None else min(closed_on, as_of)
    periods = []
    number = 1
    while (current := period(diagnosed_on, number)).start <= last_day:
        periods.append(current)
        number += 1
    return periods


@dataclass(frozen=True)
class Standard:
    """A dibao standard of the case's unit and class: monthly amount from a date."""

    effective_from: date
    monthly_fen: int


def standard_on(standards: Iterable[Standard], day: date) -> Standard | None:
    """The standard in force on `day`: the latest to take effect on or before it (None: none yet)."""
    in_force = None
    for standard in standards:
        if standard.effective_from <= day and (in_force is None or standard.effective_from > in_force.effective_from):
            in_force = standard
    return in_force


@dataclass(frozen=True)
class Entitlement:
    period: Period
    standard: Standard | None  # None: no standard in force on the period's start, so it cannot be paid yet

    @property
    def amount_fen(self) -> int | None:
        return None if self.standard is None else RELIEF_MULTIPLE * self.standard.monthly_fen


def entitlements(
    diagnosed_on: date, closed_on: date | None, as_of: date, standards: Sequence[Standard]
) -> list[Entitlement]:
    return [Entitlement(p, standard_on(standards, p.start)) for p in entitled_periods(diagnosed_on, closed_on, as_of)]


@dataclass(frozen=True)
class Settled:
    """A payment line of the case that is paid or on its way (pending): never collected again."""

    period_no: int
    kind: str  # period | adjustment
    amount_fen: int


@dataclass(frozen=True)
class Due:
    """What a batch would pay for one period: the period itself, or an adjustment of one already paid (its
    amount negative when the case was overpaid, e.g. after the discharge date was corrected to an earlier day)."""

    period_no: int
    period_start: date
    kind: str  # period | adjustment
    amount_fen: int


def due(entitled: Sequence[Entitlement], settled: Sequence[Settled], diagnosed_on: date) -> list[Due]:
    """The lines still owed (or owed back), period by period: a paid period is never rewritten, a difference
    between what it is entitled to now and what was paid for it becomes an adjustment. A period without a
    standard in force is left out until one is entered."""
    paid: dict[int, int] = {}
    has_period_line: set[int] = set()
    for line in settled:
        paid[line.period_no] = paid.get(line.period_no, 0) + line.amount_fen
        if line.kind == "period":
            has_period_line.add(line.period_no)
    lines = []
    owed = {e.period.number: e for e in entitled}
    for number in sorted(set(owed) | set(paid)):
        entitlement = owed.get(number)
        if entitlement is not None and entitlement.amount_fen is None:
            continue
        target = 0 if entitlement is None else entitlement.amount_fen
        difference = target - paid.get(number, 0)
        if difference == 0:
            continue
        start = entitlement.period.start if entitlement is not None else period(diagnosed_on, number).start
        kind = "adjustment" if number in has_period_line else "period"
        if kind == "period" and difference < 0:
            kind = "adjustment"  # only adjustments are left for this period and they overpaid it
        lines.append(Due(number, start, kind, difference))
    return lines
