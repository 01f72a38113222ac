"""The exclusive insurance (专属保险, measure 23): policies, enrolments, and claims opened from the registry's
health events (or by hand), approved, paid or rejected.

**RULE** A claim for COVID hospitalisation or death is paid at most once per insured person and kind: the unique
constraint on (insured_kind, insured_id, kind) holds it, whatever the number of policies or repeated events. Its
amount is the policy's benefit for that kind when the claim is opened, and stays on the claim.
"""

from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief import events as relief_events
from services.relief.errors import from_registry
from services.relief.insurance import repository
from services.relief.insurance.errors import (
    ClaimAlreadyApproved,
    ClaimAlreadyPaid,
    ClaimAlreadyRejected,
    ClaimExists,
    ClaimNotApproved,
    ClaimNotCovered,
    ClaimNotFound,
    CoverDatesInvalid,
    EnrolmentNotFound,
    HouseholdNotEligible,
    InsuredGroupMismatch,
    InsuredNotEnrolled,
    PersonNotInHousehold,
    PolicyGroupLocked,
    PolicyNotFound,
)
from services.relief.insurance.schemas import (
    CLAIM_LABELS,
    GROUP_LABELS,
    KIND_LABELS,
    CadreEnrolmentCreate,
    ClaimCreate,
    ClaimKind,
    ClaimOut,
    ClaimReject,
    ClaimStatus,
    EnrolmentOut,
    EnrolmentResult,
    InsuredGroup,
    InsuredKind,
    PersonEnrolmentCreate,
    PolicyCreate,
    PolicyOut,
    PolicyUpdate,
)
from services.relief.models import InsuranceClaim, InsuranceEnrolment, InsurancePolicy
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clients import RegistryClient
from shared.context import Ctx
from shared.dates import not_in_future
from shared.db import utcnow
from shared.errors import CadreInactive, CadreNotFound, Conflict, DomainError, HouseholdNotFound
from shared.money import yuan
from shared.pagination import Page, PageParams, after_id, page_of
from shared.schemas.events import InsuranceClaimOpenedV1, InsuranceClaimPaidV1
from shared.schemas.registry import PovertyStatus

# Who the audit log names for a claim opened from an event: no user acted.
EVENT_ACTOR = Principal(subject="event", kind="client", roles=(), regions=())

# The insured a policy of each group takes.
GROUP_TAKES = {
    InsuredGroup.poor_household: InsuredKind.person,
    InsuredGroup.resident_cadre: InsuredKind.cadre,
    InsuredGroup.first_secretary: InsuredKind.cadre,
}


def policy_out(policy: InsurancePolicy) -> PolicyOut:
    return PolicyOut.model_validate(policy, from_attributes=True)


def enrolment_out(enrolment: InsuranceEnrolment) -> EnrolmentOut:
    return EnrolmentOut.model_validate(enrolment, from_attributes=True)


def claim_out(row: repository.ClaimRow) -> ClaimOut:
    claim, name = row
    return ClaimOut(
        id=claim.id, policy_id=claim.policy_id, enrolment_id=claim.enrolment_id, insured_kind=claim.insured_kind,
        insured_id=claim.insured_id, insured_name=name, household_id=claim.household_id,
        county_code=claim.county_code, kind=claim.kind, occurred_on=claim.occurred_on, amount_fen=claim.amount_fen,
        status=claim.status, opened_by=claim.opened_by, open_reason=claim.open_reason,
        source_event_id=claim.source_event_id, decided_by=claim.decided_by, decided_at=claim.decided_at,
        reject_reason=claim.reject_reason, paid_by=claim.paid_by, paid_at=claim.paid_at,
        created_at=claim.created_at, updated_at=claim.updated_at,
    )  # fmt: skip


def _benefit(policy: InsurancePolicy, kind: str) -> int:
    return policy.hospitalisation_fen if kind == ClaimKind.hospitalisation else policy.death_fen


# --- policies -------------------------------------------------------------------------------------------------------


def _check_cover(cover_from: date, cover_to: date) -> None:
    if cover_to < cover_from:
        raise CoverDatesInvalid(field="cover_to")


