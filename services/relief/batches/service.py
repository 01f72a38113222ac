"""Payment batches (发放批次) with maker–checker: collect every due relief line of a county (or 万盛经开区) up to a
date, approve by a second user, cancel a draft; read batches and payments; reconcile a batch (对账).

What a batch collects, per case of the unit, open or closed: the periods it is entitled to up to `up_to` (cases/
periods.py, at 2 × the unit's dibao standard for the case's rural or urban class), less its live lines (pending or
paid), as periods and adjustments. One payment per case, its lines summed. Left out, and listed in the answer:
- a case whose person has no payee account (skipped: its lines stay due for a later batch);
- a case whose net amount is not positive, i.e. it was overpaid after a date was corrected (held): nothing can be
  paid into a negative amount, so its negative adjustment stays due and is netted in the batch that next owes the
  case money, or recovered outside the system.
A period is paid at most once: the database's unique index of live period lines refuses a second one, so two batches
made at the same moment cannot both take a period (the later answers 409).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.batches import repository
from services.relief.batches.errors import (
    BatchLinesTaken,
    BatchNotDraft,
    BatchNotFound,
    MakerCannotApprove,
    NothingDue,
    PaymentNotFound,
    UpToInFuture,
)
from services.relief.batches.repository import LinesTaken
from services.relief.batches.schemas import (
    BatchCreate,
    BatchCreated,
    BatchOut,
    BatchStatus,
    LeftOutCase,
    LeftOutReason,
    PaymentDetail,
    PaymentLineOut,
    PaymentOut,
    PaymentStatus,
    Reconciliation,
    StatusTallies,
    Tally,
)
from services.relief.cases.periods import Due, Entitlement, Settled, due, entitlements
from services.relief.models import Payment, PaymentBatch, PaymentLine
from services.relief.standards.units import county_of
from shared.context import Ctx
from shared.dates import today
from shared.db import utcnow
from shared.errors import OutOfScope
from shared.ids import uuid7
from shared.money import yuan
from shared.pagination import Page, PageParams, after_id, page_of

LEFT_OUT_LISTED = 1000


def batch_number(batch_id: str) -> str:
    """批次号: the first 20 hex digits of the batch's UUIDv7 (its millisecond, sequence and some random bits)."""
    return "RB" + batch_id.replace("-", "")[:20].upper()


def batch_out(batch: PaymentBatch) -> BatchOut:
    return BatchOut(
        id=batch.id, number=batch_number(batch.id), unit_code=batch.unit_code, county_code=batch.county_code,
        up_to=batch.up_to, status=batch.status, payment_count=batch.payment_count, total_fen=batch.total_fen,
        total_yuan=yuan(batch.total_fen), paid_fen=batch.paid_fen, failed_fen=batch.failed_fen,
        made_by=batch.made_by, approved_by=batch.approved_by, approved_at=batch.approved_at,
        created_at=batch.created_at, updated_at=batch.updated_at,
    )  # fmt: skip


async def batch_in_scope(ctx: Ctx, batch_id: str, *, for_update: bool = False) -> PaymentBatch:
    batch = await repository.batch_in_scope(ctx.session, ctx.principal, batch_id, for_update=for_update)
    if batch is None:
        raise BatchNotFound()
    return batch


# --- making a batch -------------------------------------------------------------------------------------------------


class PlannedPayment(NamedTuple):
    case_id: str
    amount_fen: int
    lines: Sequence[Due]
    account: tuple[str, str, str, str]  # holder, bank, encrypted number, masked number


@dataclass
class Plan:
    """What a batch of the unit up to the day would hold, and what it leaves out."""

    unit_code: str
    up_to: date
    payments: list[PlannedPayment] = field(default_factory=list)
    skipped: list[LeftOutCase] = field(default_factory=list)
    held: list[LeftOutCase] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(len(p.lines) for p in self.payments)

    @property
    def total_fen(self) -> int:
        return sum(p.amount_fen for p in self.payments)


