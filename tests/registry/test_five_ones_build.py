"""The five ones' progress rows built when the registry starts, and a build beside a contact being recorded, on a
database of its own (real commits, one connection a session)."""

import asyncio
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from services.registry.fiveones import upkeep
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
from services.registry.parameters.service import PARAMETERS
from shared.dates import today
from shared.db import Database
from shared.migrations import upgrade_async
from tests.support.database import BACKEND

VILLAGE = "500230101201"


START = date(2020, 2, 9)


def a_contact(pairing: Pairing, kind: str, at: datetime) -> Contact:
    return Contact(
        household_id=pairing.household_id, cadre_id=pairing.cadre_id, county_code="500230",
        township_code=VILLAGE[:9], village_code=VILLAGE, channel="wechat", kind=kind, recorded_by="x", contacted_at=at,
    )  # fmt: skip


async def the_row(db: Database) -> FiveOnesProgress:
    async with db.sessions() as session:
        return (await session.scalars(sa.select(FiveOnesProgress))).one()


async def the_pairing(db: Database) -> Pairing:
    async with db.sessions() as session:
        return (await session.scalars(sa.select(Pairing))).one()


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


async def built_windows(db: Database) -> list[date]:
    async with db.sessions() as session:
        return list((await session.scalars(sa.select(FiveOnesWindow.window_start))).all())


async def test_the_window_in_force_is_built_at_the_start_and_a_new_one_within_the_interval(databases):
    db = await registry_with_a_pairing(databases)
    app = SimpleNamespace(state=SimpleNamespace(db=db))
    start, stop = upkeep.build_hooks(0.2)
    await start(app)
    try:
        for _ in range(100):
            if await built_windows(db):
                break
            await asyncio.sleep(0.05)
        assert await built_windows(db) == [START]
        row = await the_row(db)
        assert row.phone_call == datetime(2020, 2, 10, 2, tzinfo=UTC)
        assert (row.prevention_education, row.needs_record, row.active) == (None, None, True)

        async with db.sessions.begin() as session:  # a new window, in force from today
            window = {"start": "2020-03-01", "end": None}
            await PARAMETERS.set(session, key="five_ones_window", value=window, effective_from=today(), by="test")
        for _ in range(100):
            if len(await built_windows(db)) == 2:
                break
            await asyncio.sleep(0.05)
        assert await built_windows(db) == [START, date(2020, 3, 1)]
    finally:
        await stop(app)
    assert app.state.five_ones_build.cancelled()
    await db.dispose()


async def test_nothing_is_built_at_start_when_it_is_switched_off(databases):
    db = await registry_with_a_pairing(databases)
    app = SimpleNamespace(state=SimpleNamespace(db=db))
    start, stop = upkeep.build_hooks(0)
    await start(app)
    assert app.state.five_ones_build is None
    await stop(app)
    async with db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(FiveOnesWindow)) == 0
    await db.dispose()


@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite has one writer: no build starts while a contact is written")
async def test_a_contact_written_before_a_build_and_counted_after_it(databases):
    db = await registry_with_a_pairing(databases)
    pairing = await the_pairing(db)
    at = datetime(2020, 2, 11, 2, tzinfo=UTC)
    async with db.sessions() as writer:
        contact = a_contact(pairing, "supplies_help", at)
        writer.add(contact)
        await writer.flush()  # written, not yet committed, when the build reads the records
        async with db.sessions.begin() as builder:
            await upkeep.ensure(builder, START)
        await upkeep.on_contact(writer, contact)  # the build is committed: the writer counts its contact
        await writer.commit()
    row = await the_row(db)
    assert (row.phone_call, row.supplies_help) == (datetime(2020, 2, 10, 2, tzinfo=UTC), at)
    await db.dispose()


async def test_a_build_waits_for_a_contact_being_recorded(databases):
    db = await registry_with_a_pairing(databases)
    pairing = await the_pairing(db)
    at = datetime(2020, 2, 12, 2, tzinfo=UTC)
    async with db.sessions() as writer:
        contact = a_contact(pairing, "prevention_education", at)
        writer.add(contact)
        await writer.flush()
        await upkeep.on_contact(writer, contact)  # nothing built yet: it holds the lock, counts nothing

        async def build() -> None:
            async with db.sessions.begin() as builder:
                await upkeep.ensure(builder, START)

        building = asyncio.create_task(build())
        await asyncio.sleep(0.3)
        assert not building.done()  # waiting for the writer's transaction
        await writer.commit()
    await asyncio.wait_for(building, 10)
    row = await the_row(db)
    assert row.prevention_education == at
    await db.dispose()
