"""Health events, key monitoring, the care-overdue watch, case flags, 返贫 and dibao referrals."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/registry", tags=["registry: monitoring 疫情监测"])
