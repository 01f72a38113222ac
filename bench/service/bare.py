"""The yardstick: a bare FastAPI + SQLAlchemy app reading the same rows as the registry, from the registry's own
database (BARE_DATABASE_URL, an async URL), with nothing around the SQL: no token, no scope, no audit, no metrics.

One session (one transaction) a request, a Pydantic response model, the same pool size as the services.
    uvicorn --app-dir bench/service bare:app
"""

import os
from datetime import datetime

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

URL = os.environ.get("BARE_DATABASE_URL", "sqlite+aiosqlite:///bare.db")  # the default: for an import check
engine = (
    create_async_engine(URL) if URL.startswith("sqlite") else create_async_engine(URL, pool_size=10, max_overflow=20)
)
sessions = async_sessionmaker(engine, expire_on_commit=False)
regions = sa.table("regions", *(sa.column(name) for name in ("code", "name", "level", "parent_code")))
HOUSEHOLD_COLUMNS = (
    "id", "household_no", "village_code", "township_code", "county_code", "status", "attribute", "dibao",
    "area_class", "address", "head_name", "member_count", "phone_masked", "created_at", "updated_at",
)  # fmt: skip
households = sa.table("households", *(sa.column(name) for name in HOUSEHOLD_COLUMNS))


class Region(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None


class Household(BaseModel):
    id: str
    household_no: str
    village_code: str
    township_code: str
    county_code: str
    status: str
    attribute: str
    dibao: bool
    area_class: str
    address: str | None
    head_name: str
    member_count: int
    phone: str | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    items: list[Household]


app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/regions/{code}", response_model=Region)
async def region(code: str) -> Region:
    async with sessions() as session, session.begin():
        row = (await session.execute(sa.select(regions).where(regions.c.code == code))).first()
    if row is None:
        raise HTTPException(404)
    return Region.model_validate(row._mapping)


@app.get("/households", response_model=Page)
async def page(limit: int = 50, county: str | None = None) -> Page:
    query = sa.select(households).order_by(households.c.id.desc()).limit(limit)
    if county:
        query = query.where(households.c.county_code == county)
    async with sessions() as session, session.begin():
        rows = (await session.execute(query)).all()
    return Page(items=[Household(**row._mapping, phone=row.phone_masked) for row in rows])
