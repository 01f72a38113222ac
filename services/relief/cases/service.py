"""Rules of the relief cases (临时救助, measure 2): open one per patient and diagnosis date for a member of an
eligible household, close it at discharge or death, correct its dates with a reason, and show its schedule.

A paid period is never rewritten: after a correction the schedule shows the difference as adjustment lines
(periods.due).
"""

from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.cases import repository
from services.relief.cases.errors import (
    AsOfTooLate,
    CaseAlreadyOpen,
    CaseExists,
    CaseNotClosed,
    CaseNotFound,
    CloseBeforeDiagnosis,
    CloseReasonRequired,
    CorrectionUnchanged,
    DateTooEarly,
    HouseholdNotEligible,
    HouseholdNotFound,
    PersonNotInHousehold,
)
from services.relief.cases.periods import (
    RELIEF_MULTIPLE,
    Entitlement,
    Settled,
    due,
    entitled_periods,
    entitlements,
    period,
    standard_on,
)
from services.relief.cases.schemas import (
    CaseCorrectionCreate,
    CaseCreate,
    CaseDetail,
    CaseOut,
    CaseStatus,
    CorrectableDate,
    CorrectionOut,
    DueOut,
    LineOut,
    PeriodStatus,
    Schedule,
    SchedulePeriod,
    ScheduleTotals,
    StandardApplied,
)
from services.relief.errors import from_registry
from services.relief.events import emit
from services.relief.models import CaseCorrection, PaymentLine, ReliefCase
from services.relief.parameters import eligible_statuses
from services.relief.standards import repository as standards
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clients import RegistryClient
from shared.context import Ctx
from shared.dates import not_in_future, today
from shared.ids import uuid7
from shared.money import yuan
from shared.pagination import Page, PageParams, after_id, page_of
from shared.regions import unit_of
from shared.schemas.events import ReliefCaseClosedV1, ReliefCaseOpenedV1
from shared.schemas.registry import HouseholdOut, PersonOut

LIVE_LINE = frozenset({"pending", "paid"})  # a failed line leaves its period due again
CLOSE_LABELS = {"discharged": "出院", "deceased": "死亡"}
# No COVID-19 diagnosis predates the first cases (December 2019): an earlier date is a typing error.
EARLIEST_DIAGNOSIS = date(2019, 12, 1)
# A schedule looks ahead at most this far (a projection of what will be due), not to the end of the calendar.
SCHEDULE_AHEAD = timedelta(days=366)


def check_case_date(day: date, field: str) -> None:
    not_in_future(day, field)
    if day < EARLIEST_DIAGNOSIS:
        raise DateTooEarly(field=field, earliest=EARLIEST_DIAGNOSIS.isoformat())


# --- the registry -----------------------------------------------------------------------------------------------


async def fetch_household(registry: RegistryClient, household_id: str) -> HouseholdOut | None:
    """The household as the registry has it now; 503 (and the event delivered again later) when unreachable."""
    return await from_registry(registry.household(household_id))


def member_of(household: HouseholdOut, person_id: str) -> PersonOut | None:
    return next((m for m in household.members if m.id == person_id), None)


async def is_eligible(session: AsyncSession, household: HouseholdOut, diagnosed_on: date) -> bool:
    """The household's poverty status is in the eligible set in force on the diagnosis date."""
    return household.status.value in await eligible_statuses(session, diagnosed_on)


# --- opening and closing ----------------------------------------------------------------------------------------


async def monthly_fen_on(session: AsyncSession, case: ReliefCase, day: date) -> int:
    """2 × the standard of the case's unit and class in force on `day`; 0 when none is."""
    standard = standard_on(await standards.history(session, case.unit_code, case.area_class), day)
    return 0 if standard is None else RELIEF_MULTIPLE * standard.monthly_fen


