"""SQL of payment batches, payments and their lines: scope, reads, and the bulk writes a batch of 100,000 cases
needs (shared.bulk: COPY on PostgreSQL, executemany of plain tuples on SQLite)."""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.batches.schemas import BatchStatus
from services.relief.cases.periods import Due, Settled, Standard
from services.relief.models import DibaoStandard, PayeeAccount, Payment, PaymentBatch, PaymentLine, ReliefCase
from services.relief.standards.units import county_of
from shared.auth import Principal
from shared.bulk import INTEGRITY_ERRORS, bulk_insert
from shared.ids import id_run
from shared.regions import WANSHENG_CODE, WANSHENG_COUNTY, WANSHENG_TOWNSHIPS

LIVE = ("pending", "paid")
ID_CHUNK = 500  # ids per IN (...) list: well under SQLite's and asyncpg's bind-parameter limits


def covers_unit(principal: Principal, unit_code: str) -> bool:
    """The caller's scope holds the unit: its county, or for 万盛经开区 every one of its ten townships."""
    if unit_code == WANSHENG_CODE:
        return principal.covers(WANSHENG_COUNTY) or all(principal.covers(t) for t in WANSHENG_TOWNSHIPS)
    return principal.covers(unit_code)


def batch_scope(principal: Principal) -> sa.ColumnElement[bool]:
    """Batches in the caller's scope, read through their county code (万盛经开区's officers see its batches)."""
    clause = principal.region_clause(PaymentBatch.county_code)
    if covers_unit(principal, WANSHENG_CODE):
        clause = sa.or_(clause, PaymentBatch.unit_code == WANSHENG_CODE)
    return clause


def chunks(values: Sequence[Any], size: int = ID_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def batch_in_scope(
    session: AsyncSession, principal: Principal, batch_id: str, *, for_update: bool = False
) -> PaymentBatch | None:
    query = sa.select(PaymentBatch).where(PaymentBatch.id == batch_id, batch_scope(principal))
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


# --- what a new batch reads -----------------------------------------------------------------------------------------


async def standards_of(session: AsyncSession, unit_code: str) -> dict[str, list[Standard]]:
    """The unit's dibao standards by rural/urban class."""
    rows = await session.execute(
        sa.select(DibaoStandard.area_class, DibaoStandard.effective_from, DibaoStandard.monthly_fen).where(
            DibaoStandard.unit_code == unit_code
        )
    )
    standards: dict[str, list[Standard]] = {}
    for area_class, effective_from, monthly_fen in rows:
        standards.setdefault(area_class, []).append(Standard(effective_from, monthly_fen))
    return standards


async def cases_of_unit(session: AsyncSession, unit_code: str) -> Sequence[sa.Row]:
    """Every case of the unit, open or closed (a closed case may still be owed), in id order, with its person's
    payee account (None when there is none)."""
    query = (
        sa.select(
            ReliefCase.id, ReliefCase.person_id, ReliefCase.payee_name, ReliefCase.diagnosed_on,
            ReliefCase.closed_on, ReliefCase.area_class, PayeeAccount.holder_name, PayeeAccount.bank_name,
            PayeeAccount.account_enc, PayeeAccount.account_masked,
        )
        .outerjoin(PayeeAccount, PayeeAccount.person_id == ReliefCase.person_id)
        .where(ReliefCase.county_code == county_of(unit_code), ReliefCase.unit_code == unit_code)
        .order_by(ReliefCase.id)
    )  # fmt: skip
    return (await (await session.connection()).execute(query)).all()


async def live_lines_of_unit(session: AsyncSession, unit_code: str) -> dict[str, list[Settled]]:
    """The pending and paid lines of the unit's cases, by case: never collected again."""
    query = (
        sa.select(PaymentLine.case_id, PaymentLine.period_no, PaymentLine.kind, PaymentLine.amount_fen)
        .join(ReliefCase, ReliefCase.id == PaymentLine.case_id)
        .where(
            ReliefCase.county_code == county_of(unit_code),
            ReliefCase.unit_code == unit_code,
            PaymentLine.status.in_(LIVE),
        )
    )
    settled: dict[str, list[Settled]] = {}
    for case_id, period_no, kind, amount_fen in await (await session.connection()).execute(query):
        settled.setdefault(case_id, []).append(Settled(period_no, kind, amount_fen))
    return settled


# --- bulk writes ----------------------------------------------------------------------------------------------------

PAYMENT_COLUMNS = (
    "id", "batch_id", "case_id", "reference", "amount_fen", "holder_name", "bank_name", "account_enc", "account_masked",
    "status", "created_at", "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "id", "payment_id", "batch_id", "case_id", "period_no", "period_start", "kind", "amount_fen", "status",
    "created_at", "updated_at",
)  # fmt: skip


class LinesTaken(Exception):
    """The unique index of live period lines (or of references) refused a row: another batch took it meanwhile."""


class PlannedPayment(Protocol):
    case_id: str
    amount_fen: int
    lines: Sequence[Due]
    account: tuple[str, str, str, str]  # holder, bank, encrypted number, masked number


async def insert_payments(
    session: AsyncSession, *, batch_id: str, reference_prefix: str, payments: Sequence[PlannedPayment], now: datetime
) -> None:
    """Write the batch's payments (reference: prefix and sequence from 1), then their lines, all pending, in the
    session's transaction (shared.bulk: COPY on PostgreSQL). LinesTaken when a unique index refuses a row."""
    payment_ids = id_run(len(payments))
    line_ids = iter(id_run(sum(len(p.lines) for p in payments)))
    pending = "pending"
    payment_rows, line_rows = [], []
    for sequence, (payment, payment_id) in enumerate(zip(payments, payment_ids, strict=True), start=1):
        case_id = payment.case_id
        reference = f"{reference_prefix}-{sequence:06d}"
        payment_rows.append(
            (payment_id, batch_id, case_id, reference, payment.amount_fen, *payment.account, pending, now, now)
        )
        for line in payment.lines:
            line_rows.append(
                (next(line_ids), payment_id, batch_id, case_id, line.period_no, line.period_start, line.kind,
                 line.amount_fen, pending, now, now)
            )  # fmt: skip
    try:
        await bulk_insert(session, Payment.__table__, PAYMENT_COLUMNS, payment_rows)
        await bulk_insert(session, PaymentLine.__table__, LINE_COLUMNS, line_rows)
    except INTEGRITY_ERRORS as exc:
        raise LinesTaken(str(exc)) from exc


# --- tallies --------------------------------------------------------------------------------------------------------


async def tallies(session: AsyncSession, table: sa.Table, batch_id: str) -> dict[str, tuple[int, int]]:
    """(count, fen) by status of the batch's payments or lines."""
    rows = await session.execute(
        sa.select(table.c.status, sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.amount_fen), 0))
        .where(table.c.batch_id == batch_id)
        .group_by(table.c.status)
    )
    return {status: (int(count), int(fen)) for status, count, fen in rows}


