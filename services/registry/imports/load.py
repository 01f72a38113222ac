"""Writing validated households and their members: COPY on PostgreSQL, batched executemany inserts on SQLite.

Rows are prepared as plain tuples in the tables' column order (ID numbers and phones as the validation sealed them,
masked), a chunk at a time, so that a chunk can be prepared in a worker thread while the previous one is written.
"""

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.imports.validate import HouseholdDraft, Member
from services.registry.models import Household, Person
from shared.bulk import INTEGRITY_ERRORS, bulk_insert
from shared.ids import id_run
from shared.pii import birth_date_of, gender_of, mask_id_number, mask_phone

# About 5,000 persons: a households chunk and its persons are written together (persons refer to households).
HOUSEHOLDS_PER_CHUNK = 1600

HOUSEHOLD_COLUMNS = (
    "id", "household_no", "village_code", "township_code", "county_code", "status", "attribute", "dibao",
    "area_class", "address", "head_name", "member_count", "phone_enc", "phone_masked", "created_at", "updated_at",
)  # fmt: skip
PERSON_COLUMNS = (
    "id", "household_id", "county_code", "township_code", "name", "id_number_enc", "id_number_hash",
    "id_number_masked", "gender", "birth_date", "relation", "labour_capacity", "migrant_status", "phone_enc",
    "phone_masked", "health_status", "key_monitoring", "created_at", "updated_at",
)  # fmt: skip


Records = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def prepare(households: Sequence[HouseholdDraft], now: datetime) -> Records:
    """The household and person rows of `households`, as tuples in HOUSEHOLD_COLUMNS and PERSON_COLUMNS order
    (ID numbers and phones come sealed from the validation)."""
    household_ids = id_run(len(households))
    person_ids = iter(id_run(sum(len(h.members) for h in households)))
    household_rows = []
    person_rows = []
    for household, household_id in zip(households, household_ids, strict=True):
        village = household.fields["village_code"][2]
        township = village[:9]
        county = household.county_code
        head = household.head
        assert head is not None  # a household without a head never validates
        head_phone = _phone(head)
        household_rows.append(
            (
                household_id, household.household_no, village, township, county, household.value("status"),
                household.value("attribute"), household.value("dibao", False), household.value("area_class", "rural"),
                household.value("address"), head.name, len(household.members), *head_phone, now, now,
            )
        )  # fmt: skip
        for member in household.members:
            number = member.id_number
            phone_enc, phone_masked = head_phone if member is head else _phone(member)
            person_rows.append(
                (
                    next(person_ids), household_id, county, township, member.name, member.id_enc, member.id_hash,
                    mask_id_number(number), gender_of(number), birth_date_of(number), member.relation,
                    member.labour_capacity, member.migrant_status, phone_enc, phone_masked, "none", False, now, now,
                )
            )  # fmt: skip
    return household_rows, person_rows


def _phone(member: Member) -> tuple[str | None, str | None]:
    if member.phone is None:
        return None, None
    return member.phone_enc, mask_phone(member.phone)


class RowsConflict(Exception):
    """A row broke a unique or foreign key constraint: someone registered the same number meanwhile."""


async def write(session: AsyncSession, records: Records) -> float:
    """Write one chunk inside the session's transaction; returns the seconds it took."""
    started = time.perf_counter()
    household_rows, person_rows = records
    try:
        await bulk_insert(session, Household.__table__, HOUSEHOLD_COLUMNS, household_rows)
        await bulk_insert(session, Person.__table__, PERSON_COLUMNS, person_rows)
    except INTEGRITY_ERRORS as exc:
        raise RowsConflict(str(exc)) from exc
    return time.perf_counter() - started
