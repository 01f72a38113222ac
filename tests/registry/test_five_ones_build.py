"""The five ones' progress rows built when the registry starts, on a database of its own (real commits)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import sqlalchemy as sa

from services.registry.contacts import progress
from services.registry.models import (
    Cadre,
    Contact,
    FiveOnesProgress,
    FiveOnesWindow,
    Household,
    Pairing,
    Region,
    plumbing,
)
from shared.db import Database
from shared.migrations import upgrade_async

VILLAGE = "500230101201"


async def registry_with_a_pairing(databases) -> Database:
    url = await databases.create("five_ones_build")
    await upgrade_async("registry", url)
    db = Database(url, plumbing)
    now = datetime.now(UTC)
    async with db.sessions.begin() as session:
        session.add(Region(code=VILLAGE, name="红岩村", level="village", parent_code=VILLAGE[:9], county_code="500230"))
        await session.flush()
        household = Household(
            household_no="H0001", village_code=VILLAGE, township_code=VILLAGE[:9], county_code="500230",
            status="not_lifted", attribute="ordinary", area_class="rural", head_name="张三", member_count=1,
        )  # fmt: skip
        cadre = Cadre(
            name="李干部", unit="镇政府", region_code=VILLAGE, county_code="500230", township_code=VILLAGE[:9]
        )
        session.add_all([household, cadre])
        await session.flush()
        pairing = Pairing(
            cadre_id=cadre.id, household_id=household.id, county_code="500230", township_code=VILLAGE[:9],
            start_date=date(2020, 2, 9),
        )  # fmt: skip
        session.add(pairing)
        await session.flush()
        session.add(
            Contact(
                household_id=household.id, cadre_id=cadre.id, county_code="500230", township_code=VILLAGE[:9],
                village_code=VILLAGE, channel="phone", kind="care", recorded_by="x",
                contacted_at=datetime(2020, 2, 10, 2, tzinfo=UTC), created_at=now,
            )
        )  # fmt: skip
    return db


async def test_the_window_in_force_is_built_when_the_registry_starts(databases):
    db = await registry_with_a_pairing(databases)
    app = SimpleNamespace(state=SimpleNamespace(db=db))
    start, stop = progress.build_hooks(True)
    await start(app)
    await app.state.five_ones_build
    await stop(app)
    async with db.sessions() as session:
        assert (await session.scalars(sa.select(FiveOnesWindow.window_start))).all() == [date(2020, 2, 9)]
        [row] = (await session.scalars(sa.select(FiveOnesProgress))).all()
        assert row.phone_call == datetime(2020, 2, 10, 2, tzinfo=UTC)
        assert (row.prevention_education, row.needs_record, row.active) == (None, None, True)
    await db.dispose()


async def test_nothing_is_built_at_start_when_it_is_switched_off(databases):
    db = await registry_with_a_pairing(databases)
    app = SimpleNamespace(state=SimpleNamespace(db=db))
    start, stop = progress.build_hooks(False)
    await start(app)
    assert app.state.five_ones_build is None
    await stop(app)
    async with db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(FiveOnesWindow)) == 0
    await db.dispose()
