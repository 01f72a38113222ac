"""The one `yuan` (exact, right for negative amounts, grouped for people) and the one refusal of a future date."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.dates import CLOCK_SKEW, not_in_future, today
from shared.errors import DateInFuture
from shared.money import yuan


@pytest.mark.parametrize(
    ("fen", "plain", "grouped"),
    [(0, "0.00", "0.00"), (5, "0.05", "0.05"), (-5, "-0.05", "-0.05"), (123456, "1234.56", "1,234.56"),
     (-810050, "-8100.50", "-8,100.50"), (100_000_000_01, "100000000.01", "100,000,000.01")],
)  # fmt: skip
def test_yuan(fen, plain, grouped):
    assert yuan(fen) == plain
    assert yuan(fen, grouped=True) == grouped


def test_a_date_after_today_or_an_instant_beyond_the_clock_skew_is_refused_naming_the_field():
    not_in_future(today(), "on")
    not_in_future(datetime.now(UTC) + CLOCK_SKEW - timedelta(seconds=5), "at")
    with pytest.raises(DateInFuture) as refused:
        not_in_future(today() + timedelta(days=1), "checked_on")
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "date_in_future", "checked_on")
    with pytest.raises(DateInFuture):
        not_in_future(datetime.now(UTC) + CLOCK_SKEW + timedelta(minutes=1), "contacted_at")