async def open_case_for(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    *,
    household: HouseholdOut,
    member: PersonOut,
    diagnosed_on: date,
    opened_by: str,
    open_reason: str | None = None,
    source_event_id: str | None = None,
    confirmation_id: str | None = None,
    closed: tuple[date, str] | None = None,
) -> ReliefCase:
    """Open the case, audit it, announce it. The caller holds the person's lock (repository.lock_persons) and has
    found no case of theirs for that diagnosis date: whoever opens a case takes the lock first, so no two open the
    same one. `confirmation_id`: the registry's confirmation it follows, when opened from the registry's timeline;
    `closed`: the date and reason it closed, when it is opened after the discharge or death (written closed at
    once, the opening and the closing audited and announced in turn)."""
    case = ReliefCase(
        id=uuid7(), person_id=member.id, household_id=household.id, county_code=household.county_code,
        township_code=household.township_code, village_code=household.village_code,
        unit_code=unit_of(household.county_code, household.township_code), area_class=household.area_class.value,
        payee_name=member.name, payee_id_masked=member.id_number or None, diagnosed_on=diagnosed_on,
        status=CaseStatus.open.value, opened_by=opened_by, open_reason=open_reason, source_event_id=source_event_id,
        confirmation_id=confirmation_id,
    )  # fmt: skip
    if closed is not None:
        case.closed_on, case.close_reason, case.status = *closed, CaseStatus.closed.value
    monthly_fen = await monthly_fen_on(session, case, diagnosed_on)
    session.add(case)  # written at the next flush: the cases a POST of events opens go in one INSERT
    await audit.record(
        principal, action="relief_case.open", entity="relief_case", entity_id=case.id, county_code=case.county_code,
        changes={"person_id": case.person_id, "household_id": case.household_id,
                 "diagnosed_on": diagnosed_on.isoformat(), "unit_code": case.unit_code,
                 "area_class": case.area_class, "opened_by": opened_by, "open_reason": open_reason,
                 "source_event_id": source_event_id},
    )  # fmt: skip
    amount = f"每月 {yuan(monthly_fen)} 元" if monthly_fen else "暂无低保标准"
    payload = ReliefCaseOpenedV1(
        case_id=case.id, person_id=case.person_id, household_id=case.household_id, county_code=case.county_code,
        diagnosed_on=diagnosed_on, monthly_fen=monthly_fen, opened_by=opened_by,
        summary=f"{case.payee_name} 临时救助立案（按低保标准2倍，{amount}）",
    )  # fmt: skip
    await emit(session, "relief.case_opened", payload)
    if closed is not None:
        await _announce_close(session, audit, principal, case)
    return case


async def close_case(
    session: AsyncSession, audit: AuditTrail, principal: Principal, case: ReliefCase, *, closed_on: date, reason: str
) -> None:
    """Close the case at the discharge or death date, audit it, announce it with the periods it is entitled to."""
    case.closed_on, case.close_reason, case.status = closed_on, reason, CaseStatus.closed.value
    case.updated_at = datetime.now(UTC)
    await session.flush()
    await _announce_close(session, audit, principal, case)


async def _announce_close(session: AsyncSession, audit: AuditTrail, principal: Principal, case: ReliefCase) -> None:
    """The audit row and the event of a case's closing (its date and reason set)."""
    closed_on, reason = case.closed_on, case.close_reason
    assert closed_on is not None and reason is not None
    periods = len(entitled_periods(case.diagnosed_on, closed_on, closed_on))
    await audit.record(
        principal, action="relief_case.close", entity="relief_case", entity_id=case.id, county_code=case.county_code,
        changes={"closed_on": closed_on.isoformat(), "close_reason": reason, "status": ["open", "closed"],
                 "periods": periods},
    )  # fmt: skip
    payload = ReliefCaseClosedV1(
        case_id=case.id, person_id=case.person_id, household_id=case.household_id, county_code=case.county_code,
        closed_on=closed_on, reason=reason, periods=periods,
        summary=f"{case.payee_name} {CLOSE_LABELS.get(reason, reason)}，临时救助结案（共 {periods} 期）",
    )  # fmt: skip
    await emit(session, "relief.case_closed", payload)


