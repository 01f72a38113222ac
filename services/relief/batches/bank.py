"""The bank's side of a batch: the bank file (代发文件) of an approved batch, and the bank's results (回盘) applied.

Results are applied all or nothing: every row is checked first (reference of this batch, a result the system knows,
a reason for a failure, the amount when the bank gives it, no contradiction within the file or with a result already
recorded), and any problem refuses the whole file, listed by row and column. A result already recorded and repeated
changes nothing, so a file sent twice is harmless; a payment once paid never becomes failed (nor the reverse), so a
period can never be paid twice: its failed line frees it for a later batch, whose line the unique index of live
period lines then holds.
"""

from datetime import datetime

import sqlalchemy as sa

from services.relief.batches import repository
from services.relief.batches.bankfiles import (
    AMOUNT,
    REASON,
    REFERENCE,
    RESULT,
    BankFileRow,
    ResultFileRejected,
    ResultRow,
    RowError,
    amount_fen,
    result_status,
)
from services.relief.batches.errors import BatchNotApproved, PiiReadRequired
from services.relief.batches.schemas import BatchStatus, PaymentStatus, ResultsApplied
from services.relief.batches.service import batch_in_scope, batch_out
from services.relief.events import SOURCE
from services.relief.models import PaymentBatch
from services.relief.models import events as relief_events
from shared.context import Ctx
from shared.db import utcnow
from shared.errors import Conflict
from shared.events import envelope, publish_many
from shared.money import yuan
from shared.schemas.events import ReliefPeriodPaidV1

SENT_TO_BANK = (BatchStatus.approved.value, BatchStatus.reconciled.value)
STATUS_ZH = {"pending": "待回盘", "paid": "成功", "failed": "失败"}
MAX_REASON = 200
PERIOD_PAID = "relief.period_paid"


def _summary(first: int, last: int) -> str:
    periods = f"第{first}期" if first == last else f"第{first}-{last}期"
    return f"新冠肺炎临时救助{periods}"


async def bank_file(ctx: Ctx, batch_id: str) -> tuple[PaymentBatch, list[BankFileRow]]:
    """The rows of the batch's bank file, in reference order, with full account numbers (audited)."""
    if not ctx.reveals_pii:
        raise PiiReadRequired()
    batch = await batch_in_scope(ctx, batch_id)
    if batch.status not in SENT_TO_BANK:
        raise BatchNotApproved(status=batch.status)
    spans = await repository.line_spans(ctx.session, batch.id)
    rows = []
    for payment_id, reference, amount, id_masked, holder, bank_name, account_enc in await repository.bank_file_rows(
        ctx.session, batch.id
    ):
        rows.append(
            BankFileRow(
                payee_name=holder, payee_id_masked=id_masked, bank_name=bank_name,
                account_number=ctx.cipher.decrypt(account_enc), amount_fen=amount, reference=reference,
                summary=_summary(*spans[payment_id]),
            )
        )  # fmt: skip
    return batch, rows


async def record_bank_file(ctx: Ctx, batch: PaymentBatch, file_format: str, rows: int) -> None:
    """The download is an unmasked read of every payee's account: audited."""
    await ctx.audit.record(
        ctx.principal,
        action="bank_file.download",
        entity="payment_batch",
        entity_id=batch.id,
        county_code=batch.county_code,
        changes={"format": file_format, "payments": rows, "unmasked": ["account_number"]},
    )


def _check(rows: list[ResultRow], payments: dict[str, sa.Row]) -> dict[str, tuple[int, PaymentStatus, str]]:
    """Each reference's result as the file gives it (row, result, reason); ResultFileRejected with every problem."""
    errors: list[RowError] = []
    decided: dict[str, tuple[int, PaymentStatus, str]] = {}
    for row in rows:
        status = result_status(row.result)
        payment = payments.get(row.reference)
        if not row.reference:
            errors.append(RowError(row.row, REFERENCE, "reference_missing"))
        elif payment is None:
            errors.append(RowError(row.row, REFERENCE, "reference_unknown", {"value": row.reference}))
        if status is None:
            errors.append(RowError(row.row, RESULT, "result_invalid", {"value": row.result}))
        elif status == PaymentStatus.failed and not row.reason:
            errors.append(RowError(row.row, REASON, "reason_required"))
        if len(row.reason) > MAX_REASON:
            errors.append(RowError(row.row, REASON, "reason_too_long"))
        if payment is None:
            continue
        if row.amount:
            fen = amount_fen(row.amount)
            if fen is None:
                errors.append(RowError(row.row, AMOUNT, "amount_invalid", {"value": row.amount}))
            elif fen != payment.amount_fen:
                expected = yuan(payment.amount_fen)
                errors.append(RowError(row.row, AMOUNT, "amount_mismatch", {"value": row.amount, "expected": expected}))
        if status is None:
            continue
        earlier = decided.get(row.reference)
        if earlier is not None and earlier[1] != status:
            errors.append(RowError(row.row, RESULT, "result_contradicts_row", {"other": earlier[0]}))
        elif payment.status != PaymentStatus.pending and payment.status != status:
            recorded = {"recorded": STATUS_ZH[payment.status], "value": row.result}
            errors.append(RowError(row.row, RESULT, "result_contradicts_recorded", recorded))
        elif earlier is None:
            decided[row.reference] = (row.row, status, row.reason)
    if errors:
        raise ResultFileRejected(errors)
    return decided


