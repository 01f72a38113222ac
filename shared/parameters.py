"""Configurable policy values with effective dates (a value the notice leaves to the offices is data with an effective date, never a constant).

Each service declares its keys (`ParameterSpec`: a description, the default the notice or the handbook gives, and
the type its values must fit) over its own `parameters` table (columns key, value, effective_from, set_by). The
value in force on a day is the latest one set with an effective date on or before it, else the default.
`parameters_router` gives the routes to read and set them.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.context import Ctx, context_for
from shared.dates import today
from shared.db import forget, memo, utcnow
from shared.errors import domain_error
from shared.ids import uuid7

UnknownParameter = domain_error(
    "UnknownParameter", 404, "parameter_not_found", "未知参数 {key}", "Unknown parameter {key}"
)
InvalidParameterValue = domain_error(
    "InvalidParameterValue", 422, "parameter_value_invalid", "参数 {key} 的取值无效：{reason}",
    "Invalid value for {key}: {reason}",
)  # fmt: skip

PARAMETERS_MEMO = "parameters"  # the values read in a session (shared.db.memo)


class ParameterColumns:
    """A service's `parameters` table, as a declarative mixin: `class Parameter(ParameterColumns, Base)`."""

    __tablename__ = "parameters"
    __table_args__ = (sa.UniqueConstraint("key", "effective_from", name="uq_parameters_key_effective_from"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    key: Mapped[str] = mapped_column(sa.String(50))
    value: Mapped[dict] = mapped_column(sa.JSON)
    effective_from: Mapped[date] = mapped_column(sa.Date)
    set_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class ParameterSpec:
    description: str  # Chinese and English, shown in the API
    default: Any  # in force until a value is set, in its JSON form
    kind: Any  # the type (or Annotated type) a value must fit


class ParameterStore:
    """The keys of one service over its parameters table (an ORM class with key, value, effective_from, set_by)."""

    def __init__(self, model: Any, specs: dict[str, ParameterSpec]):
        self.model = model
        self.specs = specs
        self._adapters = {key: TypeAdapter(spec.kind) for key, spec in specs.items()}

    def spec(self, key: str) -> ParameterSpec:
        if key not in self.specs:
            raise UnknownParameter(key=key)
        return self.specs[key]

    def validated(self, key: str, value: Any) -> Any:
        """The value in its stored (JSON) form; 422 naming `value` when it does not fit the key's type."""
        self.spec(key)
        adapter = self._adapters[key]
        try:
            checked = adapter.validate_python(value)
        except ValidationError as exc:
            raise InvalidParameterValue(field="value", key=key, reason=exc.errors()[0]["msg"]) from exc
        return adapter.dump_python(checked, mode="json")

    async def value(self, session: AsyncSession, key: str, on: date) -> Any:
        """The value of `key` in force on `on`: the latest set with effective_from <= on, else the default."""
        spec = self.spec(key)
        query = (
            sa.select(self.model.value)
            .where(self.model.key == key, self.model.effective_from <= on)
            .order_by(self.model.effective_from.desc())
            .limit(1)
        )
        stored = await memo(session, (PARAMETERS_MEMO, self.model, key, on), lambda: session.scalar(query))
        return spec.default if stored is None else stored["value"]

    async def set(self, session: AsyncSession, *, key: str, value: Any, effective_from: date, by: str) -> Any:
        """Set `key` from `effective_from` on; a value set again for the same date replaces that date's value."""
        checked = self.validated(key, value)
        model = self.model
        existing = await session.scalar(
            sa.select(model).where(model.key == key, model.effective_from == effective_from)
        )
        if existing is not None:
            existing.value = {"value": checked}
            existing.set_by = by
            row = existing
        else:
            row = model(key=key, value={"value": checked}, effective_from=effective_from, set_by=by)
            session.add(row)
        await session.flush()
        forget(session, PARAMETERS_MEMO)
        return row

    async def history(self, session: AsyncSession, key: str) -> list[Any]:
        self.spec(key)
        model = self.model
        rows = await session.scalars(sa.select(model).where(model.key == key).order_by(model.effective_from))
        return list(rows.all())


class ParameterValue(BaseModel):
    effective_from: date = Field(description="生效日期 In force from this date")
    value: Any
    set_by: str | None = None


class ParameterOut(BaseModel):
    key: str
    description: str
    default: Any = Field(description="未设置时的取值 The value in force before any is set")
    current: Any = Field(description="今日生效的取值（北京时间） The value in force today (Asia/Shanghai)")
    history: list[ParameterValue] = Field(description="已设置的取值，按生效日期 The values set, by effective date")


class ParameterSet(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"value": 3, "effective_from": "2020-02-09"}]}
    )

    value: Any = Field(description="取值 The value (its type depends on the key)")
    effective_from: date = Field(description="生效日期 In force from this date")


def parameters_router(
    *, service: str, prefix: str, tag: str, store: ParameterStore, read_permission: str, manage_permission: str
) -> APIRouter:
    """`GET {prefix}`, `GET {prefix}/{key}` and `PUT {prefix}/{key}` over a service's keys (audited on set)."""
    router = APIRouter(prefix=prefix, tags=[tag])
    Reader = context_for(read_permission)
    Manager = context_for(manage_permission)

    async def out(ctx: Ctx, key: str) -> ParameterOut:
        spec = store.spec(key)
        rows = await store.history(ctx.session, key)
        return ParameterOut(
            key=key, description=spec.description, default=spec.default,
            current=await store.value(ctx.session, key, today()),
            history=[ParameterValue(effective_from=r.effective_from, value=r.value["value"], set_by=r.set_by)
                     for r in rows],
        )  # fmt: skip

    @router.get("", operation_id=f"{service}_list_parameters", response_model=list[ParameterOut])
    async def list_parameters(ctx: Reader) -> list[ParameterOut]:
        """Every configurable value, its default, the value in force and its history 参数列表"""
        return [await out(ctx, key) for key in store.specs]

    @router.get("/{key}", operation_id=f"{service}_get_parameter", response_model=ParameterOut)
    async def get_parameter(key: str, ctx: Reader) -> ParameterOut:
        """One configurable value 查看参数"""
        return await out(ctx, key)

    @router.put("/{key}", operation_id=f"{service}_set_parameter", response_model=ParameterOut)
    async def set_parameter(key: str, body: ParameterSet, ctx: Manager) -> ParameterOut:
        """Set a value from a date on (the history is kept) 设置参数"""
        row = await store.set(
            ctx.session, key=key, value=body.value, effective_from=body.effective_from, by=ctx.principal.subject
        )
        await ctx.audit.record(
            ctx.principal, action="parameter.set", entity="parameter", entity_id=key,
            changes={"value": row.value["value"], "effective_from": body.effective_from.isoformat()},
        )  # fmt: skip
        return await out(ctx, key)

    return router
