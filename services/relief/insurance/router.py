"""The exclusive insurance (专属保险, measure 23): policies, enrolments, claims and their workflow."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from services.relief.insurance import service
from services.relief.insurance.schemas import (
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
from services.relief.registry import Registry
from shared.context import Ctx, context_for
from shared.idempotency import Idempotency, IdempotencyDep
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/relief", tags=["relief: insurance 专属保险"])
Reader = context_for("insurance:read")
Manager = context_for("insurance:manage")


_ENROLLED = {
    200: {
        "model": EnrolmentResult,
        "description": "已全部参保，未作改变 Everyone was enrolled already; nothing changed",
    }
}


async def _enrolment_answer(idem: Idempotency, ctx: Ctx, enrol) -> JSONResponse:
    """201 when someone was enrolled, 200 when everyone was already (a repeat is harmless)."""
    if (replayed := await idem.replay(ctx.principal)) is not None:
        return replayed
    result: EnrolmentResult = await enrol()
    return await idem.remember(ctx.principal, 201 if result.enrolled else 200, result)


# --- policies -------------------------------------------------------------------------------------------------------


@router.post("/insurance/policies", operation_id="relief_create_policy", response_model=PolicyOut, status_code=201)
async def create_policy(body: PolicyCreate, ctx: Manager, idem: IdempotencyDep):
    """Create an exclusive insurance policy 新建专属保险保单"""
    return await idem.run(ctx.principal, 201, lambda: service.create_policy(ctx, body))


@router.get("/insurance/policies", operation_id="relief_list_policies", response_model=Page[PolicyOut])
async def list_policies(
    ctx: Reader,
    page: Paging,
    insured_group: InsuredGroup | None = None,
    covers_on: Annotated[date | None, Query(description="保障期含此日 Policies in cover on this day")] = None,
) -> Page[PolicyOut]:
    """Policies, newest first 专属保险保单列表"""
    return await service.list_policies(ctx, page, insured_group=insured_group, covers_on=covers_on)


@router.get("/insurance/policies/{policy_id}", operation_id="relief_get_policy", response_model=PolicyOut)
async def get_policy(policy_id: str, ctx: Reader) -> PolicyOut:
    """A policy 查看专属保险保单"""
    return await service.get_policy(ctx, policy_id)


@router.patch("/insurance/policies/{policy_id}", operation_id="relief_update_policy", response_model=PolicyOut)
async def update_policy(policy_id: str, body: PolicyUpdate, ctx: Manager, idem: IdempotencyDep):
    """Change a policy's name, insurer, benefits or cover (claims opened keep their amount) 修改专属保险保单"""
    return await idem.run(ctx.principal, 200, lambda: service.update_policy(ctx, policy_id, body))


# --- enrolments -----------------------------------------------------------------------------------------------------


@router.post(
    "/insurance/policies/{policy_id}/enrolments/persons",
    operation_id="relief_enrol_persons",
    response_model=EnrolmentResult,
    status_code=201,
    responses=_ENROLLED,
)
async def enrol_persons(
    policy_id: str, body: PersonEnrolmentCreate, ctx: Manager, registry: Registry, idem: IdempotencyDep
):
    """Enrol a registered poor household's members (all, or those chosen); those enrolled already stay 贫困人口参保"""
    return await _enrolment_answer(idem, ctx, lambda: service.enrol_persons(ctx, registry, policy_id, body))


@router.post(
    "/insurance/policies/{policy_id}/enrolments/cadres",
    operation_id="relief_enrol_cadre",
    response_model=EnrolmentResult,
    status_code=201,
    responses=_ENROLLED,
)
async def enrol_cadre(
    policy_id: str, body: CadreEnrolmentCreate, ctx: Manager, registry: Registry, idem: IdempotencyDep
):
    """Enrol a resident cadre or first secretary; enrolled already: 200, unchanged 驻村干部参保"""
    return await _enrolment_answer(idem, ctx, lambda: service.enrol_cadre(ctx, registry, policy_id, body))


@router.get("/insurance/enrolments", operation_id="relief_list_enrolments", response_model=Page[EnrolmentOut])
async def list_enrolments(
    ctx: Reader,
    page: Paging,
    policy_id: str | None = None,
    insured_kind: InsuredKind | None = None,
    insured_id: str | None = None,
    household_id: str | None = None,
) -> Page[EnrolmentOut]:
    """Enrolments in scope, newest first 参保人员列表"""
    return await service.list_enrolments(
        ctx, page, policy_id=policy_id, insured_kind=insured_kind, insured_id=insured_id, household_id=household_id
    )


@router.get("/insurance/enrolments/{enrolment_id}", operation_id="relief_get_enrolment", response_model=EnrolmentOut)
async def get_enrolment(enrolment_id: str, ctx: Reader) -> EnrolmentOut:
    """An enrolment 查看参保记录"""
    return await service.get_enrolment(ctx, enrolment_id)


# --- claims ---------------------------------------------------------------------------------------------------------


@router.post("/insurance/claims", operation_id="relief_open_claim", response_model=ClaimOut, status_code=201)
async def open_claim(body: ClaimCreate, ctx: Manager, idem: IdempotencyDep):
    """Open a claim by hand (cadres, or a person enrolled after their event) 人工理赔立案"""
    return await idem.run(ctx.principal, 201, lambda: service.open_claim(ctx, body))


@router.get("/insurance/claims", operation_id="relief_list_claims", response_model=Page[ClaimOut])
async def list_claims(
    ctx: Reader,
    page: Paging,
    status: ClaimStatus | None = None,
    kind: ClaimKind | None = None,
    policy_id: str | None = None,
    insured_kind: InsuredKind | None = None,
    household_id: str | None = None,
) -> Page[ClaimOut]:
    """Claims in scope, newest first 理赔列表"""
    return await service.list_claims(
        ctx, page, status=status, kind=kind, policy_id=policy_id, insured_kind=insured_kind, household_id=household_id
    )


@router.get("/insurance/claims/{claim_id}", operation_id="relief_get_claim", response_model=ClaimOut)
async def get_claim(claim_id: str, ctx: Reader) -> ClaimOut:
    """A claim 查看理赔"""
    return await service.get_claim(ctx, claim_id)


@router.post("/insurance/claims/{claim_id}/approve", operation_id="relief_approve_claim", response_model=ClaimOut)
async def approve_claim(claim_id: str, ctx: Manager, idem: IdempotencyDep):
    """Approve an opened claim 理赔审核通过"""
    return await idem.run(ctx.principal, 200, lambda: service.approve_claim(ctx, claim_id))


@router.post("/insurance/claims/{claim_id}/pay", operation_id="relief_pay_claim", response_model=ClaimOut)
async def pay_claim(claim_id: str, ctx: Manager, idem: IdempotencyDep):
    """Record an approved claim as paid, once (Idempotency-Key) 理赔赔付"""
    return await idem.run(ctx.principal, 200, lambda: service.pay_claim(ctx, claim_id))


@router.post("/insurance/claims/{claim_id}/reject", operation_id="relief_reject_claim", response_model=ClaimOut)
async def reject_claim(claim_id: str, body: ClaimReject, ctx: Manager, idem: IdempotencyDep):
    """Reject an opened claim, with the reason 拒赔"""
    return await idem.run(ctx.principal, 200, lambda: service.reject_claim(ctx, claim_id, body))
