"""Demo logins (password `demo`) and the demo API client. Listed in the README; for demo data only."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.service import create_client, create_user
from services.gateway.models import ApiClient, User
from shared.demo import DemoRequest
from shared.regions import WANSHENG_TOWNSHIPS

DEMO_PASSWORD = "demo"
DEMO_USERS: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("admin", "重庆市扶贫办（市级管理员）", ["city_admin"], ["500000"]),
    ("wanzhou", "万州区扶贫办", ["county_officer"], ["500101"]),
    ("fengdu", "丰都县扶贫办", ["county_officer"], ["500230"]),
    ("wansheng", "万盛经开区扶贫办", ["county_officer"], sorted(WANSHENG_TOWNSHIPS)),
    ("cadre", "虎威镇驻村第一书记", ["village_cadre"], ["500230101201"]),
    ("civil", "市民政局", ["civil_affairs"], ["500000"]),
    ("civil2", "市民政局（复核）", ["civil_affairs"], ["500000"]),
    ("hr", "市人力社保局", ["human_resources"], ["500000"]),
    ("bank", "农商行", ["bank_officer"], ["500000"]),
    ("supplies", "市物资保障组", ["supplies_officer"], ["500000"]),
    ("auditor", "市审计局", ["auditor"], ["500000"]),
)
DEMO_CLIENT = ("dept-demo", "demo-secret", "示例部门系统", ["department_system"], ["500000"])


async def load_demo_logins(session: AsyncSession) -> list[str]:
    """Create the demo users and client that do not exist yet; returns the names created."""
    created = []
    existing = set((await session.scalars(sa.select(User.username))).all())
    for username, display_name, roles, regions in DEMO_USERS:
        if username not in existing:
            await create_user(
                session,
                username=username,
                password=DEMO_PASSWORD,
                display_name=display_name,
                roles=roles,
                regions=regions,
            )
            created.append(username)
    client_id, secret, display_name, roles, regions = DEMO_CLIENT
    if not await session.scalar(sa.select(sa.exists().where(ApiClient.client_id == client_id))):
        await create_client(
            session, client_id=client_id, secret=secret, display_name=display_name, roles=roles, regions=regions
        )
        created.append(client_id)
    return created


async def load(session: AsyncSession, request: DemoRequest) -> list[str]:
    """The demo logins that do not exist yet (shared.demo)."""
    created = await load_demo_logins(session)
    return [f"demo logins created: {', '.join(created)}"] if created else []
