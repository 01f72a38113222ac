"""Bank files of approved batches (full accounts, audited, yuan exact) and the bank's result files: paid and failed
payments, events, failed periods due again, replays that change nothing, bad files refused by row and column with
nothing written, reconciliation.

丰都县 (500230) rural standard: 333.33 yuan a month, so a period pays 666.66 yuan (66666 fen).
"""

import csv
import io
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from services.relief.batches.bankfiles import amount_fen
from services.relief.models import PayeeAccount, Payment, PaymentBatch, events
from shared.money import yuan
from tests.support.callers import AUDITOR, BANK, CITY_ADMIN, CIVIL, FENGDU, WANZHOU, Caller
from tests.support.registry import assert_problem
from tests.support.relief import BATCHES, RELIEF_AUDIT, approve, make_batch, payments_of, result_csv, upload_results

UNIT = "500230"
WANZHOU_BANK = Caller("bank-wz", ("bank_officer",), ("500101",))  # a bank officer for 万州区 only
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def approved(relief, ledger) -> dict:
    """An approved batch: 王芳 two periods (1,333.32), 李明 one (666.66); {"batch", "payments" by payee, "cases"}."""
    await ledger.standard(UNIT, 33333, date(2019, 7, 1))
    two = await ledger.case(date(2020, 2, 1), date(2020, 3, 10), payee_name="王芳", account=False)
    await ledger.account(two, "6217996100001234567")
    one = await ledger.case(date(2020, 2, 3), date(2020, 2, 20), payee_name="李明", account=False)
    await ledger.account(one, "6228480012345678901")
    batch = (await make_batch(relief, UNIT, "2020-03-31"))["batch"]
    await approve(relief, batch["id"])
    payments = {p["payee_name"]: p for p in await payments_of(relief, batch["id"])}
    return {"batch": batch, "payments": payments, "cases": {"王芳": two, "李明": one}}


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def batch_row(ledger, batch_id: str) -> PaymentBatch:
    return await ledger.scalar(sa.select(PaymentBatch).where(PaymentBatch.id == batch_id))


async def paid_events(ledger) -> list[dict]:
    rows = await ledger.rows(
        sa.select(events.outbox.c.payload)
        .where(events.outbox.c.type == "relief.period_paid")
        .order_by(events.outbox.c.id)
    )
    return [row.payload["data"] for row in rows]


async def reconciliation(relief, batch_id: str) -> dict:
    response = await relief.get(f"{BATCHES}/{batch_id}/reconciliation", CIVIL)
    assert response.status_code == 200, response.text
    return response.json()


