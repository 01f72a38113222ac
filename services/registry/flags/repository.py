"""SQL for the case flags (有疫情的村社、乡镇)."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import CaseFlag


async def no_team_entry(session: AsyncSession, village_code: str) -> bool:
    """True while the village, or its township, is flagged as having cases (measure 22: teams do not enter)."""
    query = sa.select(sa.exists().where(CaseFlag.region_code.in_([village_code, village_code[:9]]), CaseFlag.flagged))
    return bool(await session.scalar(query))
