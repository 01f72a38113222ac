"""The relief service (救助): `uvicorn --factory services.relief.app:create_app --port 8002`."""

from fastapi import FastAPI

from services.catalog import entry, internal_subscriptions
from services.relief.batches.router import router as batches_router
from services.relief.cases.router import router as cases_router
from services.relief.inbox import router as inbox_router
from services.relief.insurance.router import router as insurance_router
from services.relief.models import events, plumbing
from services.relief.parameters import router as parameters_router
from services.relief.reconcile import repository as reconciliations
from services.relief.reconcile import service as reconcile
from services.relief.reconcile.router import router as reconcile_router
from services.relief.settings import relief_settings
from services.relief.standards.router import router as standards_router
from shared.app import create_service_app, task_hooks
from shared.audit import audit_router
from shared.auth import TokenVerifier
from shared.clients import ClientCredentials, RegistryClient
from shared.events import dispatcher_hooks, events_router
from shared.pii import PiiCipher
from shared.settings import common_settings

DESCRIPTION = """救助服务：低保标准、新冠肺炎患者临时救助（按低保标准2倍按月发放）、发放批次（制单与复核分离）、银行代发文件、专属保险。
Relief: dibao standards, temporary relief for poor patients at twice the dibao standard a month, payment batches
(maker ≠ checker), bank files and their results, and the exclusive insurance of measure 23.
Payee ID numbers and bank accounts are masked unless the caller holds `pii:read`; every unmasked read is audited."""


def create_app(
    *,
    database_url: str | None = None,
    verifier: TokenVerifier | None = None,
    cipher: PiiCipher | None = None,
    registry: RegistryClient | None = None,
) -> FastAPI:
    """`registry`: the registry client to use (tests); by default one to the registry's own address, with the
    service's own token from the gateway."""
    settings = relief_settings()
    start_dispatcher, stop_dispatcher = dispatcher_hooks(events, settings, internal_subscriptions("relief"))

    async def open_clients(app: FastAPI) -> None:
        if registry is not None:
            app.state.registry = registry
            return
        common = common_settings()
        client_id, secret = settings.own_credentials("relief")
        credentials = ClientCredentials(f"{common.gateway_url.rstrip('/')}/auth/token", client_id, secret)
        url = settings.registry_url or common.service_url("registry", entry("registry").port)
        app.state.registry = RegistryClient(url, credentials=credentials)

    async def close_clients(app: FastAPI) -> None:
        await app.state.registry.aclose()

    async def show_reconciliations(app: FastAPI) -> None:
        app.state.reconciliation_gauges = reconcile.ReconciliationGauges(app.state.metrics.registry)
        async with app.state.db.sessions() as session:
            last = await reconciliations.last_finished(session)
        if last is not None:
            app.state.reconciliation_gauges.show(last)

    start_reconciling, stop_reconciling = task_hooks("reconciliation", reconcile.scheduled(settings.reconcile_s))

    return create_service_app(
        name="relief",
        title="fupin relief 救助",
        description=DESCRIPTION,
        database_url=database_url or settings.database_url_or_default("relief"),
        tables=plumbing,
        routers=[
            standards_router,
            parameters_router,
            cases_router,
            reconcile_router,
            batches_router,
            insurance_router,
            inbox_router,
            events_router("/api/v1/relief", "relief: events 事件订阅", events),
            audit_router("/api/v1/relief", "relief: audit 审计"),
        ],
        verifier=verifier,
        cipher=cipher,
        on_startup=[open_clients, start_dispatcher, show_reconciliations, start_reconciling],
        on_shutdown=[stop_reconciling, stop_dispatcher, close_clients],
    )