def _owed(entitled: Sequence[Entitlement], settled: Sequence[Settled], diagnosed_on: date) -> tuple[list[Due], int]:
    lines = due(entitled, settled, diagnosed_on)
    return lines, sum(line.amount_fen for line in lines)


async def plan_batch(session: AsyncSession, unit_code: str, up_to: date) -> Plan:
    """Every due line of the unit's cases up to `up_to`, by case (cases/periods.py: entitlements less live lines)."""
    standards = await repository.standards_of(session, unit_code)
    cases = await repository.cases_of_unit(session, unit_code)
    settled = await repository.live_lines_of_unit(session, unit_code)
    plan = Plan(unit_code=unit_code, up_to=up_to)
    payments = plan.payments
    # Cases diagnosed and closed on the same days in the same class are entitled to the same periods, and owe the
    # same lines while nothing was paid: computed once (a county's 100,000 cases have a few thousand such dates).
    entitled_by_dates: dict[tuple, list[Entitlement]] = {}
    unsettled: dict[tuple, tuple[list[Due], int]] = {}
    for case_id, person_id, payee_name, diagnosed_on, closed_on, area_class, *account in cases:
        key = (diagnosed_on, closed_on, area_class)
        paid = settled.get(case_id)
        if paid is None and (owed := unsettled.get(key)) is not None:
            lines, net = owed
        else:
            entitled = entitled_by_dates.get(key)
            if entitled is None:
                entitled = entitled_by_dates[key] = entitlements(
                    diagnosed_on, closed_on, up_to, standards.get(area_class, ())
                )
            if paid is None:
                lines, net = unsettled[key] = _owed(entitled, (), diagnosed_on)
            else:
                lines, net = _owed(entitled, paid, diagnosed_on)
        if not lines:
            continue
        has_account = account[2] is not None
        if net > 0 and has_account:
            payments.append(PlannedPayment(case_id, net, lines, tuple(account)))
            continue
        reason = LeftOutReason.net_due_not_positive if net <= 0 else LeftOutReason.no_payee_account
        left_out = LeftOutCase(case_id=case_id, person_id=person_id, payee_name=payee_name, reason=reason, due_fen=net)
        (plan.held if net <= 0 else plan.skipped).append(left_out)
    return plan