def multipart(content: bytes, boundary: str = "fupin-boundary-1") -> tuple[bytes, dict[str, str]]:
    """A multipart body written out, so that a retry sends the very same bytes (as an HTTP client's retry does)."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="results.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={boundary}"
    }


# --- amounts --------------------------------------------------------------------------------------------------------


def test_yuan_is_exact_for_any_amount_of_fen():
    assert [yuan(f) for f in (0, 1, 10, 99, 100, 66666, 133332, -10000, -5)] == [
        "0.00", "0.01", "0.10", "0.99", "1.00", "666.66", "1333.32", "-100.00", "-0.05",
    ]  # fmt: skip
    assert yuan(12345678901234567) == "123456789012345.67"
    assert yuan(2**53 + 1) == "90071992547409.93"  # beyond a double's integers: float division would give .92


def test_amounts_written_by_a_bank_read_back_exactly():
    assert [amount_fen(t) for t in ("666.66", "1,333.32", "¥600", "0.1", "600.00")] == [66666, 133332, 60000, 10, 60000]
    assert [amount_fen(t) for t in ("666.665", "abc", "", "NaN", "sNaN", "Infinity")] == [None] * 6


# --- the bank file --------------------------------------------------------------------------------------------------


async def test_bank_file_csv_lists_full_accounts_and_exact_yuan(relief, approved):
    batch = approved["batch"]
    response = await relief.get(f"{BATCHES}/{batch['id']}/bank-file.csv", BANK)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = csv_rows(response.content)
    assert rows[0] == [
        "序号",
        "收款人姓名",
        "身份证号码（脱敏）",
        "开户银行",
        "银行账号",
        "金额（元）",
        "业务参考号",
        "摘要",
    ]
    wang, li = approved["payments"]["王芳"], approved["payments"]["李明"]
    assert sorted(rows[1:], key=lambda r: r[1]) == sorted(
        [
            ["1" if wang["reference"] < li["reference"] else "2", "王芳", "500230********123X", "重庆农村商业银行",
             "6217996100001234567", "1333.32", wang["reference"], "新冠肺炎临时救助第1-2期"],
            ["2" if wang["reference"] < li["reference"] else "1", "李明", "500230********123X", "重庆农村商业银行",
             "6228480012345678901", "666.66", li["reference"], "新冠肺炎临时救助第1期"],
        ],
        key=lambda r: r[1],
    )  # fmt: skip
    assert [r[6] for r in rows[1:]] == sorted(r[6] for r in rows[1:])  # in reference order
    total = sum(amount_fen(r[5]) for r in rows[1:])
    assert total == batch["total_fen"] == 199998


async def test_the_bank_file_pays_the_account_the_batch_was_made_and_approved_with(relief, ledger, approved):
    """An account changed after approval does not redirect the money: the checker approved the one copied."""
    case = approved["cases"]["王芳"]
    cipher = relief.app.state.cipher
    async with relief.app.state.session_factory() as session:
        await session.execute(
            sa.update(PayeeAccount)
            .where(PayeeAccount.person_id == case.person_id)
            .values(bank_name="另一家银行", account_enc=cipher.encrypt("6200000000000000000"))
        )
        await session.commit()
    response = await relief.get(f"{BATCHES}/{approved['batch']['id']}/bank-file.csv", BANK)
    [row] = [r for r in csv_rows(response.content)[1:] if r[1] == "王芳"]
    assert (row[3], row[4]) == ("重庆农村商业银行", "6217996100001234567")


async def test_bank_file_xlsx_keeps_account_numbers_and_amounts_as_written(relief, approved):
    response = await relief.get(f"{BATCHES}/{approved['batch']['id']}/bank-file.xlsx", CIVIL)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    accounts = {r[1]: (r[4], r[5]) for r in rows[1:]}
    assert accounts == {"王芳": ("6217996100001234567", "1333.32"), "李明": ("6228480012345678901", "666.66")}


async def test_bank_file_download_is_audited(relief, approved):
    batch_id = approved["batch"]["id"]
    assert (await relief.get(f"{BATCHES}/{batch_id}/bank-file.csv", BANK)).status_code == 200
    entries = (await relief.get(RELIEF_AUDIT, CITY_ADMIN, params={"action": "bank_file.download"})).json()["items"]
    assert [(e["actor"], e["entity_id"], e["changes"]) for e in entries] == [
        ("bank", batch_id, {"format": "csv", "payments": 2, "unmasked": ["account_number"]})
    ]


async def test_bank_file_needs_the_bank_permission_and_scope(relief, approved):
    path = f"{BATCHES}/{approved['batch']['id']}/bank-file.csv"
    for caller in (AUDITOR, FENGDU):
        assert_problem(await relief.get(path, caller), 403, "forbidden")
    assert_problem(await relief.get(path, WANZHOU_BANK), 404, "batch_not_found")


async def test_no_bank_file_before_approval(relief, ledger):
    await ledger.standard(UNIT, 33333, date(2019, 7, 1))
    await ledger.case(date(2020, 2, 1), date(2020, 2, 20))
    draft = (await make_batch(relief, UNIT, "2020-02-29"))["batch"]
    for suffix in ("csv", "xlsx"):
        response = await relief.get(f"{BATCHES}/{draft['id']}/bank-file.{suffix}", BANK)
        assert_problem(response, 409, "batch_not_approved")
    refused = await upload_results(relief, draft["id"], result_csv([("x", "成功", "")]))
    assert_problem(refused, 409, "batch_not_approved")


# --- the bank's results ---------------------------------------------------------------------------------------------


async def test_paid_results_pay_the_lines_announce_each_period_and_reconcile(relief, ledger, approved):
    batch, wang, li = approved["batch"], approved["payments"]["王芳"], approved["payments"]["李明"]
    response = await upload_results(
        relief, batch["id"], result_csv([(wang["reference"], "成功", ""), (li["reference"], "paid", "")])
    )
    assert response.status_code == 200, response.text
    applied = response.json()
    assert (applied["paid"], applied["paid_fen"], applied["failed"], applied["unchanged"], applied["pending"]) == (
        2, 199998, 0, 0, 0,
    )  # fmt: skip
    assert (applied["batch"]["status"], applied["batch"]["paid_fen"]) == ("reconciled", 199998)
    wang_case = approved["cases"]["王芳"]
    assert await ledger.lines(wang_case.id) == [(1, "period", 66666, "paid"), (2, "period", 66666, "paid")]
    announced = await paid_events(ledger)
    assert sorted((e["case_id"], e["period_no"], e["amount_fen"], e["kind"]) for e in announced) == sorted(
        [(wang_case.id, 1, 66666, "period"), (wang_case.id, 2, 66666, "period"),
         (approved["cases"]["李明"].id, 1, 66666, "period")]
    )  # fmt: skip
    first = next(e for e in announced if e["case_id"] == wang_case.id and e["period_no"] == 1)
    assert (first["batch_id"], first["person_id"], first["household_id"], first["period_start"]) == (
        batch["id"], wang_case.person_id, wang_case.household_id, "2020-02-01",
    )  # fmt: skip
    found = await reconciliation(relief, batch["id"])
    assert found["payments"]["paid"] == {"count": 2, "fen": 199998}
    assert found["lines"]["paid"] == {"count": 3, "fen": 199998}
    assert (found["balanced"], found["complete"], found["reconciled"]) == (True, True, True)


async def test_each_period_paid_is_delivered_to_every_subscriber_of_its_type(relief, ledger, approved):
    now = datetime.now(UTC)
    subscription = {"name": "ledger", "kind": "webhook", "url": "http://example.invalid/hook", "secret_enc": "x",
                    "created_by": "test", "created_at": now, "updated_at": now}  # fmt: skip
    async with relief.app.state.session_factory() as session:
        await session.execute(
            events.subscriptions.insert(),
            [
                {**subscription, "id": "sub-period-paid", "event_types": ["relief.period_paid"], "active": True},
                {**subscription, "id": "sub-everything", "event_types": ["*"], "active": True},
                {**subscription, "id": "sub-inactive", "event_types": ["*"], "active": False},
                {**subscription, "id": "sub-other", "event_types": ["relief.case_opened"], "active": True},
            ],
        )
        await session.commit()
    rows = [(p["reference"], "成功", "") for p in approved["payments"].values()]
    assert (await upload_results(relief, approved["batch"]["id"], result_csv(rows))).status_code == 200
    announced = await ledger.rows(sa.select(events.outbox.c.id).where(events.outbox.c.type == "relief.period_paid"))
    deliveries = await ledger.rows(sa.select(events.deliveries.c.event_id, events.deliveries.c.subscription_id))
    assert sorted(deliveries) == sorted(
        (event_id, subscription_id)
        for (event_id,) in announced
        for subscription_id in ("sub-everything", "sub-period-paid")
    )
    assert len(announced) == 3


async def test_failed_payment_frees_its_periods_for_the_next_batch(relief, ledger, approved):
    batch, wang, li = approved["batch"], approved["payments"]["王芳"], approved["payments"]["李明"]
    content = result_csv([(wang["reference"], "失败", "账户已销户"), (li["reference"], "成功", "")])
    applied = (await upload_results(relief, batch["id"], content)).json()
    assert (applied["failed"], applied["failed_fen"], applied["batch"]["failed_fen"]) == (1, 133332, 133332)
    [failed] = await payments_of(relief, batch["id"], status="failed")
    assert (failed["reference"], failed["failure_reason"]) == (wang["reference"], "账户已销户")
    wang_case = approved["cases"]["王芳"]
    assert [e["case_id"] for e in await paid_events(ledger)] == [approved["cases"]["李明"].id]
    # the next batch pays 王芳's two periods again (李明's period, paid, stays paid)
    again = await make_batch(relief, UNIT, "2020-03-31")
    assert [(p["case_id"], p["amount_fen"]) for p in await payments_of(relief, again["batch"]["id"])] == [
        (wang_case.id, 133332)
    ]
    assert await ledger.lines(wang_case.id) == [
        (1, "period", 66666, "failed"),
        (1, "period", 66666, "pending"),
        (2, "period", 66666, "failed"),
        (2, "period", 66666, "pending"),
    ]
    found = await reconciliation(relief, batch["id"])
    assert (found["payments"]["failed"], found["lines"]["failed"]) == (
        {"count": 1, "fen": 133332}, {"count": 2, "fen": 133332},
    )  # fmt: skip
    assert found["reconciled"] is True


async def test_replayed_result_file_changes_nothing(relief, ledger, approved):
    batch, wang, li = approved["batch"], approved["payments"]["王芳"], approved["payments"]["李明"]
    content = result_csv([(wang["reference"], "成功", ""), (li["reference"], "失败", "户名不符")])
    assert (await upload_results(relief, batch["id"], content)).status_code == 200
    events_before = await paid_events(ledger)
    before = await batch_row(ledger, batch["id"])
    replay = await upload_results(relief, batch["id"], content)
    assert replay.status_code == 200, replay.text
    assert (replay.json()["paid"], replay.json()["failed"], replay.json()["unchanged"]) == (0, 0, 2)
    after = await batch_row(ledger, batch["id"])
    assert (after.paid_fen, after.failed_fen, after.status) == (before.paid_fen, before.failed_fen, "reconciled")
    assert (after.paid_fen, after.failed_fen) == (133332, 66666)
    assert await paid_events(ledger) == events_before


async def test_a_paid_period_is_never_paid_twice_not_even_by_a_later_file(relief, ledger, approved):
    batch, wang, li = approved["batch"], approved["payments"]["王芳"], approved["payments"]["李明"]
    await upload_results(
        relief, batch["id"], result_csv([(wang["reference"], "失败", "账户冻结"), (li["reference"], "成功", "")])
    )
    second = (await make_batch(relief, UNIT, "2020-03-31"))["batch"]  # 王芳's periods again
    await approve(relief, second["id"])
    [repaid] = await payments_of(relief, second["id"])
    await upload_results(relief, second["id"], result_csv([(repaid["reference"], "成功", "")]))
    # the bank now claims the first transfer went through after all: refused, nothing changes
    late = await upload_results(relief, batch["id"], result_csv([(wang["reference"], "成功", "")]))
    problem = assert_problem(late, 422, "result_file_invalid")
    assert [(e["row"], e["column"], e["code"]) for e in problem["errors"]] == [
        (2, "结果", "result_contradicts_recorded")
    ]
    wang_case = approved["cases"]["王芳"]
    assert [status for *_, status in await ledger.lines(wang_case.id)] == ["failed", "paid", "failed", "paid"]
    assert [e["period_no"] for e in await paid_events(ledger) if e["case_id"] == wang_case.id] == [1, 2]
    nothing = await relief.post(BATCHES, CIVIL, json={"unit_code": UNIT, "up_to": "2020-03-31"})
    assert_problem(nothing, 422, "nothing_due")


async def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(relief, ledger, approved):
    batch, wang, li = approved["batch"], approved["payments"]["王芳"], approved["payments"]["李明"]
    content = result_csv(
        [
            (wang["reference"], "成功", ""),  # row 2: fine, but not written either
            ("RB-NO-SUCH-000001", "成功", ""),  # row 3
            (li["reference"], "失败", ""),  # row 4: no reason
            (li["reference"], "maybe", ""),  # row 5
            ("", "成功", ""),  # row 6
            (wang["reference"], "失败", "重复"),  # row 7: contradicts row 2
        ]
    )
    response = await upload_results(relief, batch["id"], content)
    problem = assert_problem(response, 422, "result_file_invalid")
    assert problem["title"] == "银行结果文件有误，未记录任何结果"
    assert [(e["row"], e["column"], e["code"], e["field"]) for e in problem["errors"]] == [
        (3, "业务参考号", "reference_unknown", "rows.3.reference"),
        (4, "失败原因", "reason_required", "rows.4.reason"),
        (5, "结果", "result_invalid", "rows.5.result"),
        (6, "业务参考号", "reference_missing", "rows.6.reference"),
        (7, "结果", "result_contradicts_row", "rows.7.result"),
    ]
    assert problem["errors"][0]["message"] == "本批次没有业务参考号为 RB-NO-SUCH-000001 的发放"
    assert problem["errors"][4]["message"] == "与第 2 行对同一业务参考号的结果矛盾"
    assert {p["status"] for p in await payments_of(relief, batch["id"])} == {"pending"}
    assert await paid_events(ledger) == []
    assert (await batch_row(ledger, batch["id"])).paid_fen == 0


async def test_problems_in_english(relief, approved):
    content = result_csv([("RB-NO-SUCH", "成功", "")])
    response = await upload_results(relief, approved["batch"]["id"], content, headers={"Accept-Language": "en"})
    problem = assert_problem(response, 422, "result_file_invalid")
    assert problem["title"] == "The result file has errors: nothing was recorded"
    assert problem["errors"] == [
        {"row": 2, "column": "reference", "field": "rows.2.reference", "code": "reference_unknown",
         "message": "No payment of this batch has the reference RB-NO-SUCH"},
    ]  # fmt: skip


async def test_results_from_an_xlsx_file_with_amounts_checked(relief, ledger, approved):
    batch, wang, li = approved["batch"], approved["payments"]["王芳"], approved["payments"]["李明"]

    def workbook(rows: list[list]) -> bytes:
        book = Workbook()
        sheet = book.active
        sheet.append(["某银行代发回盘"])  # a title row above the header, as banks' files have
        sheet.append(["业务参考号", "金额(元)", "处理结果", "失败原因"])
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    wrong = workbook([[wang["reference"], 1333.33, "成功", None], [li["reference"], 666.66, "成功", None]])
    response = await upload_results(relief, batch["id"], wrong, name="回盘.xlsx")
    problem = assert_problem(response, 422, "result_file_invalid")
    assert [(e["row"], e["column"], e["code"]) for e in problem["errors"]] == [(3, "金额（元）", "amount_mismatch")]
    assert problem["errors"][0]["message"] == "金额 1333.33 元与该笔发放的 1333.32 元不符"
    right = workbook([[wang["reference"], 1333.32, "成功", None], [li["reference"], 666.66, "失败", "户名不符"]])
    applied = await upload_results(relief, batch["id"], right, name="回盘.xlsx")
    assert applied.status_code == 200, applied.text
    assert (applied.json()["paid_fen"], applied.json()["failed_fen"]) == (133332, 66666)


async def test_files_that_are_no_result_file_are_refused(relief, approved):
    batch_id = approved["batch"]["id"]
    no_result = await upload_results(relief, batch_id, result_csv([("x", "y")], header=("业务参考号", "金额")))
    problem = assert_problem(no_result, 422, "result_file_invalid")
    assert [(e["row"], e["code"], e["message"]) for e in problem["errors"]] == [(1, "column_missing", "缺少“结果”列")]
    no_header = await upload_results(relief, batch_id, result_csv([("a", "b")], header=("甲", "乙")))
    assert assert_problem(no_header, 422, "result_file_invalid")["errors"][0]["code"] == "header_missing"
    empty = await upload_results(relief, batch_id, result_csv([]))
    assert [(e["row"], e["code"]) for e in assert_problem(empty, 422, "result_file_invalid")["errors"]] == [
        (2, "no_rows")
    ]
    binary = await upload_results(relief, batch_id, b"\x00\x01\x02garbage", name="x.bin")
    assert_problem(binary, 422, "result_file_unsupported")
    not_a_workbook = await upload_results(relief, batch_id, b"PK\x03\x04 not really a zip", name="x.xlsx")
    assert_problem(not_a_workbook, 422, "result_file_unsupported")
    no_file = await relief.post(f"{BATCHES}/{batch_id}/results", BANK, files={"upload": ("r.csv", b"x", "text/csv")})
    assert_problem(no_file, 422, "result_file_missing", field="file")


async def test_gb18030_result_file_is_read(relief, approved):
    wang, li = approved["payments"]["王芳"], approved["payments"]["李明"]
    content = f"业务参考号,结果,失败原因\r\n{wang['reference']},成功,\r\n{li['reference']},失败,账户不存在\r\n"
    response = await upload_results(relief, approved["batch"]["id"], content.encode("gb18030"))
    assert response.status_code == 200, response.text
    assert (response.json()["paid"], response.json()["failed"]) == (1, 1)


async def test_partial_results_leave_the_batch_approved_and_not_yet_reconciled(relief, approved):
    batch, wang = approved["batch"], approved["payments"]["王芳"]
    applied = (await upload_results(relief, batch["id"], result_csv([(wang["reference"], "成功", "")]))).json()
    assert (applied["pending"], applied["batch"]["status"]) == (1, "approved")
    found = await reconciliation(relief, batch["id"])
    assert found["payments"]["pending"] == {"count": 1, "fen": 66666}
    assert (found["balanced"], found["complete"], found["reconciled"]) == (True, False, False)


async def test_results_upload_needs_the_bank_permission_and_scope(relief, approved):
    content = result_csv([(approved["payments"]["王芳"]["reference"], "成功", "")])
    assert_problem(await upload_results(relief, approved["batch"]["id"], content, caller=AUDITOR), 403, "forbidden")
    assert_problem(await upload_results(relief, approved["batch"]["id"], content, caller=WANZHOU), 403, "forbidden")
    refused = await upload_results(relief, approved["batch"]["id"], content, caller=WANZHOU_BANK)
    assert_problem(refused, 404, "batch_not_found")


async def test_result_upload_with_idempotency_key_returns_the_first_answer(relief, ledger, approved):
    batch, wang = approved["batch"], approved["payments"]["王芳"]
    body, headers = multipart(result_csv([(wang["reference"], "成功", "")]))
    headers["Idempotency-Key"] = "results-1"
    path = f"{BATCHES}/{batch['id']}/results"
    first = await relief.post(path, BANK, content=body, headers=headers)
    second = await relief.post(path, BANK, content=body, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json() and first.json()["paid"] == 1
    other, other_headers = multipart(result_csv([(wang["reference"], "失败", "x")]))
    reused = await relief.post(path, BANK, content=other, headers={**other_headers, "Idempotency-Key": "results-1"})
    assert_problem(reused, 409, "idempotency_key_reused")
    assert len(await paid_events(ledger)) == 2
    stored = await ledger.rows(sa.select(Payment.status).where(Payment.batch_id == batch["id"]))
    assert sorted(s for (s,) in stored) == ["paid", "pending"]
