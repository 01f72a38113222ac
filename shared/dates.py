"""Business dates are dates in Asia/Shanghai (DESIGN.md): one place for "today" and for a day's start."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Asia/Shanghai, as an aware instant."""
    return datetime.combine(day, time.min, SHANGHAI)
