"""Households (建档立卡户) and their members."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.households import service
from services.registry.households.schemas import HouseholdCreate, HouseholdUpdate, PersonCreate, PersonUpdate
from shared.context import context_for
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging
from shared.schemas.common import IdNumber
from shared.schemas.registry import (
    IDS_PER_READ,
    HouseholdAttribute,
    HouseholdOut,
    HouseholdSummary,
    PersonOut,
    PovertyStatus,
)

router = APIRouter(prefix="/api/v1/registry", tags=["registry: households 贫困户"])
Reader = context_for("registry:read")
Creator = context_for("registry:create")
Updater = context_for("registry:update")


@router.post("/households", operation_id="registry_create_household", response_model=HouseholdOut, status_code=201)
async def create_household(body: HouseholdCreate, ctx: Creator, idem: IdempotencyDep):
    """Register a household with its members 登记贫困户及家庭成员"""
    return await idem.run(ctx.principal, 201, lambda: service.create_household(ctx, body))


@router.get("/households", operation_id="registry_list_households", response_model=Page[HouseholdSummary])
async def list_households(
    ctx: Reader,
    page: Paging,
    region: Annotated[
        str | None, Query(max_length=12, description="行政区划代码（含下级） Region code, with everything below it")
    ] = None,
    status: PovertyStatus | None = None,
    attribute: HouseholdAttribute | None = None,
    dibao: bool | None = None,
) -> Page[HouseholdSummary]:
    """List households in scope, newest first 贫困户列表"""
    return await service.list_households(ctx, page, region=region, status=status, attribute=attribute, dibao=dibao)


@router.get("/household-details", operation_id="registry_get_households", response_model=list[HouseholdOut])
async def get_households(
    ctx: Reader,
    household_id: Annotated[
        list[str],
        Query(
            min_length=1, max_length=IDS_PER_READ, description="户ID（可重复） Household ids, the parameter repeated"
        ),
    ],
) -> list[HouseholdOut]:
    """Several households with their members at once, by id; those not found in scope are left out 批量查看贫困户"""
    return await service.get_households(ctx, list(dict.fromkeys(household_id)))


@router.get("/households/{household_id}", operation_id="registry_get_household", response_model=HouseholdOut)
async def get_household(household_id: str, ctx: Reader) -> HouseholdOut:
    """A household with its members 查看贫困户"""
    return await service.get_household(ctx, household_id)


@router.patch("/households/{household_id}", operation_id="registry_update_household", response_model=HouseholdOut)
async def update_household(household_id: str, body: HouseholdUpdate, ctx: Updater, idem: IdempotencyDep):
    """Change a household's status, attribute, dibao flag, phone or address 修改贫困户信息"""
    return await idem.run(ctx.principal, 200, lambda: service.update_household(ctx, household_id, body))


@router.post(
    "/households/{household_id}/members",
    operation_id="registry_add_member",
    response_model=PersonOut,
    status_code=201,
)
async def add_member(household_id: str, body: PersonCreate, ctx: Creator, idem: IdempotencyDep):
    """Add a member to a household 新增家庭成员"""
    return await idem.run(ctx.principal, 201, lambda: service.add_member(ctx, household_id, body))


@router.get("/persons", operation_id="registry_find_person", response_model=PersonOut)
async def find_person(ctx: Reader, id_number: Annotated[IdNumber, Query()]) -> PersonOut:
    """Find a person by resident ID number 按身份证号查找人员"""
    return await service.find_person(ctx, id_number)


@router.get("/persons/{person_id}", operation_id="registry_get_person", response_model=PersonOut)
async def get_person(person_id: str, ctx: Reader) -> PersonOut:
    """A person 查看人员"""
    return await service.get_person(ctx, person_id)


@router.patch("/persons/{person_id}", operation_id="registry_update_person", response_model=PersonOut)
async def update_person(person_id: str, body: PersonUpdate, ctx: Updater, idem: IdempotencyDep):
    """Change a person's labour capacity, work status, phone or name 修改人员信息"""
    return await idem.run(ctx.principal, 200, lambda: service.update_person(ctx, person_id, body))
