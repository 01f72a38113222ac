"""Arithmetic of the roll-ups: percentages to one decimal and averages in fen, both in integers, halves rounded up."""

from typing import Any


def percent(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal (2 of 3 → 66.7, 1 of 16 → 6.3); None when whole is 0.

    Integer arithmetic, so a half is always rounded up (float rounding would give 6.2 for 6.25)."""
    if whole == 0:
        return None
    tenths = (part * 2000 + whole) // (2 * whole)
    return tenths / 10


def average(total: int, count: int) -> int | None:
    """total / count rounded to the nearest whole fen, halves up; None when count is 0 (totals here are ≥ 0)."""
    if count == 0:
        return None
    return (2 * total + count) // (2 * count)


def summed(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, int]:
    """The total row of a roll-up: each of `keys` added over the rows."""
    return {key: sum(row[key] for row in rows) for key in keys}
