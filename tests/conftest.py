"""Test fixtures: real databases (SQLite, or PostgreSQL with FUPIN_TEST_DB=postgres), migrated with Alembic.

Each API test runs inside a transaction that is rolled back; tokens are real, signed by a key made for the run.
"""

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from httpx import ASGITransport
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.auth import TokenVerifier
from shared.migrations import upgrade_async
from shared.pii import PiiCipher
from tests.support.callers import AUDIENCE, ISSUER, RELIEF_SERVICE, Api, Caller, StaticToken
from tests.support.database import BACKEND, POSTGRES_URL, REQUIRE_POSTGRES


def pytest_report_header(config: pytest.Config) -> str:
    return f"fupin test database: {BACKEND}" + (f" ({POSTGRES_URL})" if BACKEND == "postgres" else "")


def _admin_dsn() -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _postgres_reachable() -> str | None:
    if not POSTGRES_URL:
        return "FUPIN_TEST_POSTGRES_URL is not set"
    try:
        conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}"
    await conn.close()
    return None


class Databases:
    """Creates throw-away databases for the session and drops them at its end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.created: list[str] = []

    async def create(self, name: str) -> str:
        if BACKEND == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        db_name = f"fupin_test_{name}_{os.getpid()}_{secrets.token_hex(3)}"
        conn = await asyncpg.connect(_admin_dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{db_name}"')
        finally:
            await conn.close()
        self.created.append(db_name)
        base = sa.engine.make_url(POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://"))
        return base.set(database=db_name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self.created:
            return
        conn = await asyncpg.connect(_admin_dsn())
        try:
            for db_name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    if BACKEND == "postgres":
        problem = await _postgres_reachable()
        if problem:
            if REQUIRE_POSTGRES:
                pytest.exit(f"FUPIN_REQUIRE_POSTGRES=1: {problem}", returncode=1)
            pytest.skip(problem)
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    await dbs.drop_all()


@pytest.fixture(scope="session", autouse=True)
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys and files a service writes at run time go to a temporary folder, never the checkout's var/."""
    path = tmp_path_factory.mktemp("var")
    os.environ["FUPIN_VAR_DIR"] = str(path)
    from shared.settings import common_settings

    common_settings.cache_clear()
    return path


# --- tokens -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def signing_key():
    from services.gateway.keys import SigningKey

    return SigningKey.generate()


@pytest.fixture(scope="session")
def issuer(signing_key):
    from services.gateway.tokens import TokenIssuer

    return TokenIssuer(signing_key, issuer=ISSUER, audience=AUDIENCE, ttl_s=900)


@pytest.fixture(scope="session")
def verifier(signing_key) -> TokenVerifier:
    return TokenVerifier("", ISSUER, AUDIENCE, jwks=signing_key.jwks())


@pytest.fixture(scope="session")
def token_for(issuer) -> Callable[[Caller], str]:
    def make(caller: Caller) -> str:
        return issuer.access_token(
            subject=caller.subject,
            kind=caller.kind,
            roles=list(caller.roles),
            regions=list(caller.regions),
            name=caller.subject,
        )

    return make


# --- the registry ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def registry_app(databases: Databases, verifier: TokenVerifier):
    from services.registry.app import create_app

    url = await databases.create("registry")
    await upgrade_async("registry", url)
    # In-process tests hold one transaction open and roll it back; the dispatcher is tested on its own.
    os.environ["REGISTRY_EVENTS_DISPATCH"] = "false"
    os.environ["REGISTRY_IMPORT_SWEEP_S"] = "0"  # the sweep is tested on its own
    os.environ["REGISTRY_FIVE_ONES_BUILD_S"] = "0"  # tests share one connection; built when asked
    from services.registry.settings import registry_settings

    registry_settings.cache_clear()
    app = create_app(
        database_url=url, verifier=verifier, cipher=PiiCipher(secrets.token_bytes(32), secrets.token_bytes(32))
    )
    async with app.router.lifespan_context(app):
        yield app


async def _in_rolled_back_transaction(app) -> AsyncIterator[None]:
    """Every session of the app joins one outer transaction, rolled back after the test."""
    async with app.state.db.engine.connect() as connection:
        transaction = await connection.begin()
        app.state.session_factory = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield
        finally:
            app.state.session_factory = None
            await transaction.rollback()


@pytest.fixture
async def registry(registry_app, token_for) -> AsyncIterator[Api]:
    async for _ in _in_rolled_back_transaction(registry_app):
        api = Api(registry_app, token_for)
        yield api
        await api.http.aclose()


# --- relief -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def relief_app(databases: Databases, verifier: TokenVerifier, registry_app, token_for):
    """Relief, calling the in-process registry (through its ASGI app) with the relief service's own token."""
    from services.relief.app import create_app
    from services.relief.settings import relief_settings
    from shared.clients import RegistryClient

    url = await databases.create("relief")
    await upgrade_async("relief", url)
    os.environ["RELIEF_EVENTS_DISPATCH"] = "false"
    relief_settings.cache_clear()
    registry = RegistryClient(
        "http://registry", transport=ASGITransport(registry_app), credentials=StaticToken(token_for(RELIEF_SERVICE))
    )
    app = create_app(
        database_url=url,
        verifier=verifier,
        cipher=registry_app.state.cipher,  # one PII key set, as in a deployment
        registry=registry,
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def relief(relief_app, registry, token_for) -> AsyncIterator[Api]:
    """Relief in a rolled-back transaction; the registry it calls is in one too (the `registry` fixture)."""
    async for _ in _in_rolled_back_transaction(relief_app):
        api = Api(relief_app, token_for)
        yield api
        await api.http.aclose()


# --- the gateway ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def gateway_app(databases: Databases, signing_key, var_dir: Path):
    """The gateway, signing with the run's key, so `token_for` tokens are its own."""
    from services.gateway.app import create_app
    from services.gateway.settings import gateway_settings

    key_file = var_dir / "test_signing_key.pem"
    key_file.write_bytes(signing_key.to_pem())
    os.environ["GATEWAY_SIGNING_KEY_FILE"] = str(key_file)
    gateway_settings.cache_clear()
    url = await databases.create("gateway")
    await upgrade_async("gateway", url)
    app = create_app(database_url=url, upstreams={})
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def gateway(gateway_app, token_for) -> AsyncIterator[Api]:
    async for _ in _in_rolled_back_transaction(gateway_app):
        api = Api(gateway_app, token_for)
        yield api
        await api.http.aclose()
