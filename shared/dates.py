"""Business dates are dates in Asia/Shanghai: one place for "today" and for a day's start."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.errors import DateInFuture

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Asia/Shanghai, as an aware instant."""
    return datetime.combine(day, time.min, SHANGHAI)


# How far ahead of the server's clock a device's instant may be (a phone's clock runs a little fast)
CLOCK_SKEW = timedelta(minutes=5)


def not_in_future(value: date | datetime, field: str) -> None:
    """Refuse a business date after today in Asia/Shanghai, or an instant more than CLOCK_SKEW ahead of now
    (DateInFuture, 422, naming the field)."""
    if isinstance(value, datetime):
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise DateInFuture(field=field)
    elif value > today():
        raise DateInFuture(field=field)
