"""Relief's batch inbox (what the registry's dispatcher posts): many persons' events in one POST, each person's
timeline followed as if alone, and what relief holds about them read once for the POST, not once a person."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.callers import CIVIL
from tests.support.database import BACKEND
from tests.support.registry import make_household, published
from tests.support.relief import CASES, add_standard, cases_of, deliver_batch, health_event

VILLAGE = "500230101201"  # 丰都县虎威镇


@pytest.fixture
async def standard(relief) -> None:
    await add_standard(relief, "500230", "rural", 44_000, "2019-07-01")


async def patients(registry, count: int) -> list[str]:
    """`count` heads of new households, each confirmed on 2020-02-01 and discharged on 2020-02-20."""
    heads = [(await make_household(registry, VILLAGE))["members"][0]["id"] for _ in range(count)]
    for kind, day in (("confirmed", "2020-02-01"), ("discharged", "2020-02-20")):
        for person_id in heads:
            await health_event(registry, person_id, kind, day)
    return heads


async def confirmations_of(registry, heads: list[str]) -> list[dict]:
    events = await published(registry, "person.health_changed")
    return [e for e in events if e["data"]["person_id"] in heads and e["data"]["kind"] == "confirmed"]


def reads_per_table(statements: list[str]) -> dict[str, int]:
    """How many SELECTs read each table (its first FROM), and how many take advisory locks (PostgreSQL)."""
    counts: dict[str, int] = {}
    for statement in statements:
        if "pg_advisory_xact_lock" in statement:
            counts["advisory locks"] = counts.get("advisory locks", 0) + 1
            continue
        found = re.match(r"\s*SELECT\b.*?\bFROM\s+(\w+)", statement, re.S)
        if found:
            counts[found[1]] = counts.get(found[1], 0) + 1
    return counts


def writes_per_table(statements: list[str]) -> dict[str, int]:
    """How many INSERT and UPDATE statements write each table, as "INSERT table" and "UPDATE table"."""
    counts: dict[str, int] = {}
    for statement in statements:
        found = re.match(r"\s*(INSERT INTO|UPDATE)\s+\"?(\w+)", statement)
        if found:
            key = f"{found[1].split()[0]} {found[2]}"
            counts[key] = counts.get(key, 0) + 1
    return counts


async def reads_of_a_post(relief, relief_app, events: list[dict]) -> dict[str, int]:
    return reads_per_table(await statements_of_a_post(relief, relief_app, events))


async def statements_of_a_post(relief, relief_app, events: list[dict]) -> list[str]:
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = relief_app.state.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        results = await deliver_batch(relief, events)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert [(r["status"], r["accepted"]) for r in results] == [(200, True)] * len(events)
    return statements


async def test_every_person_of_a_post_gets_their_case(relief, registry, standard):
    heads = await patients(registry, 3)
    await deliver_batch(relief, await confirmations_of(registry, heads))
    for person_id in heads:
        [case] = await cases_of(relief, person_id=person_id)
        assert (case["diagnosed_on"], case["closed_on"], case["status"]) == ("2020-02-01", "2020-02-20", "closed")


async def test_what_relief_holds_is_read_once_a_post_whatever_the_persons(relief, registry, relief_app, standard):
    one = await reads_of_a_post(relief, relief_app, await confirmations_of(registry, await patients(registry, 1)))
    four = await reads_of_a_post(relief, relief_app, await confirmations_of(registry, await patients(registry, 4)))
    assert four == one, (one, four)
    for table in ("known_health_events", "relief_cases", "insurance_enrolments"):
        assert four.get(table, 0) <= 2, (table, four)  # the inbox's look-up before, and the read under the locks


async def test_what_a_post_leaves_behind_is_written_one_statement_a_table(relief, registry, relief_app, standard):
    """The cases opened, their audit rows and events, and the health events taken in: one INSERT a table for the
    POST, whatever the persons, and no savepoint a person; a case opened after the discharge is written closed (no
    UPDATE)."""
    statements = {}
    for count in (1, 4):
        statements[count] = await statements_of_a_post(
            relief, relief_app, await confirmations_of(registry, await patients(registry, count)))  # fmt: skip
    one, four = writes_per_table(statements[1]), writes_per_table(statements[4])
    for table in ("relief_cases", "audit_log", "outbox_events", "known_health_events"):
        assert one[f"INSERT {table}"] == four[f"INSERT {table}"] == 1, (table, one, four)
    assert "UPDATE relief_cases" not in four, four

    def savepoints(of: list[str]) -> int:
        return sum(statement.startswith("SAVEPOINT") for statement in of)

    assert savepoints(statements[4]) == savepoints(statements[1]), (statements[1], statements[4])
    for person in (await cases_of(relief))[:5]:
        assert (person["status"], person["closed_on"]) == ("closed", "2020-02-20")


async def test_a_date_corrected_by_hand_is_kept_beside_other_persons_of_the_post(relief, registry, standard):
    first, second = await patients(registry, 2)
    await deliver_batch(relief, await confirmations_of(registry, [first]))
    [case] = await cases_of(relief, person_id=first)
    body = {"field": "closed_on", "value": "2020-03-10", "reason": "医院出院证明日期"}
    response = await relief.post(f"{CASES}/{case['id']}/corrections", CIVIL, json=body)
    assert response.status_code == 201, response.text
    again = await health_event(registry, first, "suspected", "2020-04-01")
    await deliver_batch(relief, [again, *await confirmations_of(registry, [second])])
    [kept] = await cases_of(relief, person_id=first)
    assert kept["closed_on"] == "2020-03-10"
    [opened] = await cases_of(relief, person_id=second)
    assert (opened["diagnosed_on"], opened["closed_on"]) == ("2020-02-01", "2020-02-20")


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite serialises writers itself: no advisory locks")
async def test_the_persons_of_a_post_stay_locked_until_it_ends(relief_app):
    """One statement locks every person of a POST (in key order), and each lock holds until the transaction ends."""
    from services.relief.cases.repository import lock_key, lock_persons

    persons = ["p-1", "p-2", "p-3"]
    engine = relief_app.state.db.engine
    async with engine.connect() as holder, engine.connect() as other:
        async with AsyncSession(holder) as session, session.begin():
            await lock_persons(session, persons)
            for person_id in persons:
                taken = await other.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_key(person_id))))
                assert taken is False, person_id
            await other.rollback()
        for person_id in persons:
            assert await other.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_key(person_id)))) is True
        await other.rollback()
