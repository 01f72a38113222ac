"""The registry service (monitoring registry): `uvicorn --factory services.registry.app:create_app --port 8001`."""

from fastapi import FastAPI

from services.registry.cadres.router import router as cadres_router
from services.registry.households.router import router as households_router
from services.registry.models import plumbing
from services.registry.regions.router import router as regions_router
from services.registry.settings import registry_settings
from shared.app import create_service_app
from shared.audit import audit_router
from shared.auth import TokenVerifier
from shared.pii import PiiCipher

DESCRIPTION = """监测登记服务：行政区划、建档立卡贫困户与人员、帮扶干部与结对。
Monitoring registry: regions, registered poor households and persons, assistance cadres and their pairings.
Resident ID numbers and phones are masked unless the caller holds `pii:read`; every unmasked read is audited."""


def create_app(
    *, database_url: str | None = None, verifier: TokenVerifier | None = None, cipher: PiiCipher | None = None
) -> FastAPI:
    settings = registry_settings()
    return create_service_app(
        name="registry",
        title="fupin registry 监测登记",
        description=DESCRIPTION,
        database_url=database_url or settings.database_url_or_default("registry"),
        tables=plumbing,
        routers=[
            regions_router,
            households_router,
            cadres_router,
            audit_router("/api/v1/registry", "registry: audit 审计"),
        ],
        verifier=verifier,
        cipher=cipher,
    )
