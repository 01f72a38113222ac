"""The gateway: the only public entry. `uvicorn --factory services.gateway.app:create_app --port 8000`.

Login and tokens, the JWKS, one merged OpenAPI document with Swagger UI, and forwarding of
`/api/v1/<service>/...` to the services.
"""

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

from services.gateway.auth.router import router as auth_router
from services.gateway.errors import UnknownService
from services.gateway.keys import load_or_create
from services.gateway.models import plumbing
from services.gateway.openapi import MergedOpenAPI
from services.gateway.proxy import Forwarder
from services.gateway.settings import gateway_settings
from services.gateway.tokens import TokenIssuer
from shared.app import create_service_app
from shared.audit import audit_router
from shared.auth import TokenVerifier
from shared.clients import ServiceClient
from shared.errors import domain_problem
from shared.observability import RequestIdMiddleware
from shared.settings import common_settings

DESCRIPTION = """扶贫 fupin：重庆市新冠肺炎疫情防控期间贫困人口精准帮扶系统（渝扶组办发〔2020〕7号）。
Targeted assistance for registered poor people during the COVID-19 epidemic, after the Chongqing notice
渝扶组办发〔2020〕7号. Log in with **Authorize** (OAuth2 password flow; demo users in the README)."""


class Gateway:
    """The gateway's outermost ASGI app.

    `/api/v1/<service>/...` goes straight to the forwarder, wrapped only in the request-id, metrics and log
    middleware: the gateway's own routing, validation and error layers are not on the forwarding path (each costs
    time on every forwarded request, and the service does that work itself). Everything else, and the lifespan,
    goes to the gateway's own FastAPI app, whose attributes this object also answers for.
    """

    def __init__(self, api: FastAPI):
        self.api = api
        self.forwarding = RequestIdMiddleware(self._forward, metrics=api.state.metrics)

    def __getattr__(self, name: str) -> object:
        return getattr(self.api, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v1/"):
            name = scope["path"].split("/", 4)[3]
            if name != "gateway":
                scope["app"] = self.api
                await self.forwarding(scope, receive, send)
                return
        await self.api(scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].split("/", 4)[3]
        forwarder: Forwarder = self.api.state.forwarder
        if name in forwarder.upstreams:
            await forwarder(scope, receive, send, name)
        else:
            await domain_problem(Request(scope), UnknownService(service=name))(scope, receive, send)


def create_app(*, database_url: str | None = None, upstreams: dict[str, str] | None = None) -> Gateway:
    settings = gateway_settings()
    common = common_settings()
    upstream_urls = upstreams if upstreams is not None else settings.upstream_urls()
    signing_key = load_or_create(settings.signing_key_file or common.var_dir / "keys" / "gateway_ed25519.pem")
    verifier = TokenVerifier("", common.token_issuer, common.token_audience, jwks=signing_key.jwks())

    async def start(app: FastAPI) -> None:
        app.state.signing_key = signing_key
        app.state.issuer = TokenIssuer(
            signing_key,
            issuer=common.token_issuer,
            audience=common.token_audience,
            ttl_s=settings.access_token_ttl_s,
        )
        app.state.forwarder = Forwarder(
            upstream_urls,
            timeout_s=settings.upstream_timeout_s,
            connect_timeout_s=settings.upstream_connect_timeout_s,
        )
        app.state.service_clients = {
            name: ServiceClient(url, timeout_s=3.0, retries=0) for name, url in upstream_urls.items()
        }
        app.state.merged_openapi = MergedOpenAPI(app.state.service_clients)

    async def stop(app: FastAPI) -> None:
        app.state.forwarder.close()
        for client in app.state.service_clients.values():
            await client.aclose()

    app = create_service_app(
        name="gateway",
        title="fupin 扶贫 API",
        description=DESCRIPTION,
        database_url=database_url or settings.database_url_or_default("gateway"),
        tables=plumbing,
        routers=[auth_router, audit_router("/api/v1/gateway", "gateway: audit 审计")],
        verifier=verifier,
        on_startup=[start],
        on_shutdown=[stop],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        swagger_ui_init_oauth={"clientId": "swagger-ui", "usePkceWithAuthorizationCodeGrant": False},
    )

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(await request.app.state.merged_openapi.document(app.openapi()))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="fupin 扶贫 API",
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/", include_in_schema=False)
    async def root() -> dict[str, str]:
        return {"service": "fupin gateway", "docs": "/docs", "openapi": "/openapi.json"}

    return Gateway(app)