async def payments_not_matching_lines(session: AsyncSession, batch_id: str) -> int:
    """Payments whose amount is not the sum of their lines."""
    line_sum = (
        sa.select(sa.func.coalesce(sa.func.sum(PaymentLine.amount_fen), 0))
        .where(PaymentLine.payment_id == Payment.id)
        .scalar_subquery()
    )
    query = sa.select(sa.func.count()).where(Payment.batch_id == batch_id, Payment.amount_fen != line_sum)
    return int(await session.scalar(query) or 0)


async def lines_not_matching_status(session: AsyncSession, batch_id: str) -> int:
    """Lines whose status is not their payment's."""
    query = (
        sa.select(sa.func.count())
        .select_from(PaymentLine)
        .join(Payment, Payment.id == PaymentLine.payment_id)
        .where(PaymentLine.batch_id == batch_id, PaymentLine.status != Payment.status)
    )
    return int(await session.scalar(query) or 0)


# --- maker–checker, cancelling, reads of batches and payments ---------------------------------------------------------


async def approve(session: AsyncSession, batch_id: str, checker: str, now: datetime) -> bool:
    """The rule in the UPDATE (still a draft, the checker not its maker): of two approvals at once one changes the
    row; False for the other."""
    result = await session.execute(
        sa.update(PaymentBatch)
        .where(
            PaymentBatch.id == batch_id, PaymentBatch.status == BatchStatus.draft.value, PaymentBatch.made_by != checker
        )
        .values(status=BatchStatus.approved.value, approved_by=checker, approved_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def cancel(session: AsyncSession, batch_id: str, now: datetime) -> bool:
    """A draft cancelled, its totals zero; False when it is no longer a draft (nothing changed)."""
    result = await session.execute(
        sa.update(PaymentBatch)
        .where(PaymentBatch.id == batch_id, PaymentBatch.status == BatchStatus.draft.value)
        .values(status=BatchStatus.cancelled.value, payment_count=0, total_fen=0, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def remove_payments(session: AsyncSession, batch_id: str) -> None:
    """A cancelled draft's payments and lines, so their periods are due again."""
    await session.execute(sa.delete(PaymentLine).where(PaymentLine.batch_id == batch_id))
    await session.execute(sa.delete(Payment).where(Payment.batch_id == batch_id))


async def list_batches(
    session: AsyncSession, scope: sa.ColumnElement[bool], *, unit_code: str | None, status: str | None,
    updated_since: datetime | None, before_id: str | None, limit: int,
) -> Sequence[PaymentBatch]:  # fmt: skip
    query = sa.select(PaymentBatch).where(scope)
    if unit_code:
        query = query.where(PaymentBatch.unit_code == unit_code)
    if status:
        query = query.where(PaymentBatch.status == status)
    if updated_since:
        query = query.where(PaymentBatch.updated_at > updated_since)
    if before_id:
        query = query.where(PaymentBatch.id < before_id)
    return (await session.scalars(query.order_by(PaymentBatch.id.desc()).limit(limit))).all()


def _payment_query() -> sa.Select:
    """A payment with its payee's name, masked ID number and account (encrypted and masked)."""
    return (
        sa.select(Payment, ReliefCase.payee_name, ReliefCase.payee_id_masked, Payment.account_enc,
                  Payment.account_masked)
        .join(ReliefCase, ReliefCase.id == Payment.case_id)
        .join(PaymentBatch, PaymentBatch.id == Payment.batch_id)
    )  # fmt: skip


async def payments_of_batch(
    session: AsyncSession, batch_id: str, *, status: str | None, updated_since: datetime | None,
    after_id: str | None, limit: int,
) -> Sequence[sa.Row]:  # fmt: skip
    """In reference order (the order of the bank file)."""
    query = _payment_query().where(Payment.batch_id == batch_id)
    if status:
        query = query.where(Payment.status == status)
    if updated_since:
        query = query.where(Payment.updated_at > updated_since)
    if after_id:
        query = query.where(Payment.id > after_id)
    return (await session.execute(query.order_by(Payment.id).limit(limit))).all()


async def payment_row(session: AsyncSession, payment_id: str, scope: sa.ColumnElement[bool]) -> sa.Row | None:
    return (await session.execute(_payment_query().where(Payment.id == payment_id, scope))).first()


async def lines_of_payment(session: AsyncSession, payment_id: str) -> Sequence[PaymentLine]:
    query = sa.select(PaymentLine).where(PaymentLine.payment_id == payment_id).order_by(PaymentLine.period_no)
    return (await session.scalars(query)).all()


# --- payee accounts ---------------------------------------------------------------------------------------------------


async def account_of(
    session: AsyncSession, person_id: str, *, scope: sa.ColumnElement[bool] | None = None, for_update: bool = False
) -> PayeeAccount | None:
    query = sa.select(PayeeAccount).where(PayeeAccount.person_id == person_id)
    if scope is not None:
        query = query.where(scope)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


# --- the bank: its file, its results ----------------------------------------------------------------------------------


async def line_spans(session: AsyncSession, batch_id: str) -> dict[str, tuple[int, int]]:
    """The first and last period each payment of the batch pays, by payment id."""
    query = (
        sa.select(PaymentLine.payment_id, sa.func.min(PaymentLine.period_no), sa.func.max(PaymentLine.period_no))
        .where(PaymentLine.batch_id == batch_id)
        .group_by(PaymentLine.payment_id)
    )
    return {payment_id: (first, last) for payment_id, first, last in await session.execute(query)}


async def bank_file_rows(session: AsyncSession, batch_id: str) -> Sequence[sa.Row]:
    """(id, reference, amount_fen, payee_id_masked, holder_name, bank_name, account_enc) in reference order."""
    query = (
        sa.select(Payment.id, Payment.reference, Payment.amount_fen, ReliefCase.payee_id_masked,
                  Payment.holder_name, Payment.bank_name, Payment.account_enc)
        .join(ReliefCase, ReliefCase.id == Payment.case_id)
        .where(Payment.batch_id == batch_id)
        .order_by(Payment.id)
    )  # fmt: skip
    return (await session.execute(query)).all()


async def payments_by_reference(session: AsyncSession, batch_id: str) -> dict[str, sa.Row]:
    query = sa.select(Payment.id, Payment.reference, Payment.status, Payment.amount_fen).where(
        Payment.batch_id == batch_id
    )
    return {row.reference: row for row in await session.execute(query)}


async def settle(session: AsyncSession, payment_ids: list[str], status: str, now: datetime) -> bool:
    """Payments still pending, and their lines, take the bank's result; False when one of them was not pending (the
    caller rolls back)."""
    for chunk in chunks(payment_ids):
        result = await session.execute(
            sa.update(Payment)
            .where(Payment.id.in_(chunk), Payment.status == "pending")
            .values(status=status, result_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(chunk):
            return False
        await session.execute(
            sa.update(PaymentLine)
            .where(PaymentLine.payment_id.in_(chunk))
            .values(status=status, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return True


async def set_failure_reasons(session: AsyncSession, reasons: list[tuple[str, str]]) -> None:
    """(payment id, the bank's reason) of failed payments."""
    table = Payment.__table__
    await session.execute(
        sa.update(table).where(table.c.id == sa.bindparam("payment_id")),
        [{"payment_id": payment_id, "failure_reason": reason} for payment_id, reason in reasons],
    )


async def pending_count(session: AsyncSession, batch_id: str) -> int:
    query = sa.select(sa.func.count()).where(Payment.batch_id == batch_id, Payment.status == "pending")
    return int(await session.scalar(query) or 0)


async def lines_paid(session: AsyncSession, payment_ids: Sequence[str]) -> Sequence[sa.Row]:
    """The lines of the payments with their case's person, household, county and payee, in payment and period
    order."""
    query = (
        sa.select(PaymentLine.case_id, PaymentLine.period_no, PaymentLine.period_start, PaymentLine.amount_fen,
                  PaymentLine.kind, ReliefCase.person_id, ReliefCase.household_id, ReliefCase.county_code,
                  ReliefCase.payee_name)
        .join(ReliefCase, ReliefCase.id == PaymentLine.case_id)
        .where(PaymentLine.payment_id.in_(payment_ids))
        .order_by(PaymentLine.payment_id, PaymentLine.period_no, PaymentLine.id)
    )  # fmt: skip
    return (await session.execute(query)).all()
