"""Subscriptions, deliveries and published events through the API; the inbox where other services' events land."""

import json

import sqlalchemy as sa

from services.registry.models import events
from shared.events import sign
from shared.ids import uuid7
from shared.settings import common_settings
from tests.support.callers import CITY_ADMIN, FENGDU, WANZHOU
from tests.support.registry import assert_problem, make_household, make_village

VILLAGE = "500230101201"
HOOK = {"name": "民政局系统", "kind": "webhook", "url": "https://mz.example.gov.cn/hook", "event_types": ["*"]}


async def test_a_subscription_shows_its_secret_once(registry):
    created = await registry.post("/api/v1/registry/subscriptions", json=HOOK)
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["secret"]) >= 32
    listed = await registry.get("/api/v1/registry/subscriptions")
    [item] = [s for s in listed.json() if s["id"] == body["id"]]
    assert item["secret"] is None
    assert item["url"] == "https://mz.example.gov.cn/hook"


async def test_a_chosen_secret_is_kept_and_an_unknown_event_type_refused(registry):
    chosen = await registry.post("/api/v1/registry/subscriptions", json={**HOOK, "secret": "s" * 20})
    assert chosen.json()["secret"] == "s" * 20
    unknown = await registry.post("/api/v1/registry/subscriptions", json={**HOOK, "event_types": ["nope.happened"]})
    assert_problem(unknown, 422, "unknown_event_type", "event_types")
    bad_url = await registry.post("/api/v1/registry/subscriptions", json={**HOOK, "url": "not a url"})
    assert_problem(bad_url, 422, "validation_failed", "url")


async def test_only_the_city_admin_manages_subscriptions(registry):
    assert_problem(await registry.post("/api/v1/registry/subscriptions", FENGDU, json=HOOK), 403, "forbidden")
    assert_problem(await registry.get("/api/v1/registry/deliveries", WANZHOU), 403, "forbidden")
    assert_problem(await registry.get("/api/v1/registry/events", WANZHOU), 403, "forbidden")


