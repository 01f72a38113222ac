"""Payment batches: what a batch collects (worked examples of measure 2), maker ≠ checker, approvals at the same
moment, cancelling, a period paid at most once (held by the database), scope, idempotent replays, reconciliation.

Standards in these tests: 丰都县 (500230) rural 500.00 yuan a month from 2019-07-01 and 520.00 from 2020-04-01, so a
period pays 1,000.00 yuan (100000 fen) when it starts before April 2020 and 1,040.00 from then on.
"""

import asyncio
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.relief.batches import service
from services.relief.batches.errors import BatchLinesTaken
from services.relief.models import Payment, PaymentBatch, PaymentLine, ReliefCase
from shared.regions import WANSHENG_TOWNSHIPS
from tests.support.callers import AUDITOR, BANK, CITY_ADMIN, CIVIL, CIVIL2, FENGDU, WANZHOU, Caller
from tests.support.registry import assert_problem
from tests.support.relief import (
    BATCHES,
    PAYMENTS,
    RELIEF_AUDIT,
    approve,
    make_batch,
    payments_of,
    result_csv,
    upload_results,
)

FENGDU_UNIT = "500230"
CIVIL3 = Caller("civil3", ("civil_affairs",), ("500000",))  # a third civil-affairs user, another checker


@pytest.fixture
async def standards(ledger) -> None:
    await ledger.standard(FENGDU_UNIT, 50000, date(2019, 7, 1))
    await ledger.standard(FENGDU_UNIT, 52000, date(2020, 4, 1))


def by_case(payments: list[dict]) -> dict[str, dict]:
    return {p["case_id"]: p for p in payments}


async def payment_lines(relief, payment_id: str, caller=CIVIL) -> list[tuple]:
    response = await relief.get(f"{PAYMENTS}/{payment_id}", caller)
    assert response.status_code == 200, response.text
    return [(x["period_no"], x["period_start"], x["kind"], x["amount_fen"]) for x in response.json()["lines"]]


async def pay_all(relief, batch_id: str) -> None:
    rows = [(p["reference"], "成功", "") for p in await payments_of(relief, batch_id)]
    response = await upload_results(relief, batch_id, result_csv(rows))
    assert response.status_code == 200, response.text


# --- what a batch collects ------------------------------------------------------------------------------------------


async def test_batch_collects_every_due_period_at_twice_the_standard_of_its_start(relief, ledger, standards):
    # discharged 1 Mar: period 2 starts that day, so 2 periods at 1,000.00
    discharged = await ledger.case(date(2020, 2, 1), date(2020, 3, 1))
    # 31 Jan, still in hospital on 30 Apr: periods start 31 Jan, 29 Feb, 31 Mar, 30 Apr (the last at 1,040.00)
    in_hospital = await ledger.case(date(2020, 1, 31))
    created = await make_batch(relief, FENGDU_UNIT, "2020-04-30")
    batch = created["batch"]
    assert (batch["status"], batch["made_by"], batch["unit_code"], batch["county_code"]) == (
        "draft", "civil", FENGDU_UNIT, FENGDU_UNIT,
    )  # fmt: skip
    assert (batch["payment_count"], batch["total_fen"], batch["total_yuan"]) == (2, 604000, "6040.00")
    assert created["line_count"] == 6
    assert (created["skipped_count"], created["held_count"]) == (0, 0)
    payments = by_case(await payments_of(relief, batch["id"]))
    assert await payment_lines(relief, payments[discharged.id]["id"]) == [
        (1, "2020-02-01", "period", 100000),
        (2, "2020-03-01", "period", 100000),
    ]
    assert await payment_lines(relief, payments[in_hospital.id]["id"]) == [
        (1, "2020-01-31", "period", 100000),
        (2, "2020-02-29", "period", 100000),
        (3, "2020-03-31", "period", 100000),
        (4, "2020-04-30", "period", 104000),
    ]
    assert payments[in_hospital.id]["amount_fen"] == 404000
    assert payments[in_hospital.id]["amount_yuan"] == "4040.00"
    assert {p["status"] for p in payments.values()} == {"pending"}


