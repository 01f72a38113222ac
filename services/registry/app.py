"""The registry service (monitoring registry): `uvicorn --factory services.registry.app:create_app --port 8001`."""

from fastapi import FastAPI

from services.catalog import internal_subscriptions
from services.registry.cadres.router import router as cadres_router
from services.registry.contacts.router import router as contacts_router
from services.registry.fiveones import upkeep
from services.registry.fiveones.router import router as fiveones_router
from services.registry.flags.router import router as flags_router
from services.registry.health.router import router as health_router
from services.registry.households.router import router as households_router
from services.registry.imports.router import router as imports_router
from services.registry.imports.runner import sweeper_hooks
from services.registry.inbox import router as inbox_router
from services.registry.ledger.router import router as ledger_router
from services.registry.models import events, plumbing
from services.registry.parameters.router import router as parameters_router
from services.registry.regions.router import router as regions_router
from services.registry.settings import registry_settings
from shared.app import create_service_app
from shared.audit import audit_router
from shared.auth import TokenVerifier
from shared.events import dispatcher_hooks, events_router
from shared.pii import PiiCipher

DESCRIPTION = """监测登记服务：行政区划、建档立卡贫困户与人员、帮扶干部与结对、疫情监测、"五个一"、台账、事件。
Monitoring registry: regions, registered poor households and persons, assistance cadres and their pairings,
epidemic monitoring, the five ones, the household ledger, and the events other services and departments subscribe to.
Resident ID numbers and phones are masked unless the caller holds `pii:read`; every unmasked read is audited."""


def create_app(
    *, database_url: str | None = None, verifier: TokenVerifier | None = None, cipher: PiiCipher | None = None
) -> FastAPI:
    settings = registry_settings()
    start_dispatcher, stop_dispatcher = dispatcher_hooks(events, settings, internal_subscriptions("registry"))
    start_sweeper, stop_sweeper = sweeper_hooks(settings.import_sweep_s)
    start_build, stop_build = upkeep.build_hooks(settings.five_ones_build_s)
    return create_service_app(
        name="registry",
        title="fupin registry 监测登记",
        description=DESCRIPTION,
        database_url=database_url or settings.database_url_or_default("registry"),
        tables=plumbing,
        routers=[
            regions_router,
            households_router,
            imports_router,
            cadres_router,
            health_router,
            flags_router,
            contacts_router,
            fiveones_router,
            ledger_router,
            inbox_router,
            parameters_router,
            events_router("/api/v1/registry", "registry: events 事件订阅", events),
            audit_router("/api/v1/registry", "registry: audit 审计"),
        ],
        verifier=verifier,
        cipher=cipher,
        on_startup=[start_dispatcher, start_sweeper, start_build],
        on_shutdown=[stop_build, stop_sweeper, stop_dispatcher],
    )