async def open_case(ctx: Ctx, registry: RegistryClient, body: CaseCreate) -> CaseDetail:
    """Civil affairs opens a case by hand, the person and household checked against the registry."""
    check_case_date(body.diagnosed_on, "diagnosed_on")
    if (body.closed_on is None) != (body.close_reason is None):
        raise CloseReasonRequired(field="close_reason" if body.close_reason is None else "closed_on")
    if body.closed_on is not None:
        check_case_date(body.closed_on, "closed_on")
        if body.closed_on < body.diagnosed_on:
            raise CloseBeforeDiagnosis(field="closed_on")
    household = await fetch_household(registry, body.household_id)
    if household is None or not ctx.principal.covers(household.village_code):
        raise HouseholdNotFound(field="household_id")
    member = member_of(household, body.person_id)
    if member is None:
        raise PersonNotInHousehold(field="person_id")
    if not await is_eligible(ctx.session, household, body.diagnosed_on):
        raise HouseholdNotEligible(field="household_id", status=household.status.value)
    await repository.lock_persons(ctx.session, [member.id])  # the registry's timeline may be opening it too
    if await repository.case_of(ctx.session, member.id, body.diagnosed_on) is not None:
        raise CaseExists(field="diagnosed_on")
    if await repository.open_cases_of(ctx.session, member.id):
        raise CaseAlreadyOpen(field="person_id")
    closed = None if body.closed_on is None or body.close_reason is None else (body.closed_on, body.close_reason.value)
    case = await open_case_for(
        ctx.session, ctx.audit, ctx.principal, household=household, member=member, diagnosed_on=body.diagnosed_on,
        opened_by=ctx.principal.subject, open_reason=body.reason, closed=closed,
    )  # fmt: skip
    return await case_detail(ctx.session, case)


# --- corrections ------------------------------------------------------------------------------------------------


async def correct_case(ctx: Ctx, case_id: str, body: CaseCorrectionCreate) -> CaseDetail:
    """Correct the diagnosis or the close date, with the reason; paid periods stay as paid (adjustments follow)."""
    case = await repository.get(ctx.session, case_id, repository.case_scope(ctx.principal), for_update=True)
    if case is None:
        raise CaseNotFound()
    check_case_date(body.value, "value")
    await correct_date(ctx.session, ctx.audit, ctx.principal, case, body.field, body.value, body.reason)
    return await case_detail(ctx.session, case)


async def correct_date(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    case: ReliefCase,
    field: CorrectableDate,
    new: date,
    reason: str,
) -> None:
    """Set one of the case's dates, kept as a correction with its reason and audited (by civil affairs, or by the
    registry's timeline); the schedule then shows what was paid against what is due as adjustments."""
    if field == CorrectableDate.diagnosed_on:
        old = case.diagnosed_on
        if case.closed_on is not None and new > case.closed_on:
            raise CloseBeforeDiagnosis(field="value")
        if new != old and await repository.case_of(session, case.person_id, new) is not None:
            raise CaseExists(field="value")
    else:
        old = case.closed_on
        if case.status != CaseStatus.closed.value:
            raise CaseNotClosed(field="field")
        if new < case.diagnosed_on:
            raise CloseBeforeDiagnosis(field="value")
    if new == old:
        raise CorrectionUnchanged(field="value")
    setattr(case, field.value, new)
    case.updated_at = datetime.now(UTC)
    correction = CaseCorrection(
        case_id=case.id, field=field.value, old_value=old, new_value=new, reason=reason,
        corrected_by=principal.subject,
    )  # fmt: skip
    try:
        async with session.begin_nested():
            await repository.add(session, correction)
    except IntegrityError as exc:
        if field == CorrectableDate.diagnosed_on:  # another case of the person took that date meanwhile
            raise CaseExists(field="value") from exc
        raise
    await audit.record(
        principal, action="relief_case.correct", entity="relief_case", entity_id=case.id,
        county_code=case.county_code,
        changes={field.value: [old.isoformat() if old else None, new.isoformat()], "reason": reason},
    )  # fmt: skip


# --- reads --------------------------------------------------------------------------------------------------------


def case_out(case: ReliefCase) -> CaseOut:
    return CaseOut.model_validate(case, from_attributes=True)


async def case_detail(session: AsyncSession, case: ReliefCase) -> CaseDetail:
    corrections = await repository.corrections_of(session, case.id)
    return CaseDetail(
        **case_out(case).model_dump(),
        corrections=[CorrectionOut.model_validate(c, from_attributes=True) for c in corrections],
    )


async def case_in_scope(ctx: Ctx, case_id: str) -> ReliefCase:
    case = await repository.get(ctx.session, case_id, repository.case_scope(ctx.principal))
    if case is None:
        raise CaseNotFound()
    return case


async def get_case(ctx: Ctx, case_id: str) -> CaseDetail:
    return await case_detail(ctx.session, await case_in_scope(ctx, case_id))


