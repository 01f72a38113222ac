"""Helpers of the relief tests: standards and parameters through the API; health events recorded in the in-process
registry and delivered, signed, to relief's inbox; cases, their schedules and events; payment lines written into
relief's transaction; payment batches made, approved and settled through the API; the exclusive insurance's
policies, enrolments and claims."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import httpx

from shared.clients import RegistryClient
from shared.events import SIGNATURE_HEADER, sign
from shared.settings import common_settings
from tests.support.callers import AUDITOR, BANK, CITY_ADMIN, CIVIL, CIVIL2, Api
from tests.support.gateway import closed_port
from tests.support.registry import make_household, published, record_health

# --- standards, the inbox and cases ---------------------------------------------------------------------------------

STANDARDS = "/api/v1/relief/standards"
PARAMETERS = "/api/v1/relief/parameters"
CASES = "/api/v1/relief/cases"
INBOX = "/api/v1/relief/events/inbox"


async def add_standard(relief: Api, unit_code: str, area_class: str, monthly_fen: int, effective_from: str) -> dict:
    body = {"unit_code": unit_code, "area_class": area_class, "monthly_fen": monthly_fen,
            "effective_from": effective_from}  # fmt: skip
    response = await relief.post(STANDARDS, CIVIL, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def set_eligible(relief: Api, statuses: list[str], effective_from: str) -> None:
    body = {"value": statuses, "effective_from": effective_from}
    response = await relief.request("PUT", f"{PARAMETERS}/relief_eligible_statuses", CIVIL, json=body)
    assert response.status_code == 200, response.text


async def _post_signed(relief: Api, path: str, payload: dict) -> httpx.Response:
    """POST `payload` to `path`, signed with the internal events secret (as a dispatcher does)."""
    body = json.dumps(payload).encode()
    headers = {SIGNATURE_HEADER: sign(common_settings().internal_events_secret(), body),
               "Content-Type": "application/json"}  # fmt: skip
    return await relief.post(path, caller=None, content=body, headers=headers)


async def deliver(relief: Api, event: dict) -> httpx.Response:
    """POST an event envelope to relief's inbox, signed with the internal events secret."""
    return await _post_signed(relief, INBOX, event)


async def deliver_batch(relief: Api, events: list[dict]) -> list[dict]:
    """POST envelopes to relief's batch inbox (as the registry's dispatcher does), signed; the answer per event."""
    response = await _post_signed(relief, f"{INBOX}/batch", {"events": events})
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def health_event(registry: Api, person_id: str, kind: str, occurred_on: str) -> dict:
    """Record a health event in the registry and return the `person.health_changed` envelope it published."""
    await record_health(registry, person_id, kind, occurred_on)
    events = await published(registry, "person.health_changed")
    return next(
        e for e in events
        if (e["data"]["person_id"], e["data"]["kind"], e["data"]["occurred_on"]) == (person_id, kind, occurred_on)
    )  # fmt: skip


async def delivered(relief: Api, registry: Api, person_id: str, kind: str, occurred_on: str) -> dict:
    """A health event recorded in the registry and accepted by relief's inbox; returns its envelope."""
    event = await health_event(registry, person_id, kind, occurred_on)
    response = await deliver(relief, event)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": True}
    return event


