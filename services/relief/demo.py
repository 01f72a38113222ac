"""Demo dibao standards (低保标准) for every unit: the 38 districts and counties and 万盛经开区, rural and urban.

Chongqing's real standards for 2019–2021 could not be verified from a public source, so every amount below is an
example, stored with example=True and a note saying so; civil affairs enters the official figures through the API.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.models import DibaoStandard
from services.relief.standards.units import UNITS
from shared.demo import DemoRequest

# (effective from, rural fen a month, urban fen a month): example values, not official figures.
DEMO_STANDARDS: tuple[tuple[date, int, int], ...] = (
    (date(2019, 7, 1), 49_600, 62_000),
    (date(2020, 7, 1), 52_600, 65_000),
)
DEMO_NOTE = "示例数据，非官方标准 example value, not an official figure"
DEMO_BY = "demo"


@dataclass
class DemoStandards:
    units: int
    standards: int


async def is_empty(session: AsyncSession) -> bool:
    """No dibao standard entered yet (demo values go only into an empty relief database)."""
    return not await session.scalar(sa.select(sa.exists().select_from(DibaoStandard)))


async def load_demo_standards(session: AsyncSession) -> DemoStandards:
    """Example standards for every unit and class, in the caller's transaction; nothing when any standard exists."""
    if not await is_empty(session):
        return DemoStandards(units=0, standards=0)
    rows = [
        DibaoStandard(
            unit_code=unit_code, area_class=area_class, monthly_fen=monthly_fen, effective_from=effective_from,
            example=True, note=DEMO_NOTE, created_by=DEMO_BY,
        )
        for unit_code in UNITS
        for effective_from, rural_fen, urban_fen in DEMO_STANDARDS
        for area_class, monthly_fen in (("rural", rural_fen), ("urban", urban_fen))
    ]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    return DemoStandards(units=len(UNITS), standards=len(rows))


async def load(session: AsyncSession, request: DemoRequest) -> list[str]:
    """Example dibao standards into an empty relief database (shared.demo)."""
    standards = await load_demo_standards(session)
    return (
        [f"demo dibao standards (examples, not official figures): {standards.standards}"] if standards.standards else []
    )