async def list_cases(
    ctx: Ctx,
    page: PageParams,
    *,
    status: CaseStatus | None,
    unit_code: str | None,
    person_id: str | None,
    household_id: str | None,
) -> Page[CaseOut]:
    """Cases in scope, newest opened first; `updated_since` keeps those changed after that instant."""
    rows = await repository.list_cases(
        ctx.session,
        scope=repository.case_scope(ctx.principal),
        status=status.value if status else None,
        unit_code=unit_code,
        person_id=person_id,
        household_id=household_id,
        updated_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(rows, page.limit, lambda row: {"id": row.id})
    return Page[CaseOut](items=[case_out(row) for row in kept], next_cursor=cursor)


def _period_status(entitled: bool, standard_missing: bool, due_fen: int, pending_fen: int) -> PeriodStatus:
    if standard_missing:
        return PeriodStatus.no_standard
    if due_fen:
        return PeriodStatus.due
    if pending_fen:
        return PeriodStatus.pending
    return PeriodStatus.paid if entitled else PeriodStatus.not_entitled


def _period_row(
    diagnosed_on: date, number: int, entitlement: Entitlement | None, lines: list[PaymentLine], due_fen: int
) -> SchedulePeriod:
    current = entitlement.period if entitlement is not None else period(diagnosed_on, number)
    standard = None if entitlement is None else entitlement.standard
    pending_fen = sum(line.amount_fen for line in lines if line.status == "pending")
    missing = entitlement is not None and standard is None
    applied = None if standard is None else StandardApplied(**asdict(standard))
    return SchedulePeriod(
        number=number, start=current.start, end=current.end, entitled=entitlement is not None, standard=applied,
        amount_fen=None if entitlement is None else entitlement.amount_fen,
        paid_fen=sum(line.amount_fen for line in lines if line.status == "paid"), pending_fen=pending_fen,
        due_fen=due_fen, status=_period_status(entitlement is not None, missing, due_fen, pending_fen),
        lines=[LineOut.model_validate(line, from_attributes=True) for line in lines],
    )  # fmt: skip


async def schedule(ctx: Ctx, case_id: str, as_of: date) -> Schedule:
    """The case's periods as of `as_of`: each with its standard and amount, its payment lines, what is due.

    Lines of periods that had not started by `as_of` are left out, so a schedule of an earlier day shows what was
    owed then."""
    if as_of > today() + SCHEDULE_AHEAD:
        raise AsOfTooLate(field="query.as_of", days=SCHEDULE_AHEAD.days)
    case = await case_in_scope(ctx, case_id)
    history = await standards.history(ctx.session, case.unit_code, case.area_class)
    entitled = {e.period.number: e for e in entitlements(case.diagnosed_on, case.closed_on, as_of, history)}
    lines: dict[int, list[PaymentLine]] = defaultdict(list)
    for line in await repository.lines_of(ctx.session, case.id):
        if period(case.diagnosed_on, line.period_no).start <= as_of:
            lines[line.period_no].append(line)
    settled = [
        Settled(line.period_no, line.kind, line.amount_fen)
        for group in lines.values()
        for line in group
        if line.status in LIVE_LINE
    ]
    owed = due(list(entitled.values()), settled, case.diagnosed_on)
    due_by_period: dict[int, int] = defaultdict(int)
    for item in owed:
        due_by_period[item.period_no] += item.amount_fen
    periods = [
        _period_row(case.diagnosed_on, number, entitled.get(number), lines.get(number, []), due_by_period[number])
        for number in sorted(set(entitled) | set(lines))
    ]
    totals = ScheduleTotals(
        periods=len(entitled),
        periods_without_standard=sum(1 for e in entitled.values() if e.standard is None),
        entitled_fen=sum(e.amount_fen or 0 for e in entitled.values()),
        paid_fen=sum(p.paid_fen for p in periods),
        pending_fen=sum(p.pending_fen for p in periods),
        due_fen=sum(item.amount_fen for item in owed),
    )
    return Schedule(
        case_id=case.id, as_of=as_of, diagnosed_on=case.diagnosed_on, closed_on=case.closed_on,
        status=case.status, unit_code=case.unit_code, area_class=case.area_class, periods=periods,
        due=[DueOut(period_no=d.period_no, period_start=d.period_start, kind=d.kind, amount_fen=d.amount_fen)
             for d in owed],
        totals=totals,
    )  # fmt: skip