async def test_references_are_the_batch_number_and_a_sequence(relief, ledger, standards):
    for day in (1, 2, 3):
        await ledger.case(date(2020, 2, day), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    references = sorted(p["reference"] for p in await payments_of(relief, batch["id"]))
    assert references == [f"{batch['number']}-00000{n}" for n in (1, 2, 3)]
    assert batch["number"].startswith("RB") and len(references[0]) <= 40


async def test_case_without_payee_account_is_skipped_and_listed(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    no_account = await ledger.case(date(2020, 2, 5), date(2020, 3, 10), payee_name="李明", account=False)
    created = await make_batch(relief, FENGDU_UNIT, "2020-03-31")
    assert created["batch"]["payment_count"] == 1
    assert created["skipped_count"] == 1
    assert created["skipped"] == [
        {"case_id": no_account.id, "person_id": no_account.person_id, "payee_name": "李明",
         "reason": "no_payee_account", "due_fen": 200000},
    ]  # fmt: skip
    # once the account is registered, the next batch pays the case its two periods
    await ledger.account(no_account, "6217996100009876543")
    later = await make_batch(relief, FENGDU_UNIT, "2020-03-31")
    assert (later["batch"]["payment_count"], later["batch"]["total_fen"], later["skipped_count"]) == (1, 200000, 0)


async def test_periods_without_a_standard_wait_for_one(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20), area_class="urban")  # no urban standard entered
    response = await relief.post(BATCHES, CIVIL, json={"unit_code": FENGDU_UNIT, "up_to": "2020-03-31"})
    problem = assert_problem(response, 422, "nothing_due")
    assert "2020-03-31" in problem["title"]


async def test_nothing_due_is_a_clear_problem_in_both_languages(relief, ledger, standards):
    await ledger.case(date(2020, 2, 5), account=False)
    response = await relief.post(
        BATCHES, CIVIL, json={"unit_code": FENGDU_UNIT, "up_to": "2020-03-31"}, headers={"Accept-Language": "en"}
    )
    problem = assert_problem(response, 422, "nothing_due")
    assert (
        problem["title"]
        == "Nothing is due up to 2020-03-31 (1 cases lack a payee account, 0 have no positive net amount)"
    )
    response = await relief.post(BATCHES, CIVIL, json={"unit_code": FENGDU_UNIT, "up_to": "2020-03-31"})
    assert "缺少收款账户的案件 1 件" in assert_problem(response, 422, "nothing_due")["title"]


async def test_up_to_after_today_is_refused(relief, ledger, standards):
    response = await relief.post(BATCHES, CIVIL, json={"unit_code": FENGDU_UNIT, "up_to": "2999-01-01"})
    assert_problem(response, 422, "up_to_in_future", field="up_to")


async def test_unit_code_must_be_a_county_or_wansheng(relief):
    response = await relief.post(BATCHES, CIVIL, json={"unit_code": "500000", "up_to": "2020-03-31"})
    assert_problem(response, 422, "validation_failed", field="unit_code")


async def test_only_makers_make_batches(relief, ledger, standards):
    for caller in (BANK, FENGDU, AUDITOR):
        response = await relief.post(BATCHES, caller, json={"unit_code": FENGDU_UNIT, "up_to": "2020-03-31"})
        assert_problem(response, 403, "forbidden")


async def test_second_batch_does_not_collect_pending_lines_again(relief, ledger, standards):
    case = await ledger.case(date(2020, 2, 1))
    first = await make_batch(relief, FENGDU_UNIT, "2020-03-31")
    assert first["batch"]["total_fen"] == 200000
    again = await relief.post(BATCHES, CIVIL, json={"unit_code": FENGDU_UNIT, "up_to": "2020-03-31"})
    assert_problem(again, 422, "nothing_due")
    later = await make_batch(relief, FENGDU_UNIT, "2020-04-30")  # only period 3, which started on 1 Apr
    assert (later["batch"]["total_fen"], later["line_count"]) == (104000, 1)
    assert await ledger.lines(case.id) == [
        (1, "period", 100000, "pending"),
        (2, "period", 100000, "pending"),
        (3, "period", 104000, "pending"),
    ]


async def test_overpaid_case_is_held_and_its_negative_adjustment_stays_due(relief, ledger, standards):
    case = await ledger.case(date(2020, 2, 1))
    first = await make_batch(relief, FENGDU_UNIT, "2020-03-31")
    await approve(relief, first["batch"]["id"])
    await pay_all(relief, first["batch"]["id"])  # periods 1 and 2 paid
    # the discharge date entered later is 20 Feb: the case was entitled to period 1 only, so 1,000.00 was overpaid
    async with relief.app.state.session_factory() as session:
        await session.execute(
            sa.update(ReliefCase).where(ReliefCase.id == case.id).values(closed_on=date(2020, 2, 20), status="closed")
        )
        await session.commit()
    other = await ledger.case(date(2020, 3, 2), date(2020, 3, 20))
    created = await make_batch(relief, FENGDU_UNIT, "2020-04-30")
    assert [p["case_id"] for p in await payments_of(relief, created["batch"]["id"])] == [other.id]
    assert created["held_count"] == 1
    assert created["held"] == [
        {"case_id": case.id, "person_id": case.person_id, "payee_name": "张秀华", "reason": "net_due_not_positive",
         "due_fen": -100000},
    ]  # fmt: skip
    assert await ledger.lines(case.id) == [(1, "period", 100000, "paid"), (2, "period", 100000, "paid")]
    # still held (still due) in the next batch: nothing was written for it
    response = await relief.post(BATCHES, CIVIL, json={"unit_code": FENGDU_UNIT, "up_to": "2020-04-30"})
    assert assert_problem(response, 422, "nothing_due")["title"].endswith("净额不为正的案件 1 件）")


async def test_a_lower_standard_entered_later_is_netted_as_a_negative_adjustment(relief, ledger, standards):
    case = await ledger.case(date(2020, 2, 1))
    first = await make_batch(relief, FENGDU_UNIT, "2020-03-15")  # periods 1 (1 Feb) and 2 (1 Mar)
    await approve(relief, first["batch"]["id"])
    await pay_all(relief, first["batch"]["id"])
    await ledger.standard(FENGDU_UNIT, 45000, date(2020, 3, 1))  # period 2 should have been 900.00
    created = await make_batch(relief, FENGDU_UNIT, "2020-04-30")
    [payment] = await payments_of(relief, created["batch"]["id"])
    assert await payment_lines(relief, payment["id"]) == [
        (2, "2020-03-01", "adjustment", -10000),
        (3, "2020-04-01", "period", 104000),
    ]
    assert (payment["amount_fen"], payment["amount_yuan"]) == (94000, "940.00")
    assert await ledger.lines(case.id) == [
        (1, "period", 100000, "paid"),
        (2, "period", 100000, "paid"),
        (2, "adjustment", -10000, "pending"),
        (3, "period", 104000, "pending"),
    ]


async def test_wansheng_batches_use_its_own_standards_and_county_500110(relief, ledger):
    await ledger.standard("wansheng", 48000, date(2019, 7, 1))
    await ledger.standard(FENGDU_UNIT, 50000, date(2019, 7, 1))
    case = await ledger.case(date(2020, 2, 1), date(2020, 2, 10), unit_code="wansheng")
    await ledger.case(date(2020, 2, 1), date(2020, 2, 10))  # 丰都县's case stays out of 万盛经开区's batch
    created = await make_batch(relief, "wansheng", "2020-02-29")
    assert (created["batch"]["unit_code"], created["batch"]["county_code"]) == ("wansheng", "500110")
    assert [(p["case_id"], p["amount_fen"]) for p in await payments_of(relief, created["batch"]["id"])] == [
        (case.id, 96000)
    ]


# --- a period is paid at most once ----------------------------------------------------------------------------------


async def test_unique_index_refuses_a_second_live_line_for_a_period(relief, ledger, standards):
    case = await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    [payment] = await payments_of(relief, batch["id"])

    def line(status: str, kind: str = "period") -> PaymentLine:
        return PaymentLine(
            payment_id=payment["id"], batch_id=batch["id"], case_id=case.id, period_no=1,
            period_start=date(2020, 2, 1), kind=kind, amount_fen=100000, status=status,
        )  # fmt: skip

    for status in ("pending", "paid"):
        with pytest.raises(IntegrityError):
            await ledger.add(line(status))
    await ledger.add(line("failed"), line("pending", kind="adjustment"))  # neither is a live period line
    assert len(await ledger.lines(case.id)) == 3


async def test_a_batch_planned_before_another_took_its_periods_is_refused_409(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    async with relief.app.state.session_factory() as session:
        first = await service.plan_batch(session, FENGDU_UNIT, date(2020, 2, 29))
        stale = await service.plan_batch(session, FENGDU_UNIT, date(2020, 2, 29))
        await service.write_batch(session, first, made_by="civil")
        with pytest.raises(BatchLinesTaken) as refused:
            await service.write_batch(session, stale, made_by="civil")
        await session.rollback()
    assert (refused.value.status, refused.value.code) == (409, "batch_lines_taken")


# --- maker and checker ----------------------------------------------------------------------------------------------


async def test_maker_cannot_approve_own_batch(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29", caller=CIVIL))["batch"]
    response = await relief.post(f"{BATCHES}/{batch['id']}/approve", CIVIL)
    problem = assert_problem(response, 403, "maker_cannot_approve")
    assert problem["title"] == "制单人不能复核自己制作的批次，须由另一名经办人复核"
    assert (await relief.get(f"{BATCHES}/{batch['id']}", CIVIL)).json()["status"] == "draft"
    approved = await approve(relief, batch["id"], CIVIL2)
    assert (approved["status"], approved["approved_by"], approved["made_by"]) == ("approved", "civil2", "civil")
    assert approved["approved_at"] is not None


async def test_approving_twice_is_409_and_only_checkers_approve(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    assert_problem(await relief.post(f"{BATCHES}/{batch['id']}/approve", BANK), 403, "forbidden")
    await approve(relief, batch["id"])
    again = await relief.post(f"{BATCHES}/{batch['id']}/approve", CIVIL2)
    assert_problem(again, 409, "batch_not_draft")
    entries = (await relief.get(RELIEF_AUDIT, CITY_ADMIN, params={"entity_id": batch["id"]})).json()["items"]
    assert sorted(e["action"] for e in entries) == ["batch.approve", "batch.create"]


async def test_approvals_at_the_same_moment_one_succeeds_the_other_409(own_relief, own_ledger):
    await own_ledger.standard(FENGDU_UNIT, 50000, date(2019, 7, 1))
    for day in range(1, 6):
        await own_ledger.case(date(2020, 2, day), date(2020, 2, 25))
    batch = (await make_batch(own_relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    path = f"{BATCHES}/{batch['id']}/approve"
    first, second = await asyncio.gather(own_relief.post(path, CIVIL2), own_relief.post(path, CIVIL3))
    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "batch_not_draft"
    winner = first if first.status_code == 200 else second
    stored = await own_ledger.scalar(sa.select(PaymentBatch).where(PaymentBatch.id == batch["id"]))
    assert (stored.status, stored.approved_by) == ("approved", winner.json()["approved_by"])
    approvals = await own_ledger.rows(sa.text("SELECT actor FROM audit_log WHERE action = 'batch.approve'"))
    assert len(approvals) == 1


async def test_batches_made_at_the_same_moment_never_take_a_period_twice(own_relief, own_ledger):
    await own_ledger.standard(FENGDU_UNIT, 50000, date(2019, 7, 1))
    cases = [await own_ledger.case(date(2020, 2, day), date(2020, 3, 25)) for day in range(1, 21)]
    body = {"unit_code": FENGDU_UNIT, "up_to": "2020-03-31"}
    answers = await asyncio.gather(
        own_relief.post(BATCHES, CIVIL, json=body), own_relief.post(BATCHES, CIVIL2, json=body)
    )
    codes = sorted(a.status_code for a in answers)
    assert codes in ([201, 409], [201, 422]), [a.text for a in answers]
    loser = next(a for a in answers if a.status_code != 201)
    assert loser.json()["code"] in ("batch_lines_taken", "nothing_due")
    lines = await own_ledger.rows(sa.select(PaymentLine.case_id, PaymentLine.period_no))
    assert sorted(lines) == sorted((c.id, n) for c in cases for n in (1, 2))
    assert await own_ledger.scalar(sa.select(sa.func.count()).select_from(PaymentBatch)) == 1


# --- cancelling -----------------------------------------------------------------------------------------------------


async def test_cancelled_draft_frees_its_periods(relief, ledger, standards):
    case = await ledger.case(date(2020, 2, 1), date(2020, 3, 1))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-03-31"))["batch"]
    response = await relief.post(f"{BATCHES}/{batch['id']}/cancel", CIVIL)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["payment_count"], response.json()["total_fen"]) == (
        "cancelled", 0, 0,
    )  # fmt: skip
    assert await ledger.lines(case.id) == []
    assert await payments_of(relief, batch["id"]) == []
    again = await make_batch(relief, FENGDU_UNIT, "2020-03-31")
    assert again["batch"]["total_fen"] == 200000
    reconciliation = (await relief.get(f"{BATCHES}/{batch['id']}/reconciliation", CIVIL)).json()
    assert (reconciliation["balanced"], reconciliation["reconciled"]) == (True, False)
    entry = (await relief.get(RELIEF_AUDIT, CITY_ADMIN, params={"action": "batch.cancel"})).json()["items"][0]
    assert entry["changes"] | {"status": None} == {"status": None, "payments": 1, "total_fen": 200000}


async def test_an_approved_batch_cannot_be_cancelled_nor_a_cancelled_one_approved(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    approved = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    await approve(relief, approved["id"])
    assert_problem(await relief.post(f"{BATCHES}/{approved['id']}/cancel", CIVIL), 409, "batch_not_draft")
    await ledger.case(date(2020, 2, 3), date(2020, 2, 20))
    draft = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    assert (await relief.post(f"{BATCHES}/{draft['id']}/cancel", CIVIL)).status_code == 200
    assert_problem(await relief.post(f"{BATCHES}/{draft['id']}/approve", CIVIL2), 409, "batch_not_draft")


# --- idempotency ----------------------------------------------------------------------------------------------------


async def test_repeated_batch_request_returns_the_first_answer_and_makes_one_batch(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    body = {"unit_code": FENGDU_UNIT, "up_to": "2020-02-29"}
    headers = {"Idempotency-Key": "batch-2020-02"}
    first = await relief.post(BATCHES, CIVIL, json=body, headers=headers)
    second = await relief.post(BATCHES, CIVIL, json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert await ledger.scalar(sa.select(sa.func.count()).select_from(PaymentBatch)) == 1
    other = await relief.post(BATCHES, CIVIL, json={**body, "up_to": "2020-02-28"}, headers=headers)
    assert_problem(other, 409, "idempotency_key_reused")


async def test_repeated_approval_returns_the_first_answer(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    headers = {"Idempotency-Key": "approve-1"}
    first = await relief.post(f"{BATCHES}/{batch['id']}/approve", CIVIL2, headers=headers)
    second = await relief.post(f"{BATCHES}/{batch['id']}/approve", CIVIL2, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["idempotent-replayed"] == "true" and second.json() == first.json()


# --- reads and scope ------------------------------------------------------------------------------------------------


async def test_officer_of_another_county_never_sees_the_batch(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    [payment] = await payments_of(relief, batch["id"])
    for path in (f"{BATCHES}/{batch['id']}", f"{BATCHES}/{batch['id']}/payments",
                 f"{BATCHES}/{batch['id']}/reconciliation"):  # fmt: skip
        assert_problem(await relief.get(path, WANZHOU), 404, "batch_not_found")
        assert (await relief.get(path, FENGDU)).status_code == 200
    assert_problem(await relief.get(f"{PAYMENTS}/{payment['id']}", WANZHOU), 404, "payment_not_found")
    assert (await relief.get(f"{PAYMENTS}/{payment['id']}", FENGDU)).status_code == 200
    assert (await relief.get(BATCHES, WANZHOU)).json()["items"] == []
    assert [b["id"] for b in (await relief.get(BATCHES, FENGDU)).json()["items"]] == [batch["id"]]


async def test_wansheng_officers_see_wansheng_batches_only(relief, ledger):
    await ledger.standard("wansheng", 48000, date(2019, 7, 1))
    await ledger.standard(FENGDU_UNIT, 50000, date(2019, 7, 1))
    await ledger.case(date(2020, 2, 1), date(2020, 2, 10), unit_code="wansheng")
    await ledger.case(date(2020, 2, 1), date(2020, 2, 10))
    wansheng = (await make_batch(relief, "wansheng", "2020-02-29"))["batch"]
    fengdu = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    officer = Caller("wansheng", ("county_officer",), tuple(sorted(WANSHENG_TOWNSHIPS)))
    assert [b["id"] for b in (await relief.get(BATCHES, officer)).json()["items"]] == [wansheng["id"]]
    assert (await relief.get(f"{BATCHES}/{wansheng['id']}", officer)).status_code == 200
    assert_problem(await relief.get(f"{BATCHES}/{fengdu['id']}", officer), 404, "batch_not_found")
    assert (await relief.get(BATCHES, FENGDU)).json()["items"] == [fengdu]


async def test_maker_out_of_scope_of_the_unit_is_refused(relief, ledger, standards):
    wanzhou_civil = Caller("civil-wz", ("civil_affairs",), ("500101",))  # civil affairs of one county
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    response = await relief.post(BATCHES, wanzhou_civil, json={"unit_code": FENGDU_UNIT, "up_to": "2020-02-29"})
    assert_problem(response, 403, "out_of_scope", field="unit_code")


async def test_batches_list_newest_first_filtered_by_status_and_paged(relief, ledger, standards):
    ids = []
    for day in (1, 2, 3):
        await ledger.case(date(2020, 2, day), date(2020, 2, 20))
        ids.append((await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]["id"])
    await approve(relief, ids[1])
    first = (await relief.get(BATCHES, CIVIL, params={"limit": 2})).json()
    assert [b["id"] for b in first["items"]] == [ids[2], ids[1]]
    rest = (await relief.get(BATCHES, CIVIL, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ([b["id"] for b in rest["items"]], rest["next_cursor"]) == ([ids[0]], None)
    approved = (await relief.get(BATCHES, CIVIL, params={"status": "approved"})).json()["items"]
    assert [b["id"] for b in approved] == [ids[1]]


async def test_payments_show_account_numbers_masked_without_pii_read(relief, ledger, standards):
    case = await ledger.case(date(2020, 2, 1), date(2020, 2, 20), account=False)
    await ledger.account(case, "6217996100001234567")
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-02-29"))["batch"]
    [masked] = await payments_of(relief, batch["id"], AUDITOR)
    assert masked["account_number"] == "***************4567"
    assert masked["payee_id_masked"] == "500230********123X"
    [full] = await payments_of(relief, batch["id"], CIVIL)
    assert full["account_number"] == "6217996100001234567"
    reads = (await relief.get(RELIEF_AUDIT, CITY_ADMIN, params={"action": "pii.read"})).json()["items"]
    assert [(r["actor"], r["entity"], r["changes"]["ids"]) for r in reads] == [("civil", "payment", [full["id"]])]


# --- reconciliation -------------------------------------------------------------------------------------------------


async def test_reconciliation_of_a_draft_is_balanced_but_not_complete(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 3, 1))
    await ledger.case(date(2020, 2, 2), date(2020, 2, 20))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-03-31"))["batch"]
    found = (await relief.get(f"{BATCHES}/{batch['id']}/reconciliation", AUDITOR)).json()
    assert found["payments"]["pending"] == {"count": 2, "fen": 300000}
    assert found["lines"]["pending"] == {"count": 3, "fen": 300000}
    assert (found["balanced"], found["complete"], found["reconciled"], found["discrepancies"]) == (
        True, False, False, [],
    )  # fmt: skip


async def test_reconciliation_finds_a_payment_that_differs_from_its_lines(relief, ledger, standards):
    await ledger.case(date(2020, 2, 1), date(2020, 3, 1))
    batch = (await make_batch(relief, FENGDU_UNIT, "2020-03-31"))["batch"]
    async with relief.app.state.session_factory() as session:
        await session.execute(sa.update(Payment).where(Payment.batch_id == batch["id"]).values(amount_fen=200001))
        await session.commit()
    found = (await relief.get(f"{BATCHES}/{batch['id']}/reconciliation", CIVIL)).json()
    assert found["balanced"] is False
    assert set(found["discrepancies"]) == {"payments_total_differs", "payment_lines_differ", "pending_lines_differ"}
