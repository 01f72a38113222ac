"""SQL for households and persons. Every read takes the caller's scope clause."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Household, Person


async def get_household(session: AsyncSession, household_id: str, scope: sa.ColumnElement[bool]) -> Household | None:
    return await session.scalar(sa.select(Household).where(Household.id == household_id, scope))


async def household_no_taken(session: AsyncSession, household_no: str) -> bool:
    return await session.scalar(sa.select(sa.exists().where(Household.household_no == household_no))) or False


async def members_of(session: AsyncSession, household_id: str) -> Sequence[Person]:
    return (
        await session.scalars(sa.select(Person).where(Person.household_id == household_id).order_by(Person.id))
    ).all()


async def get_households(
    session: AsyncSession, household_ids: list[str], scope: sa.ColumnElement[bool]
) -> Sequence[Household]:
    query = sa.select(Household).where(Household.id.in_(household_ids), scope).order_by(Household.id)
    return (await session.scalars(query)).all()


async def members_of_households(session: AsyncSession, household_ids: list[str]) -> Sequence[Person]:
    query = sa.select(Person).where(Person.household_id.in_(household_ids)).order_by(Person.household_id, Person.id)
    return (await session.scalars(query)).all()


async def taken_id_hashes(session: AsyncSession, hashes: list[str]) -> set[str]:
    rows = await session.scalars(sa.select(Person.id_number_hash).where(Person.id_number_hash.in_(hashes)))
    return set(rows.all())


async def list_households(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    region: sa.ColumnElement[bool] | None,
    status: str | None,
    attribute: str | None,
    dibao: bool | None,
    updated_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> Sequence[Household]:
    query = sa.select(Household).where(scope).order_by(Household.id.desc()).limit(limit)
    if region is not None:
        query = query.where(region)
    if status:
        query = query.where(Household.status == status)
    if attribute:
        query = query.where(Household.attribute == attribute)
    if dibao is not None:
        query = query.where(Household.dibao.is_(dibao))
    if updated_since:
        query = query.where(Household.updated_at > updated_since)
    if before_id:
        query = query.where(Household.id < before_id)
    return (await session.scalars(query)).all()


async def get_person(session: AsyncSession, person_id: str, scope: sa.ColumnElement[bool]) -> Person | None:
    query = sa.select(Person).join(Household, Household.id == Person.household_id).where(Person.id == person_id, scope)
    return await session.scalar(query)


async def get_persons(session: AsyncSession, person_ids: list[str], scope: sa.ColumnElement[bool]) -> Sequence[Person]:
    query = (
        sa.select(Person)
        .join(Household, Household.id == Person.household_id)
        .where(Person.id.in_(person_ids), scope)
        .order_by(Person.id)
    )
    return (await session.scalars(query)).all()


async def find_person_by_hash(session: AsyncSession, id_hash: str, scope: sa.ColumnElement[bool]) -> Person | None:
    query = (
        sa.select(Person)
        .join(Household, Household.id == Person.household_id)
        .where(Person.id_number_hash == id_hash, scope)
    )
    return await session.scalar(query)


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()
