"""Follow-up of a household hit by the epidemic (measure 4): marking it 返贫 (returned to poverty), referring it to
rural dibao (纳入农村低保), and the civil-affairs decision on the referral."""

from datetime import UTC, datetime

from services.registry.events import note
from services.registry.health import repository
from services.registry.health.errors import (
    DecisionBeforeReferral,
    DibaoReferralDecided,
    DibaoReferralNotFound,
    DibaoReferralPending,
    HouseholdAlreadyReturned,
    HouseholdHasDibao,
    HouseholdNotLifted,
)
from services.registry.health.schemas import (
    DibaoDecision,
    DibaoDecisionCreate,
    DibaoReferralCreate,
    DibaoReferralOut,
    ReturnToPoverty,
    StatusChangeOut,
)
from services.registry.households.service import change_status, household_in_scope
from services.registry.models import DibaoReferral, Household, StatusChange
from services.registry.scope import household_scope
from shared.context import Ctx
from shared.dates import day_start, not_in_future
from shared.errors import HouseholdNotFound
from shared.pagination import Page, PageParams, after_id, page_of
from shared.schemas.registry import PovertyStatus


async def _household_for_update(ctx: Ctx, household_id: str) -> Household:
    household = await repository.household_for_update(ctx.session, household_id, household_scope(ctx.principal))
    if household is None:
        raise HouseholdNotFound()
    return household


def status_change_out(change: StatusChange) -> StatusChangeOut:
    return StatusChangeOut(
        id=change.id, household_id=change.household_id, from_status=change.from_status, to_status=change.to_status,
        changed_on=change.changed_on, reason=change.reason, recorded_by=change.recorded_by,
        created_at=change.created_at,
    )  # fmt: skip


async def return_to_poverty(ctx: Ctx, household_id: str, body: ReturnToPoverty) -> StatusChangeOut:
    """Only a lifted household can return to poverty (a household not yet lifted has nowhere to return from)."""
    household = await _household_for_update(ctx, household_id)
    if household.status == PovertyStatus.returned:
        raise HouseholdAlreadyReturned()
    if household.status == PovertyStatus.not_lifted:
        raise HouseholdNotLifted()
    not_in_future(body.changed_on, "changed_on")
    change = await change_status(
        ctx, household, to_status=PovertyStatus.returned.value, changed_on=body.changed_on, reason=body.reason
    )
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="household.return_to_poverty",
        entity="household",
        entity_id=household.id,
        county_code=household.county_code,
        changes={
            "status": [change.from_status, change.to_status], "changed_on": body.changed_on.isoformat(),
            "reason": body.reason, "status_change_id": change.id,
        },
    )  # fmt: skip
    return status_change_out(change)


async def status_changes(ctx: Ctx, household_id: str) -> list[StatusChangeOut]:
    await household_in_scope(ctx, household_id)
    return [status_change_out(c) for c in await repository.status_changes_of(ctx.session, household_id)]


# --- dibao referrals ------------------------------------------------------------------------------------------------


def referral_out(row: repository.ReferralRow) -> DibaoReferralOut:
    referral, household = row
    return DibaoReferralOut(
        id=referral.id, household_id=household.id, household_no=household.household_no,
        head_name=household.head_name, county_code=referral.county_code, township_code=referral.township_code,
        referred_on=referral.referred_on, reason=referral.reason, referred_by=referral.referred_by,
        decision=referral.decision or DibaoDecision.pending, decided_on=referral.decided_on,
        decision_note=referral.decision_note, decided_by=referral.decided_by, created_at=referral.created_at,
        updated_at=referral.updated_at,
    )  # fmt: skip


async def refer_to_dibao(ctx: Ctx, household_id: str, body: DibaoReferralCreate) -> DibaoReferralOut:
    """One open referral per household, and none for a household already on dibao."""
    household = await _household_for_update(ctx, household_id)
    if household.dibao:
        raise HouseholdHasDibao()
    if await repository.pending_referral_exists(ctx.session, household.id):
        raise DibaoReferralPending()
    not_in_future(body.referred_on, "referred_on")
    referral = DibaoReferral(
        household_id=household.id, county_code=household.county_code, township_code=household.township_code,
        referred_on=body.referred_on, reason=body.reason, referred_by=ctx.principal.subject,
    )  # fmt: skip
    await repository.add(ctx.session, referral)
    await ctx.audit.record(
        ctx.principal,
        action="dibao_referral.create",
        entity="dibao_referral",
        entity_id=referral.id,
        county_code=referral.county_code,
        changes={"household_id": household.id, "referred_on": body.referred_on.isoformat(), "reason": body.reason},
    )
    note(
        ctx.session, household_id=household.id, county_code=household.county_code,
        event_type="dibao_referral.created", summary=f"申请纳入农村低保：{body.reason}",
        details={"referral_id": referral.id}, occurred_at=day_start(body.referred_on),
    )  # fmt: skip
    return referral_out((referral, household))


async def household_referrals(ctx: Ctx, household_id: str) -> list[DibaoReferralOut]:
    """A household's referrals, newest first."""
    household = await household_in_scope(ctx, household_id)
    rows = await repository.list_referrals(ctx.session, scope=household_scope(ctx.principal), household_id=household.id)
    return [referral_out(row) for row in rows]


async def list_referrals(ctx: Ctx, page: PageParams, *, decision: DibaoDecision | None) -> Page[DibaoReferralOut]:
    rows = await repository.list_referrals(
        ctx.session,
        scope=household_scope(ctx.principal),
        decision=decision.value if decision else None,
        updated_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(rows, page.limit, lambda row: {"id": row[0].id})
    return Page[DibaoReferralOut](items=[referral_out(row) for row in kept], next_cursor=cursor)


async def decide(ctx: Ctx, referral_id: str, body: DibaoDecisionCreate) -> DibaoReferralOut:
    """Civil affairs decide once; an approval puts the household on dibao."""
    row = await repository.referral_for_update(ctx.session, referral_id, household_scope(ctx.principal))
    if row is None:
        raise DibaoReferralNotFound()
    referral, household = row
    if referral.decision is not None:
        raise DibaoReferralDecided()
    not_in_future(body.decided_on, "decided_on")
    if body.decided_on < referral.referred_on:
        raise DecisionBeforeReferral(field="decided_on")
    now = datetime.now(UTC)
    referral.decision, referral.decided_on = body.decision, body.decided_on
    referral.decision_note, referral.decided_by, referral.updated_at = body.note, ctx.principal.subject, now
    changes: dict = {"decision": body.decision, "decided_on": body.decided_on.isoformat(), "note": body.note}
    if body.decision == DibaoDecision.approved and not household.dibao:
        household.dibao, household.updated_at = True, now
        changes["household_dibao"] = [False, True]
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="dibao_referral.decide",
        entity="dibao_referral",
        entity_id=referral.id,
        county_code=referral.county_code,
        changes=changes,
    )
    verdict = "批准纳入农村低保" if body.decision == DibaoDecision.approved else "未予纳入农村低保"
    note(
        ctx.session, household_id=household.id, county_code=household.county_code,
        event_type="dibao_referral.decided", summary=f"民政决定：{verdict}",
        details={"referral_id": referral.id, **changes}, occurred_at=day_start(body.decided_on),
    )  # fmt: skip
    return referral_out(row)