async def apply_results(ctx: Ctx, batch_id: str, rows: list[ResultRow]) -> ResultsApplied:
    """Record the bank's results: paid payments and their lines paid (relief.period_paid for each line), failed ones
    and their lines failed with the reason (their periods due again); the batch's totals kept, and the batch
    reconciled once every payment has its result. The batch row is locked, so two files for it queue up."""
    batch = await batch_in_scope(ctx, batch_id, for_update=True)
    if batch.status not in SENT_TO_BANK:
        raise BatchNotApproved(status=batch.status)
    payments = await repository.payments_by_reference(ctx.session, batch.id)
    decided = _check(rows, payments)
    paid, failed, unchanged = [], [], 0
    for reference, (_row, status, reason) in decided.items():
        payment = payments[reference]
        if payment.status == status:
            unchanged += 1
        elif status == PaymentStatus.paid:
            paid.append(payment)
        else:
            failed.append((payment, reason))
    now = utcnow()
    await _settle(ctx, [p.id for p in paid], PaymentStatus.paid, now)
    await _settle(ctx, [p.id for p, _ in failed], PaymentStatus.failed, now)
    if failed:
        await repository.set_failure_reasons(ctx.session, [(p.id, reason) for p, reason in failed])
    await _announce_paid(ctx, batch, [p.id for p in paid])
    paid_fen = sum(p.amount_fen for p in paid)
    failed_fen = sum(p.amount_fen for p, _ in failed)
    pending = await repository.pending_count(ctx.session, batch.id)
    if paid or failed:
        batch.paid_fen += paid_fen
        batch.failed_fen += failed_fen
        batch.status = BatchStatus.reconciled.value if pending == 0 else BatchStatus.approved.value
        batch.updated_at = now
        await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="batch.results",
        entity="payment_batch",
        entity_id=batch.id,
        county_code=batch.county_code,
        changes={
            "rows": len(rows), "paid": len(paid), "paid_fen": paid_fen, "failed": len(failed),
            "failed_fen": failed_fen, "unchanged": unchanged, "status": batch.status,
        },
    )  # fmt: skip
    return ResultsApplied(
        batch=batch_out(batch), rows=len(rows), paid=len(paid), paid_fen=paid_fen, failed=len(failed),
        failed_fen=failed_fen, unchanged=unchanged, pending=pending,
    )  # fmt: skip


async def _settle(ctx: Ctx, payment_ids: list[str], status: PaymentStatus, now: datetime) -> None:
    """Payments still pending, and their lines, take the bank's result."""
    if not await repository.settle(ctx.session, payment_ids, status.value, now):
        raise Conflict()  # the batch row is locked: only a change outside this code path gets here


async def _announce_paid(ctx: Ctx, batch: PaymentBatch, payment_ids: list[str]) -> None:
    """relief.period_paid for each line of the payments just paid, to the household's ledger."""
    announced = []
    for chunk in repository.chunks(payment_ids):
        for (
            case_id,
            period_no,
            start,
            amount,
            kind,
            person_id,
            household_id,
            county,
            payee,
        ) in await repository.lines_paid(ctx.session, chunk):
            what = "差额调整" if kind == "adjustment" else ""
            payload = ReliefPeriodPaidV1(
                case_id=case_id, person_id=person_id, household_id=household_id, county_code=county,
                batch_id=batch.id, period_no=period_no, period_start=start, amount_fen=amount, kind=kind,
                summary=f"{payee} 临时救助第{period_no}期{what} {yuan(amount)} 元已发放",
            )  # fmt: skip
            announced.append(
                envelope(
                    source=SOURCE, payload=payload, event_type=PERIOD_PAID, household_id=household_id,
                    county_code=county,
                )
            )  # fmt: skip
    await publish_many(ctx.session, relief_events, announced)  # tens of thousands of lines: a few statements
