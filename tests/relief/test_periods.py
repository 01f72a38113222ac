"""RULE relief months (the notice's measure 2), with worked examples written from the rule.

Period k covers [d + (k−1) months, d + k months), months counted from d itself with the day clamped to the month's
end; entitled: every period starting on or before D (discharge or death), or, while open, every period started by
the day asked about; each pays 2 × the standard in force on its own start date. A paid period is never rewritten:
a difference becomes an adjustment line.
"""

from datetime import date

import pytest

from services.relief.cases.periods import (
    Due,
    Settled,
    Standard,
    add_months,
    due,
    entitled_periods,
    entitlements,
    period,
    standard_on,
)


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- month arithmetic -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "months", "expected"), [
    ("2020-01-31", 1, "2020-02-29"),  # leap year: clamped to 29 February
    ("2020-01-31", 2, "2020-03-31"),  # from d itself, not from 29 February
    ("2020-01-31", 3, "2020-04-30"),  # 30-day month
    ("2019-01-31", 1, "2019-02-28"),  # not a leap year
    ("2020-01-30", 1, "2020-02-29"),
    ("2020-01-29", 1, "2020-02-29"),
    ("2020-02-29", 1, "2020-03-29"),
    ("2020-02-29", 12, "2021-02-28"),  # 29 February into a year without one
    ("2020-02-29", 48, "2024-02-29"),
    ("2020-03-31", 1, "2020-04-30"),
    ("2020-03-31", 2, "2020-05-31"),
    ("2020-05-31", 1, "2020-06-30"),
    ("2020-12-15", 1, "2021-01-15"),  # across the year's end
    ("2020-11-30", 3, "2021-02-28"),
    ("2020-02-10", 0, "2020-02-10"),
])  # fmt: skip
def test_add_months_clamps_to_the_months_end(day, months, expected):
    assert add_months(d(day), months) == d(expected)


def test_periods_of_the_31st_of_january_2020():
    assert [(p.number, p.start, p.end) for p in (period(d("2020-01-31"), k) for k in (1, 2, 3, 4))] == [
        (1, d("2020-01-31"), d("2020-02-29")),
        (2, d("2020-02-29"), d("2020-03-31")),
        (3, d("2020-03-31"), d("2020-04-30")),
        (4, d("2020-04-30"), d("2020-05-31")),
    ]


# --- entitled periods -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("diagnosed", "closed", "periods"), [
    # the notice's own examples
    ("2020-02-01", "2020-02-20", 1),
    ("2020-02-01", "2020-03-01", 2),  # D on period 2's first day counts period 2
    ("2020-01-31", "2020-02-28", 1),
    ("2020-01-31", "2020-02-29", 2),  # period 2 starts 29 February 2020
    # more, from the rule
    ("2020-02-01", "2020-02-01", 1),  # discharged the day of diagnosis: a part month is a whole month
    ("2020-02-01", "2020-02-29", 1),  # the last day of period 1
    ("2020-01-31", "2020-03-30", 2),
    ("2020-01-31", "2020-03-31", 3),  # period 3 starts on the 31st again, not the 29th
    ("2019-01-31", "2019-02-27", 1),  # not a leap year: period 2 starts 28 February
    ("2019-01-31", "2019-02-28", 2),
    ("2020-02-29", "2020-03-28", 1),  # diagnosed on 29 February
    ("2020-02-29", "2020-03-29", 2),
    ("2020-02-29", "2021-02-27", 12),
    ("2020-02-29", "2021-02-28", 13),  # period 13 starts 28 February 2021
    ("2020-03-31", "2020-04-29", 1),  # 30-day April
    ("2020-03-31", "2020-04-30", 2),
    ("2020-03-31", "2020-05-30", 2),
    ("2020-03-31", "2020-05-31", 3),
    ("2020-12-20", "2021-01-19", 1),  # across the year's end
    ("2020-12-20", "2021-01-20", 2),
])  # fmt: skip
def test_a_closed_case_is_entitled_to_every_period_starting_on_or_before_D(diagnosed, closed, periods):
    found = entitled_periods(d(diagnosed), d(closed), as_of=d("2021-12-31"))
    assert len(found) == periods
    assert [p.number for p in found] == list(range(1, periods + 1))
    assert found[-1].start <= d(closed) < found[-1].end


@pytest.mark.parametrize(("as_of", "periods"), [
    ("2020-02-09", 0),  # before the diagnosis
    ("2020-02-10", 1),  # the diagnosis date starts period 1
    ("2020-03-09", 1),
    ("2020-03-10", 2),
    ("2020-06-30", 5),
])  # fmt: skip
def test_an_open_case_is_entitled_to_every_period_started_by_as_of(as_of, periods):
    assert len(entitled_periods(d("2020-02-10"), None, d(as_of))) == periods


def test_a_closed_case_seen_before_its_close_date_counts_the_periods_started_by_then():
    assert len(entitled_periods(d("2020-02-01"), d("2020-04-15"), d("2020-03-05"))) == 2
    assert len(entitled_periods(d("2020-02-01"), d("2020-04-15"), d("2020-12-31"))) == 3


def test_death_ends_the_case_like_a_discharge():
    # died on the first day of period 3: period 3 counts, period 4 never starts
    found = entitled_periods(d("2020-02-10"), d("2020-04-10"), d("2020-12-31"))
    assert [p.start for p in found] == [d("2020-02-10"), d("2020-03-10"), d("2020-04-10")]


# --- standards and amounts ------------------------------------------------------------------------------------------