async def create_policy(ctx: Ctx, body: PolicyCreate) -> PolicyOut:
    _check_cover(body.cover_from, body.cover_to)
    policy = InsurancePolicy(**body.model_dump(), created_by=ctx.principal.subject)
    await repository.add(ctx.session, policy)
    await ctx.audit.record(
        ctx.principal,
        action="insurance_policy.create",
        entity="insurance_policy",
        entity_id=policy.id,
        changes=body.model_dump(mode="json"),
    )
    return policy_out(policy)


async def _policy(ctx: Ctx, policy_id: str) -> InsurancePolicy:
    policy = await repository.get_policy(ctx.session, policy_id)
    if policy is None:
        raise PolicyNotFound()
    return policy


async def get_policy(ctx: Ctx, policy_id: str) -> PolicyOut:
    return policy_out(await _policy(ctx, policy_id))


async def list_policies(
    ctx: Ctx, page: PageParams, *, insured_group: InsuredGroup | None, covers_on: date | None
) -> Page[PolicyOut]:
    rows = await repository.list_policies(
        ctx.session,
        insured_group=insured_group.value if insured_group else None,
        covers_on=covers_on,
        updated_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(list(rows), page.limit, lambda p: {"id": p.id})
    return Page[PolicyOut](items=[policy_out(p) for p in kept], next_cursor=cursor)


async def update_policy(ctx: Ctx, policy_id: str, body: PolicyUpdate) -> PolicyOut:
    """Benefits changed here apply to claims opened afterwards; claims opened already keep their amount."""
    policy = await _policy(ctx, policy_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    _check_cover(changes.get("cover_from", policy.cover_from), changes.get("cover_to", policy.cover_to))
    group = changes.get("insured_group")
    if group is not None and group != policy.insured_group:
        if await repository.policy_has_enrolments(ctx.session, policy.id):
            raise PolicyGroupLocked(field="insured_group")
    recorded = {
        key: to_jsonable_python([getattr(policy, key), value])
        for key, value in changes.items()
        if getattr(policy, key) != value
    }
    for key, value in changes.items():
        setattr(policy, key, value)
    policy.updated_at = utcnow()
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="insurance_policy.update",
        entity="insurance_policy",
        entity_id=policy.id,
        changes=recorded,
    )
    return policy_out(policy)


# --- enrolments -----------------------------------------------------------------------------------------------------


def _check_group(policy: InsurancePolicy, kind: InsuredKind, field: str) -> None:
    if GROUP_TAKES[InsuredGroup(policy.insured_group)] != kind:
        raise InsuredGroupMismatch(
            field=field,
            group=policy.insured_group,
            group_zh=GROUP_LABELS[policy.insured_group],
            kind=kind.value,
            kind_zh=KIND_LABELS[kind],
        )


async def _enrol(
    ctx: Ctx, policy: InsurancePolicy, kind: InsuredKind, wanted: list[InsuranceEnrolment]
) -> EnrolmentResult:
    """Enrol whoever of `wanted` is not enrolled under the policy yet; the others are answered as they are."""
    existing = await repository.enrolments_under(ctx.session, policy.id, kind.value, [e.insured_id for e in wanted])
    new = [e for e in wanted if e.insured_id not in existing]
    if new:
        try:
            async with ctx.session.begin_nested():
                ctx.session.add_all(new)
                await ctx.session.flush()
        except IntegrityError as exc:  # the same insured enrolled by a concurrent request
            raise Conflict() from exc
    for enrolment in new:
        await ctx.audit.record(
            ctx.principal,
            action="insurance_enrolment.create",
            entity="insurance_enrolment",
            entity_id=enrolment.id,
            county_code=enrolment.county_code,
            changes={"policy_id": policy.id, "insured_kind": kind.value, "insured_id": enrolment.insured_id},
        )
    return EnrolmentResult(
        enrolled=[enrolment_out(e) for e in new],
        already_enrolled=[enrolment_out(existing[e.insured_id]) for e in wanted if e.insured_id in existing],
    )


async def enrol_persons(
    ctx: Ctx, registry: RegistryClient, policy_id: str, body: PersonEnrolmentCreate
) -> EnrolmentResult:
    """Enrol members of a registered poor household (every member, or those chosen) under a poor-household policy."""
    policy = await _policy(ctx, policy_id)
    _check_group(policy, InsuredKind.person, "household_id")
    household = await from_registry(registry.household(body.household_id))
    if household is None or not ctx.principal.covers(household.village_code):
        raise HouseholdNotFound(field="household_id")
    if household.status == PovertyStatus.lifted_no_policy:
        raise HouseholdNotEligible(field="household_id")
    members = {m.id: m for m in household.members}
    chosen = list(dict.fromkeys(body.person_ids)) if body.person_ids else list(members)
    for person_id in chosen:
        if person_id not in members:
            raise PersonNotInHousehold(field="person_ids", person_id=person_id)
    wanted = [
        InsuranceEnrolment(
            policy_id=policy.id, insured_kind=InsuredKind.person.value, insured_id=person_id,
            household_id=household.id, county_code=household.county_code, region_code=household.village_code,
            name=members[person_id].name,
            enrolled_by=ctx.principal.subject,
        )
        for person_id in chosen
    ]  # fmt: skip
    return await _enrol(ctx, policy, InsuredKind.person, wanted)


async def enrol_cadre(
    ctx: Ctx, registry: RegistryClient, policy_id: str, body: CadreEnrolmentCreate
) -> EnrolmentResult:
    """Enrol a cadre (驻乡驻村干部 or 第一书记) under a policy of their group."""
    policy = await _policy(ctx, policy_id)
    _check_group(policy, InsuredKind.cadre, "cadre_id")
    cadre = await from_registry(registry.cadre(body.cadre_id))
    if cadre is None or not ctx.principal.covers(cadre.region_code):
        raise CadreNotFound(field="cadre_id")
    if not cadre.active:
        raise CadreInactive(field="cadre_id")
    enrolment = InsuranceEnrolment(
        policy_id=policy.id, insured_kind=InsuredKind.cadre.value, insured_id=cadre.id, household_id=None,
        county_code=cadre.county_code, region_code=cadre.region_code, name=cadre.name,
        enrolled_by=ctx.principal.subject,
    )  # fmt: skip
    return await _enrol(ctx, policy, InsuredKind.cadre, [enrolment])


def _enrolment_scope(principal: Principal) -> sa.ColumnElement[bool]:
    return principal.region_clause(InsuranceEnrolment.county_code, InsuranceEnrolment.region_code)


async def get_enrolment(ctx: Ctx, enrolment_id: str) -> EnrolmentOut:
    enrolment = await repository.get_enrolment(ctx.session, enrolment_id, _enrolment_scope(ctx.principal))
    if enrolment is None:
        raise EnrolmentNotFound()
    return enrolment_out(enrolment)


async def list_enrolments(
    ctx: Ctx,
    page: PageParams,
    *,
    policy_id: str | None,
    insured_kind: InsuredKind | None,
    insured_id: str | None,
    household_id: str | None,
) -> Page[EnrolmentOut]:
    rows = await repository.list_enrolments(
        ctx.session,
        scope=_enrolment_scope(ctx.principal),
        policy_id=policy_id,
        insured_kind=insured_kind.value if insured_kind else None,
        insured_id=insured_id,
        household_id=household_id,
        updated_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(list(rows), page.limit, lambda e: {"id": e.id})
    return Page[EnrolmentOut](items=[enrolment_out(e) for e in kept], next_cursor=cursor)


# --- opening claims -------------------------------------------------------------------------------------------------


async def _open_claim(
    session: AsyncSession,
    audit: AuditTrail,
    actor: Principal,
    *,
    enrolment: InsuranceEnrolment,
    policy: InsurancePolicy,
    kind: ClaimKind,
    occurred_on: date,
    opened_by: str,
    open_reason: str | None = None,
    source_event_id: str | None = None,
) -> InsuranceClaim | None:
    """Open the claim and announce it; None when the insured has a claim of this kind already."""
    claim = InsuranceClaim(
        policy_id=policy.id, enrolment_id=enrolment.id, insured_kind=enrolment.insured_kind,
        insured_id=enrolment.insured_id, household_id=enrolment.household_id, county_code=enrolment.county_code,
        region_code=enrolment.region_code, kind=kind.value, occurred_on=occurred_on,
        amount_fen=_benefit(policy, kind), status=ClaimStatus.opened.value, opened_by=opened_by,
        open_reason=open_reason, source_event_id=source_event_id,
    )  # fmt: skip
    try:
        async with session.begin_nested():
            session.add(claim)
            await session.flush()
    except IntegrityError:  # a concurrent event or request opened it first: once per person and kind
        return None
    await audit.record(
        actor,
        action="insurance_claim.open",
        entity="insurance_claim",
        entity_id=claim.id,
        county_code=claim.county_code,
        changes={
            "policy_id": policy.id, "insured_kind": claim.insured_kind, "insured_id": claim.insured_id,
            "kind": claim.kind, "occurred_on": occurred_on.isoformat(), "amount_fen": claim.amount_fen,
            "source_event_id": source_event_id, "reason": open_reason,
        },
    )  # fmt: skip
    payload = InsuranceClaimOpenedV1(
        claim_id=claim.id, policy_id=policy.id, person_id=claim.insured_id, household_id=claim.household_id,
        county_code=claim.county_code, kind=claim.kind, amount_fen=claim.amount_fen,
        summary=f"{enrolment.name} 专属保险{CLAIM_LABELS[claim.kind]}理赔立案 {yuan(claim.amount_fen)}元",
    )  # fmt: skip
    await relief_events.emit(session, "insurance.claim_opened", payload)
    return claim


class HealthFact(Protocol):
    """A registry health event: as announced (PersonHealthChangedV1) or as read from the person's timeline."""

    person_id: str
    kind: str
    occurred_on: date
    hospitalised: bool | None


def claim_kinds_of(payload: HealthFact) -> list[ClaimKind]:
    """The claims a health event calls for: in hospital (a confirmation with hospitalised true, or any later event
    that says so) → hospitalisation; death → death."""
    kinds = []
    if payload.hospitalised:
        kinds.append(ClaimKind.hospitalisation)
    if payload.kind == "deceased":
        kinds.append(ClaimKind.death)
    return kinds


async def open_claims_for_event(
    session: AsyncSession, audit: AuditTrail, event_id: str, payload: HealthFact
) -> list[InsuranceClaim]:
    """The claims a registry health event opens: for each kind it calls for, one claim under the earliest
    enrolment of the person whose policy covers the event's date and pays for that kind, unless the person has a
    claim of that kind already. Not enrolled or not covered: nothing."""
    opened = []
    for kind in claim_kinds_of(payload):
        if await repository.claim_exists(session, InsuredKind.person.value, payload.person_id, kind.value):
            continue
        covering = await repository.covering_enrolments(
            session,
            insured_kind=InsuredKind.person.value,
            insured_id=payload.person_id,
            kind=kind.value,
            occurred_on=payload.occurred_on,
            scope=sa.true(),
        )
        if not covering:
            continue
        enrolment, policy = covering[0]
        claim = await _open_claim(
            session, audit, EVENT_ACTOR, enrolment=enrolment, policy=policy, kind=kind,
            occurred_on=payload.occurred_on, opened_by="event", source_event_id=event_id,
        )  # fmt: skip
        if claim is not None:
            opened.append(claim)
    return opened


async def open_claim(ctx: Ctx, body: ClaimCreate) -> ClaimOut:
    """A claim by hand: for cadres, whose health the registry's events do not carry, or a person whose event came
    before their enrolment. The same rules as from events: a covering policy, once per person and kind."""
    not_in_future(body.occurred_on, "occurred_on")
    scope = _enrolment_scope(ctx.principal)
    if not await repository.is_enrolled(ctx.session, body.insured_kind.value, body.insured_id, scope):
        raise InsuredNotEnrolled(field="insured_id")
    if await repository.claim_exists(ctx.session, body.insured_kind.value, body.insured_id, body.kind.value):
        raise ClaimExists(field="kind")
    covering = await repository.covering_enrolments(
        ctx.session,
        insured_kind=body.insured_kind.value,
        insured_id=body.insured_id,
        kind=body.kind.value,
        occurred_on=body.occurred_on,
        scope=scope,
    )
    if not covering:
        raise ClaimNotCovered(field="occurred_on")
    enrolment, policy = covering[0]
    claim = await _open_claim(
        ctx.session, ctx.audit, ctx.principal, enrolment=enrolment, policy=policy, kind=body.kind,
        occurred_on=body.occurred_on, opened_by=ctx.principal.subject, open_reason=body.reason,
    )  # fmt: skip
    if claim is None:
        raise ClaimExists(field="kind")
    return claim_out((claim, enrolment.name))


# --- the claim workflow ---------------------------------------------------------------------------------------------

# Why a claim in this status cannot take the step asked for.
_REFUSALS: dict[str, type[DomainError]] = {
    ClaimStatus.opened: ClaimNotApproved,
    ClaimStatus.approved: ClaimAlreadyApproved,
    ClaimStatus.paid: ClaimAlreadyPaid,
    ClaimStatus.rejected: ClaimAlreadyRejected,
}


def _claim_scope(principal: Principal) -> sa.ColumnElement[bool]:
    return principal.region_clause(InsuranceClaim.county_code, InsuranceClaim.region_code)


async def _claim_in(ctx: Ctx, claim_id: str, status: ClaimStatus) -> repository.ClaimRow:
    """The claim, locked, if it is in `status`; otherwise the refusal its own status calls for."""
    row = await repository.get_claim(ctx.session, claim_id, _claim_scope(ctx.principal), for_update=True)
    if row is None:
        raise ClaimNotFound()
    if row[0].status != status:
        raise _REFUSALS[row[0].status]()
    return row


async def _record_step(ctx: Ctx, claim: InsuranceClaim, action: str, changes: dict[str, Any]) -> None:
    claim.updated_at = utcnow()
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action=f"insurance_claim.{action}",
        entity="insurance_claim",
        entity_id=claim.id,
        county_code=claim.county_code,
        changes=changes,
    )


async def approve_claim(ctx: Ctx, claim_id: str) -> ClaimOut:
    row = await _claim_in(ctx, claim_id, ClaimStatus.opened)
    claim = row[0]
    claim.status = ClaimStatus.approved.value
    claim.decided_by, claim.decided_at = ctx.principal.subject, utcnow()
    await _record_step(ctx, claim, "approve", {"status": ["opened", "approved"]})
    return claim_out(row)


async def reject_claim(ctx: Ctx, claim_id: str, body: ClaimReject) -> ClaimOut:
    row = await _claim_in(ctx, claim_id, ClaimStatus.opened)
    claim = row[0]
    claim.status = ClaimStatus.rejected.value
    claim.decided_by, claim.decided_at = ctx.principal.subject, utcnow()
    claim.reject_reason = body.reason
    await _record_step(ctx, claim, "reject", {"status": ["opened", "rejected"], "reason": body.reason})
    return claim_out(row)


async def pay_claim(ctx: Ctx, claim_id: str) -> ClaimOut:
    row = await _claim_in(ctx, claim_id, ClaimStatus.approved)
    claim, name = row
    claim.status = ClaimStatus.paid.value
    claim.paid_by, claim.paid_at = ctx.principal.subject, utcnow()
    await _record_step(ctx, claim, "pay", {"status": ["approved", "paid"], "amount_fen": claim.amount_fen})
    payload = InsuranceClaimPaidV1(
        claim_id=claim.id, policy_id=claim.policy_id, person_id=claim.insured_id, household_id=claim.household_id,
        county_code=claim.county_code, kind=claim.kind, amount_fen=claim.amount_fen,
        summary=f"{name} 专属保险{CLAIM_LABELS[claim.kind]}理赔已赔付 {yuan(claim.amount_fen)}元",
    )  # fmt: skip
    await relief_events.emit(ctx.session, "insurance.claim_paid", payload)
    return claim_out(row)


# --- reading claims -------------------------------------------------------------------------------------------------


async def get_claim(ctx: Ctx, claim_id: str) -> ClaimOut:
    row = await repository.get_claim(ctx.session, claim_id, _claim_scope(ctx.principal))
    if row is None:
        raise ClaimNotFound()
    return claim_out(row)


async def list_claims(
    ctx: Ctx,
    page: PageParams,
    *,
    status: ClaimStatus | None,
    kind: ClaimKind | None,
    policy_id: str | None,
    insured_kind: InsuredKind | None,
    household_id: str | None,
) -> Page[ClaimOut]:
    rows = await repository.list_claims(
        ctx.session,
        scope=_claim_scope(ctx.principal),
        status=status.value if status else None,
        kind=kind.value if kind else None,
        policy_id=policy_id,
        insured_kind=insured_kind.value if insured_kind else None,
        household_id=household_id,
        updated_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(rows, page.limit, lambda r: {"id": r[0].id})
    return Page[ClaimOut](items=[claim_out(r) for r in kept], next_cursor=cursor)
