"""Rules of the dibao standards (低保标准): kept by civil affairs, one row per unit, class and effective date.

A standard is never overwritten: a new amount is a new row from its own date, so the amount any period was paid at
can always be read back. Standards are public policy figures: every relief reader sees all of them.
"""

from datetime import date

from sqlalchemy.exc import IntegrityError

from services.relief.models import DibaoStandard
from services.relief.standards import repository
from services.relief.standards.errors import NoStandardInForce, StandardExists, StandardNotFound, UnknownUnit
from services.relief.standards.schemas import StandardCreate, StandardOut
from services.relief.standards.units import UNITS, county_of
from shared.context import Ctx
from shared.pagination import Page, PageParams, after_id, page_of
from shared.schemas.registry import AreaClass


def standard_out(row: DibaoStandard) -> StandardOut:
    return StandardOut(
        id=row.id, unit_code=row.unit_code, unit_name=UNITS.get(row.unit_code, row.unit_code),
        area_class=row.area_class, monthly_fen=row.monthly_fen, effective_from=row.effective_from,
        example=row.example, note=row.note, created_by=row.created_by, created_at=row.created_at,
    )  # fmt: skip


def check_unit(unit_code: str, field: str = "unit_code") -> str:
    if unit_code not in UNITS:
        raise UnknownUnit(field=field)
    return unit_code


async def create_standard(ctx: Ctx, body: StandardCreate) -> StandardOut:
    check_unit(body.unit_code)
    if await repository.exists(ctx.session, body.unit_code, body.area_class, body.effective_from):
        raise StandardExists(field="effective_from")
    row = DibaoStandard(
        unit_code=body.unit_code, area_class=body.area_class.value, monthly_fen=body.monthly_fen,
        effective_from=body.effective_from, example=False, note=body.note, created_by=ctx.principal.subject,
    )  # fmt: skip
    try:
        async with ctx.session.begin_nested():
            await repository.add(ctx.session, row)
    except IntegrityError as exc:  # a concurrent request entered the same date first
        raise StandardExists(field="effective_from") from exc
    await ctx.audit.record(
        ctx.principal, action="dibao_standard.create", entity="dibao_standard", entity_id=row.id,
        county_code=county_of(row.unit_code),
        changes={"unit_code": row.unit_code, "area_class": row.area_class, "monthly_fen": row.monthly_fen,
                 "effective_from": row.effective_from.isoformat()},
    )  # fmt: skip
    return standard_out(row)


async def get_standard(ctx: Ctx, standard_id: str) -> StandardOut:
    row = await repository.get(ctx.session, standard_id)
    if row is None:
        raise StandardNotFound()
    return standard_out(row)


async def standard_in_force(ctx: Ctx, *, unit_code: str, area_class: AreaClass, on: date) -> StandardOut:
    check_unit(unit_code, field="query.unit_code")
    row = await repository.in_force(ctx.session, unit_code, area_class.value, on)
    if row is None:
        raise NoStandardInForce()
    return standard_out(row)


async def list_standards(
    ctx: Ctx,
    page: PageParams,
    *,
    unit_code: str | None,
    area_class: AreaClass | None,
    in_force_on: date | None,
    example: bool | None,
) -> Page[StandardOut]:
    """Newest entered first; `in_force_on` keeps, per unit and class, the standard in force on that day."""
    if unit_code is not None:
        check_unit(unit_code, field="query.unit_code")
    rows = await repository.list_standards(
        ctx.session,
        unit_code=unit_code,
        area_class=area_class.value if area_class else None,
        in_force_on=in_force_on,
        example=example,
        created_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(rows, page.limit, lambda row: {"id": row.id})
    return Page[StandardOut](items=[standard_out(row) for row in kept], next_cursor=cursor)