STANDARDS = [Standard(d("2019-07-01"), 49_600), Standard(d("2020-07-01"), 52_600)]


@pytest.mark.parametrize(("day", "expected"), [
    ("2019-06-30", None),
    ("2019-07-01", 49_600),
    ("2020-06-30", 49_600),
    ("2020-07-01", 52_600),
    ("2021-01-01", 52_600),
])  # fmt: skip
def test_the_standard_in_force_is_the_latest_taken_effect(day, expected):
    found = standard_on(reversed(STANDARDS), d(day))
    assert (found.monthly_fen if found else None) == expected


def test_a_standard_that_changes_during_a_case_applies_from_the_first_period_starting_after_it():
    found = entitlements(d("2020-05-15"), d("2020-08-20"), d("2020-12-31"), STANDARDS)
    # periods start 15 May, 15 June, 15 July, 15 August; the raise of 1 July applies from 15 July
    assert [(e.period.start, e.amount_fen) for e in found] == [
        (d("2020-05-15"), 99_200), (d("2020-06-15"), 99_200), (d("2020-07-15"), 105_200), (d("2020-08-15"), 105_200),
    ]  # fmt: skip
    assert sum(e.amount_fen for e in found) == 408_800


def test_a_standard_taking_effect_on_a_periods_first_day_applies_to_it():
    found = entitlements(d("2020-06-01"), d("2020-07-01"), d("2020-12-31"), STANDARDS)
    assert [e.amount_fen for e in found] == [99_200, 105_200]


def test_a_period_without_a_standard_in_force_has_no_amount_and_is_not_due():
    standards = [Standard(d("2020-03-01"), 50_000)]
    found = entitlements(d("2020-02-10"), None, d("2020-04-20"), standards)
    assert [(e.period.number, e.amount_fen) for e in found] == [(1, None), (2, 100_000), (3, 100_000)]
    assert due(found, [], d("2020-02-10")) == [
        Due(2, d("2020-03-10"), "period", 100_000),
        Due(3, d("2020-04-10"), "period", 100_000),
    ]


# --- what is due after payments ---------------------------------------------------------------------------------------


def test_every_unpaid_period_is_due_once_and_paid_or_pending_ones_are_not():
    entitled = entitlements(d("2020-02-01"), d("2020-04-05"), d("2020-12-31"), STANDARDS)
    assert due(entitled, [], d("2020-02-01")) == [
        Due(1, d("2020-02-01"), "period", 99_200),
        Due(2, d("2020-03-01"), "period", 99_200),
        Due(3, d("2020-04-01"), "period", 99_200),
    ]
    settled = [Settled(1, "period", 99_200), Settled(2, "period", 99_200)]  # paid, and pending
    assert due(entitled, settled, d("2020-02-01")) == [Due(3, d("2020-04-01"), "period", 99_200)]


def test_a_later_diagnosis_date_after_a_period_was_paid_is_an_adjustment_not_a_new_period():
    # d was 20 June: period 1 paid at 2 × 496.00. Corrected to 5 July, period 1 starts after the raise of 1 July.
    entitled = entitlements(d("2020-07-05"), d("2020-07-30"), d("2020-12-31"), STANDARDS)
    assert due(entitled, [Settled(1, "period", 99_200)], d("2020-07-05")) == [
        Due(1, d("2020-07-05"), "adjustment", 6_000)
    ]
    # once the adjustment is paid too, nothing more is due
    settled = [Settled(1, "period", 99_200), Settled(1, "adjustment", 6_000)]
    assert due(entitled, settled, d("2020-07-05")) == []


def test_an_earlier_diagnosis_date_adds_periods_and_adjusts_the_paid_ones():
    # d was 5 July 2020 (period 1 paid at 105,200); corrected to 20 June: period 1 now starts before the raise,
    # and the discharge on 25 July falls in period 2, which starts 20 July.
    entitled = entitlements(d("2020-06-20"), d("2020-07-25"), d("2020-12-31"), STANDARDS)
    assert due(entitled, [Settled(1, "period", 105_200)], d("2020-06-20")) == [
        Due(1, d("2020-06-20"), "adjustment", -6_000),
        Due(2, d("2020-07-20"), "period", 105_200),
    ]


def test_an_earlier_discharge_date_after_payment_owes_the_period_back():
    # two periods paid; the discharge corrected from 10 March to 20 February: period 2 no longer starts before D
    entitled = entitlements(d("2020-02-01"), d("2020-02-20"), d("2020-12-31"), STANDARDS)
    settled = [Settled(1, "period", 99_200), Settled(2, "period", 99_200)]
    assert due(entitled, settled, d("2020-02-01")) == [Due(2, d("2020-03-01"), "adjustment", -99_200)]


def test_a_standard_entered_late_for_a_paid_period_is_paid_as_the_difference():
    entitled = entitlements(d("2020-07-10"), None, d("2020-07-31"), [*STANDARDS, Standard(d("2020-07-10"), 55_000)])
    assert due(entitled, [Settled(1, "period", 105_200)], d("2020-07-10")) == [
        Due(1, d("2020-07-10"), "adjustment", 4_800)
    ]


def test_a_failed_line_is_not_settled_so_its_period_is_due_again_as_a_period():
    entitled = entitlements(d("2020-02-01"), d("2020-02-15"), d("2020-12-31"), STANDARDS)
    # the caller passes only live lines (pending or paid); a failed one is left out
    assert due(entitled, [], d("2020-02-01")) == [Due(1, d("2020-02-01"), "period", 99_200)]