async def write_batch(session: AsyncSession, plan: Plan, *, made_by: str) -> PaymentBatch:
    """The batch row, its payments and lines (bulk); BatchLinesTaken when another batch took a period meanwhile."""
    now = utcnow()
    batch = PaymentBatch(
        id=uuid7(), unit_code=plan.unit_code, county_code=county_of(plan.unit_code),
        up_to=plan.up_to, status=BatchStatus.draft.value, payment_count=len(plan.payments),
        total_fen=plan.total_fen, paid_fen=0, failed_fen=0, made_by=made_by, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(batch)
    await session.flush()
    try:
        await repository.insert_payments(
            session, batch_id=batch.id, reference_prefix=batch_number(batch.id), payments=plan.payments, now=now
        )
    except LinesTaken as exc:
        raise BatchLinesTaken() from exc
    return batch


async def create_batch(ctx: Ctx, body: BatchCreate) -> BatchCreated:
    if body.up_to > today():
        raise UpToInFuture(field="up_to")
    if not repository.covers_unit(ctx.principal, body.unit_code):
        raise OutOfScope(field="unit_code")
    plan = await plan_batch(ctx.session, body.unit_code, body.up_to)
    if not plan.payments:
        raise NothingDue(up_to=body.up_to.isoformat(), skipped=len(plan.skipped), held=len(plan.held))
    batch = await write_batch(ctx.session, plan, made_by=ctx.principal.subject)
    await ctx.audit.record(
        ctx.principal,
        action="batch.create",
        entity="payment_batch",
        entity_id=batch.id,
        county_code=batch.county_code,
        changes={
            "unit_code": batch.unit_code, "up_to": batch.up_to.isoformat(), "payments": batch.payment_count,
            "lines": plan.line_count, "total_fen": batch.total_fen, "skipped": len(plan.skipped),
            "held": len(plan.held),
        },
    )  # fmt: skip
    return BatchCreated(
        batch=batch_out(batch),
        line_count=plan.line_count,
        skipped_count=len(plan.skipped),
        skipped=plan.skipped[:LEFT_OUT_LISTED],
        held_count=len(plan.held),
        held=plan.held[:LEFT_OUT_LISTED],
    )


# --- maker–checker and cancelling -----------------------------------------------------------------------------------


async def approve_batch(ctx: Ctx, batch_id: str) -> BatchOut:
    """复核: another user than the maker approves a draft. The UPDATE holds the rule (status still draft, checker not
    the maker), so of two approvals at once exactly one changes the row; the other is told 409."""
    batch = await batch_in_scope(ctx, batch_id)
    me = ctx.principal.subject
    if batch.made_by == me:
        raise MakerCannotApprove()
    if batch.status != BatchStatus.draft:
        raise BatchNotDraft(status=batch.status)
    approved = await repository.approve(ctx.session, batch.id, me, utcnow())
    await ctx.session.refresh(batch)
    if not approved:
        raise BatchNotDraft(status=batch.status)
    await ctx.audit.record(
        ctx.principal,
        action="batch.approve",
        entity="payment_batch",
        entity_id=batch.id,
        county_code=batch.county_code,
        changes={"status": ["draft", "approved"], "payments": batch.payment_count, "total_fen": batch.total_fen},
    )
    return batch_out(batch)


async def cancel_batch(ctx: Ctx, batch_id: str) -> BatchOut:
    """撤销: a draft (never approved, never sent to a bank) is cancelled and its payments and lines removed, so its
    periods are due again; the batch row stays, with zero totals, and the audit log keeps what it held."""
    batch = await batch_in_scope(ctx, batch_id)
    if batch.status != BatchStatus.draft:
        raise BatchNotDraft(status=batch.status)
    if not await repository.cancel(ctx.session, batch.id, utcnow()):
        await ctx.session.refresh(batch)
        raise BatchNotDraft(status=batch.status)
    held = {"payments": batch.payment_count, "total_fen": batch.total_fen}
    await repository.remove_payments(ctx.session, batch.id)
    await ctx.session.refresh(batch)
    await ctx.audit.record(
        ctx.principal,
        action="batch.cancel",
        entity="payment_batch",
        entity_id=batch.id,
        county_code=batch.county_code,
        changes={"status": ["draft", "cancelled"], **held},
    )
    return batch_out(batch)


# --- reads ----------------------------------------------------------------------------------------------------------


async def get_batch(ctx: Ctx, batch_id: str) -> BatchOut:
    return batch_out(await batch_in_scope(ctx, batch_id))


async def list_batches(
    ctx: Ctx, page: PageParams, *, unit_code: str | None, status: BatchStatus | None
) -> Page[BatchOut]:
    """Newest first; `updated_since` keeps the batches changed after that instant."""
    rows = await repository.list_batches(
        ctx.session, repository.batch_scope(ctx.principal), unit_code=unit_code,
        status=status.value if status else None, updated_since=page.updated_since, before_id=after_id(page),
        limit=page.limit + 1,
    )  # fmt: skip
    kept, cursor = page_of(list(rows), page.limit, lambda b: {"id": b.id})
    return Page[BatchOut](items=[batch_out(b) for b in kept], next_cursor=cursor)


def _payment_fields(ctx: Ctx, row) -> dict:
    payment, payee_name, payee_id_masked, account_enc, account_masked = row
    return {
        "id": payment.id, "batch_id": payment.batch_id, "case_id": payment.case_id, "reference": payment.reference,
        "payee_name": payee_name, "payee_id_masked": payee_id_masked,
        "account_number": ctx.show(account_enc, account_masked), "amount_fen": payment.amount_fen,
        "amount_yuan": yuan(payment.amount_fen), "status": payment.status, "failure_reason": payment.failure_reason,
        "result_at": payment.result_at,
    }  # fmt: skip


async def list_payments(ctx: Ctx, batch_id: str, page: PageParams, *, status: PaymentStatus | None) -> Page[PaymentOut]:
    """A batch's payments in reference order (the order of the bank file)."""
    batch = await batch_in_scope(ctx, batch_id)
    rows = await repository.payments_of_batch(
        ctx.session, batch.id, status=status.value if status else None, updated_since=page.updated_since,
        after_id=after_id(page), limit=page.limit + 1,
    )  # fmt: skip
    kept, cursor = page_of(list(rows), page.limit, lambda r: {"id": r[0].id})
    await ctx.audit_pii_read("payment", [r[0].id for r in kept if r.account_enc is not None])
    return Page[PaymentOut](items=[PaymentOut(**_payment_fields(ctx, r)) for r in kept], next_cursor=cursor)


async def get_payment(ctx: Ctx, payment_id: str) -> PaymentDetail:
    row = await repository.payment_row(ctx.session, payment_id, repository.batch_scope(ctx.principal))
    if row is None:
        raise PaymentNotFound()
    lines = await repository.lines_of_payment(ctx.session, payment_id)
    if row.account_enc is not None:
        await ctx.audit_pii_read("payment", [payment_id])
    return PaymentDetail(**_payment_fields(ctx, row), lines=[_line_out(line) for line in lines])


def _line_out(line: PaymentLine) -> PaymentLineOut:
    return PaymentLineOut(
        id=line.id, period_no=line.period_no, period_start=line.period_start, kind=line.kind,
        amount_fen=line.amount_fen, amount_yuan=yuan(line.amount_fen), status=line.status,
    )  # fmt: skip


# --- reconciliation -------------------------------------------------------------------------------------------------


def _tallies(found: dict[str, tuple[int, int]]) -> StatusTallies:
    def tally(status: PaymentStatus) -> Tally:
        count, fen = found.get(status.value, (0, 0))
        return Tally(count=count, fen=fen)

    return StatusTallies(
        paid=tally(PaymentStatus.paid), failed=tally(PaymentStatus.failed), pending=tally(PaymentStatus.pending)
    )


async def reconcile(ctx: Ctx, batch_id: str) -> Reconciliation:
    """对账: the batch's totals against its payments and their lines. Balanced when every figure agrees; complete
    when the batch went to the bank and every payment has its result; reconciled when both."""
    batch = await batch_in_scope(ctx, batch_id)
    payments = _tallies(await repository.tallies(ctx.session, Payment.__table__, batch.id))
    lines = _tallies(await repository.tallies(ctx.session, PaymentLine.__table__, batch.id))
    all_payments = (payments.paid, payments.failed, payments.pending)
    all_lines = (lines.paid, lines.failed, lines.pending)
    checks = {
        "payment_count_differs": sum(t.count for t in all_payments) == batch.payment_count,
        "payments_total_differs": sum(t.fen for t in all_payments) == batch.total_fen,
        "lines_total_differs": sum(t.fen for t in all_lines) == batch.total_fen,
        "paid_total_differs": payments.paid.fen == batch.paid_fen,
        "failed_total_differs": payments.failed.fen == batch.failed_fen,
        "payment_lines_differ": await repository.payments_not_matching_lines(ctx.session, batch.id) == 0,
        "line_status_differs": await repository.lines_not_matching_status(ctx.session, batch.id) == 0,
    }
    for status in ("paid", "failed", "pending"):
        checks[f"{status}_lines_differ"] = getattr(payments, status).fen == getattr(lines, status).fen
    discrepancies = [code for code, ok in checks.items() if not ok]
    balanced = not discrepancies
    complete = batch.status in (BatchStatus.approved, BatchStatus.reconciled) and payments.pending.count == 0
    return Reconciliation(
        batch_id=batch.id, status=batch.status, payment_count=batch.payment_count, total_fen=batch.total_fen,
        paid_fen=batch.paid_fen, failed_fen=batch.failed_fen, payments=payments, lines=lines, balanced=balanced,
        complete=complete, reconciled=balanced and complete, discrepancies=discrepancies,
    )  # fmt: skip