async def cases_of(relief: Api, caller=CITY_ADMIN, **params) -> list[dict]:
    response = await relief.get(CASES, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


async def confirmed_case(relief: Api, registry: Api, village: str, diagnosed_on: str, **household) -> dict:
    """A household in `village`, its head confirmed on `diagnosed_on` through the inbox; returns the case."""
    made = await make_household(registry, village, **household)
    person = made["members"][0]
    await delivered(relief, registry, person["id"], "confirmed", diagnosed_on)
    [case] = await cases_of(relief, person_id=person["id"])
    return case


async def schedule(relief: Api, case_id: str, as_of: str | None = None, caller=CITY_ADMIN) -> dict:
    params = {} if as_of is None else {"as_of": as_of}
    response = await relief.get(f"{CASES}/{case_id}/schedule", caller, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def published_relief(relief: Api, event_type: str) -> list[dict]:
    response = await relief.get("/api/v1/relief/events", params={"type": event_type, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def pay_line(
    relief: Api, case: dict, period_no: int, period_start: str, amount_fen: int, *, status: str = "paid",
    kind: str = "period",
) -> None:  # fmt: skip
    """A payment line of the case (in a batch and payment of its own), written into the test's transaction as the
    payment batches would leave it."""
    from services.relief.models import Payment, PaymentBatch, PaymentLine
    from shared.ids import uuid7

    async with relief.app.state.session_factory() as session:
        batch = PaymentBatch(
            id=uuid7(), unit_code=case["unit_code"], county_code=case["county_code"], up_to=date(2020, 12, 31),
            status="approved", payment_count=1, total_fen=amount_fen, made_by="civil", approved_by="civil2",
        )  # fmt: skip
        payment = Payment(
            id=uuid7(), batch_id=batch.id, case_id=case["id"], reference=uuid7()[-20:], amount_fen=amount_fen,
            holder_name=case["payee_name"], bank_name="重庆农村商业银行", account_enc="not read here",
            account_masked="***************4567", status=status,
        )  # fmt: skip
        line = PaymentLine(
            batch_id=batch.id, payment_id=payment.id, case_id=case["id"], period_no=period_no,
            period_start=date.fromisoformat(period_start), kind=kind, amount_fen=amount_fen, status=status,
        )  # fmt: skip
        session.add(batch)
        await session.flush()
        session.add(payment)
        await session.flush()
        session.add(line)
        await session.commit()


@asynccontextmanager
async def registry_down(relief: Api) -> AsyncIterator[None]:
    """Relief's registry client points at a loopback port nothing listens on, then back."""
    working = relief.app.state.registry
    down = RegistryClient(f"http://127.0.0.1:{closed_port()}", retries=0, timeout_s=1.0)
    relief.app.state.registry = down
    try:
        yield
    finally:
        relief.app.state.registry = working
        await down.aclose()


# --- payment batches ------------------------------------------------------------------------------------------------

BATCHES = "/api/v1/relief/batches"
PAYMENTS = "/api/v1/relief/payments"
RELIEF_AUDIT = "/api/v1/relief/audit"
CSV_BOM = "\ufeff"


def account_path(person_id: str) -> str:
    return f"/api/v1/relief/persons/{person_id}/payee-account"


async def make_batch(relief: Api, unit_code: str = "500230", up_to: str = "2020-04-30", caller=CIVIL, **kw) -> dict:
    response = await relief.post(BATCHES, caller, json={"unit_code": unit_code, "up_to": up_to}, **kw)
    assert response.status_code == 201, response.text
    return response.json()


async def approve(relief: Api, batch_id: str, caller=CIVIL2) -> dict:
    response = await relief.post(f"{BATCHES}/{batch_id}/approve", caller)
    assert response.status_code == 200, response.text
    return response.json()


async def payments_of(relief: Api, batch_id: str, caller=CIVIL, **params) -> list[dict]:
    response = await relief.get(f"{BATCHES}/{batch_id}/payments", caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


def result_csv(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("业务参考号", "结果", "失败原因")) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return (CSV_BOM + "\r\n".join(lines) + "\r\n").encode("utf-8")


async def upload_results(relief: Api, batch_id: str, content: bytes, name: str = "回盘.csv", caller=BANK, **kw):
    return await relief.post(f"{BATCHES}/{batch_id}/results", caller, files={"file": (name, content, "text/csv")}, **kw)


# --- the exclusive insurance ----------------------------------------------------------------------------------------

POLICIES = "/api/v1/relief/insurance/policies"
CLAIMS = "/api/v1/relief/insurance/claims"
RELIEF_EVENTS = "/api/v1/relief/events"
FENGDU_VILLAGE = "500230101201"
WANZHOU_VILLAGE = "500101001201"


def policy_body(**overrides) -> dict:
    body = {
        "name": "2020年建档立卡贫困户新冠肺炎专属保险",
        "insurer": "中国人寿重庆市分公司",
        "insured_group": "poor_household",
        "hospitalisation_fen": 1_000_000,
        "death_fen": 50_000_000,
        "cover_from": "2020-01-24",
        "cover_to": "2020-12-31",
    }
    body.update(overrides)
    return body


async def make_policy(relief, caller=CIVIL, **overrides) -> dict:
    response = await relief.post(POLICIES, caller, json=policy_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def enrol_household(relief, policy_id: str, household_id: str, person_ids=None, caller=CIVIL) -> dict:
    body = {"household_id": household_id} if person_ids is None else {"household_id": household_id,
                                                                      "person_ids": person_ids}  # fmt: skip
    response = await relief.post(f"{POLICIES}/{policy_id}/enrolments/persons", caller, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def enrol_cadre(relief, policy_id: str, cadre_id: str, caller=CIVIL) -> dict:
    response = await relief.post(f"{POLICIES}/{policy_id}/enrolments/cadres", caller, json={"cadre_id": cadre_id})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def listed(relief, path: str, caller=CITY_ADMIN, **params) -> list[dict]:
    response = await relief.get(path, caller, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


async def relief_published(relief, event_type: str) -> list[dict]:
    """The events of `event_type` relief published, newest first."""
    return await listed(relief, RELIEF_EVENTS, CITY_ADMIN, type=event_type)


async def relief_audit(relief, **filters) -> list[dict]:
    return await listed(relief, RELIEF_AUDIT, AUDITOR, **filters)


def claim_body(insured_kind: str, insured_id: str, **overrides) -> dict:
    body = {
        "insured_kind": insured_kind,
        "insured_id": insured_id,
        "kind": "hospitalisation",
        "occurred_on": "2020-02-12",
        "reason": "驻村期间确诊住院，县卫健委通报",
    }
    body.update(overrides)
    return body


async def open_claim(relief, insured_kind: str, insured_id: str, caller=CIVIL, **overrides) -> dict:
    response = await relief.post(CLAIMS, caller, json=claim_body(insured_kind, insured_id, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def step(relief, claim_id: str, action: str, caller=CIVIL, **kwargs):
    return await relief.post(f"{CLAIMS}/{claim_id}/{action}", caller, **kwargs)


async def claim_of(relief, claim_id: str, caller=CITY_ADMIN) -> dict:
    response = await relief.get(f"{CLAIMS}/{claim_id}", caller)
    assert response.status_code == 200, response.text
    return response.json()
