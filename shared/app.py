"""The one way a service app is made: lifespan with its database and token verifier, errors, observability."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from shared.auth import TokenVerifier
from shared.db import Database, PlumbingTables
from shared.errors import install_error_handlers
from shared.observability import configure_logging, install_observability
from shared.pii import PiiCipher, load_cipher
from shared.settings import common_settings

StartupHook = Callable[[FastAPI], Awaitable[None]]


def task_hooks(
    attribute: str, work: Callable[[FastAPI], Coroutine[Any, Any, None]] | None
) -> tuple[StartupHook, StartupHook]:
    """Lifespan hooks that run `work(app)` as a task from the start (kept in `app.state.<attribute>`; None and no
    task when `work` is None) and cancel it at the stop."""

    async def start(app: FastAPI) -> None:
        setattr(app.state, attribute, None if work is None else asyncio.create_task(work(app), name=attribute))

    async def stop(app: FastAPI) -> None:
        task = getattr(app.state, attribute, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return start, stop


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    database_url: str,
    tables: PlumbingTables,
    routers: Sequence[APIRouter],
    verifier: TokenVerifier | None = None,
    cipher: PiiCipher | None = None,
    on_startup: Sequence[StartupHook] = (),
    on_shutdown: Sequence[StartupHook] = (),
    **fastapi_kwargs: Any,
) -> FastAPI:
    common = common_settings()
    configure_logging(name, common.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(database_url, tables)
        app.state.cipher = cipher or load_cipher(common.pii_encryption_key, common.pii_index_key, common.var_dir)
        app.state.verifier = verifier or TokenVerifier(
            common.effective_jwks_url, common.token_issuer, common.token_audience
        )
        for hook in on_startup:
            await hook(app)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await app.state.db.dispose()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan, **fastapi_kwargs)
    app.state.service_name = name
    install_error_handlers(app)

    async def database_ready() -> None:
        await app.state.db.ping()

    install_observability(app, name, {"database": database_ready})
    for router in routers:
        app.include_router(router)
    return app