async def test_a_subscription_can_be_paused_and_audited(registry):
    created = (await registry.post("/api/v1/registry/subscriptions", json=HOOK)).json()
    paused = await registry.patch(f"/api/v1/registry/subscriptions/{created['id']}", json={"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    missing = await registry.patch(f"/api/v1/registry/subscriptions/{uuid7()}", json={"active": False})
    assert_problem(missing, 404, "subscription_not_found")
    audit = await registry.get(f"/api/v1/registry/audit?entity_id={created['id']}")
    assert {e["action"] for e in audit.json()["items"]} == {"subscription.create", "subscription.update"}


def _foreign_event(household: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or uuid7(),
        "type": "relief.case_opened",
        "version": 1,
        "source": "relief",
        "occurred_at": "2020-02-12T08:00:00+08:00",
        "household_id": household["id"],
        "county_code": household["county_code"],
        "data": {"summary": "临时救助立案：张秀华", "case_id": "c1"},
    }


async def _post_signed(registry, event: dict, secret: str | None = None):
    body = json.dumps(event).encode()
    signature = sign(secret or common_settings().internal_events_secret(), body)
    return await registry.post(
        "/api/v1/registry/events/inbox", None, content=body,
        headers={"Content-Type": "application/json", "X-Fupin-Signature": signature},
    )  # fmt: skip


async def test_another_services_event_lands_in_the_ledger_once(registry):
    await make_village(registry, VILLAGE)
    household = await make_household(registry, VILLAGE)
    event = _foreign_event(household)
    first = await _post_signed(registry, event)
    assert first.status_code == 200 and first.json() == {"accepted": True}
    repeat = await _post_signed(registry, event)
    assert repeat.json() == {"accepted": False}
    ledger = (await registry.get(f"/api/v1/registry/households/{household['id']}/ledger", FENGDU)).json()
    foreign = [e for e in ledger["items"] if e["source"] == "relief"]
    assert [e["summary"] for e in foreign] == ["临时救助立案：张秀华"]


async def _statements_of_a_batch(registry, registry_app, batch: list[dict]) -> list[str]:
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.split("(")[0].strip())

    engine = registry_app.state.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        body = json.dumps({"events": batch}).encode()
        response = await registry.post(
            "/api/v1/registry/events/inbox/batch", None, content=body,
            headers={"Content-Type": "application/json",
                     "X-Fupin-Signature": sign(common_settings().internal_events_secret(), body)},
        )  # fmt: skip
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert [r["accepted"] for r in response.json()["results"]] == [True] * len(batch)
    return statements


async def test_a_batch_of_other_services_events_goes_into_the_ledgers_in_one_statement(registry, registry_app):
    """No event of theirs can be refused, so none needs a savepoint of its own: the POST's ledger rows are one
    INSERT, whatever their number."""
    await make_village(registry, VILLAGE)
    households = [await make_household(registry, VILLAGE) for _ in range(4)]
    one = await _statements_of_a_batch(registry, registry_app, [_foreign_event(households[0])])
    six = await _statements_of_a_batch(
        registry, registry_app, [_foreign_event(household) for household in households[1:] for _ in range(2)]
    )
    for statements in (one, six):
        assert sum(1 for s in statements if s.startswith("INSERT INTO ledger_entries")) == 1, statements
    assert len(six) == len(one), (one, six)  # no savepoint, no statement an event
    for household, taken in zip(households, (1, 2, 2, 2), strict=True):
        ledger = (await registry.get(f"/api/v1/registry/households/{household['id']}/ledger", FENGDU)).json()
        assert len([e for e in ledger["items"] if e["source"] == "relief"]) == taken


async def test_the_inbox_refuses_an_unsigned_or_forged_event(registry):
    await make_village(registry, VILLAGE)
    household = await make_household(registry, VILLAGE)
    event = _foreign_event(household)
    forged = await _post_signed(registry, event, secret="not-the-internal-secret")
    assert_problem(forged, 401, "bad_signature")
    unsigned = await registry.post("/api/v1/registry/events/inbox", None, json=event)
    assert_problem(unsigned, 401, "bad_signature")


async def test_the_ledger_is_scoped_and_paged_in_time_order(registry):
    await make_village(registry, VILLAGE)
    household = await make_household(registry, VILLAGE)
    for hour in (10, 8, 9):
        event = {**_foreign_event(household), "occurred_at": f"2020-02-12T{hour:02d}:00:00+08:00"}
        event["data"] = {"summary": f"{hour} 点"}
        await _post_signed(registry, event)
    path = f"/api/v1/registry/households/{household['id']}/ledger"
    first = (await registry.get(f"{path}?limit=2", FENGDU)).json()
    assert [e["summary"] for e in first["items"]] == ["8 点", "9 点"]
    second = (await registry.get(f"{path}?limit=2&cursor={first['next_cursor']}", FENGDU)).json()
    assert [e["summary"] for e in second["items"]] == ["10 点"]
    assert second["next_cursor"] is None
    assert_problem(await registry.get(path, WANZHOU), 404, "household_not_found")
    workbook = await registry.get(f"{path}.xlsx", CITY_ADMIN)
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert workbook.content[:2] == b"PK"


async def test_an_internal_subscription_signs_with_the_internal_secret(registry):
    internal = {**HOOK, "kind": "internal", "url": "http://127.0.0.1:8002/api/v1/relief/events/inbox"}
    created = await registry.post("/api/v1/registry/subscriptions", json=internal)
    assert created.status_code == 201 and created.json()["secret"] is None  # never shown
    async with registry.app.state.session_factory() as session:
        stored = await session.scalar(
            sa.select(events.subscriptions.c.secret_enc).where(events.subscriptions.c.id == created.json()["id"])
        )
    assert registry.app.state.cipher.decrypt(stored) == common_settings().internal_events_secret()
