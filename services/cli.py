"""`fupin`: run the system, migrate, load demo data, create users. Behind `make run` and `make test`."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from services.catalog import ALL, SERVICES, ServiceEntry, load
from services.registry.imports.schemas import ImportMode
from shared.db import Database
from shared.demo import DemoRequest
from shared.migrations import at_head, upgrade
from shared.migrations import revision as make_revision
from shared.settings import ServiceSettings, common_settings

app = typer.Typer(help="fupin 扶贫: Chongqing COVID-19 targeted poverty assistance backend.", no_args_is_help=True)

DEFAULT_DEMO_HOUSEHOLDS = 600


def database_url(service: str) -> str:
    return ServiceSettings(_env_prefix=f"{service.upper()}_").database_url_or_default(service)


def _pii_cipher():
    from shared.pii import load_cipher

    common = common_settings()
    return load_cipher(common.pii_encryption_key, common.pii_index_key, common.var_dir)


@app.command()
def migrate(service: Annotated[str | None, typer.Option(help="Only this service")] = None) -> None:
    """Run every service's Alembic migrations up to head."""
    for entry in ALL:
        if service in (None, entry.name):
            upgrade(entry.name, database_url(entry.name))
            typer.echo(f"migrated {entry.name}")


@app.command()
def revision(service: str, message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Autogenerate a migration for a service from its models (developers)."""
    make_revision(service, database_url(service), message)


async def _demo(households: int, seed: int, only_if_empty: bool) -> None:
    """Every service in the catalog fills its own database with its demo data (its `demo.py`, shared.demo)."""
    request = DemoRequest(households=households, seed=seed, only_if_empty=only_if_empty, cipher=_pii_cipher())
    for entry in ALL:
        database = Database(database_url(entry.name), load(entry.tables))
        try:
            if not await at_head(entry.name, database.engine):
                typer.echo(f"skipped {entry.name}: its database is not migrated (fupin migrate --service {entry.name})")
                continue
            async with database.sessions.begin() as session:
                for line in await load(entry.demo)(session, request):
                    typer.echo(line)
        finally:
            await database.dispose()


async def _prepare() -> None:
    """What each service of the catalog does before anything starts (its setup.py, when it `prepares`)."""
    for entry in ALL:
        if entry.prepares:
            for line in await load(entry.setup)():
                typer.echo(line)


@app.command("demo-data")
def demo_data(
    households: Annotated[int, typer.Option(min=1, help="How many households")] = DEFAULT_DEMO_HOUSEHOLDS,
    seed: Annotated[int, typer.Option(help="The same seed gives the same data")] = 2020,
) -> None:
    """Load believable demo data (households, cadres, pairings) and the demo logins."""
    asyncio.run(_demo(households, seed, only_if_empty=False))


async def _create_login(kind: str, name: str, secret: str, display_name: str, roles: list[str], regions: list[str]):
    from services.gateway.auth.service import create_client, create_user
    from services.gateway.models import plumbing as gateway_tables

    gateway = Database(database_url("gateway"), gateway_tables)
    try:
        async with gateway.sessions.begin() as session:
            if kind == "user":
                await create_user(
                    session, username=name, password=secret, display_name=display_name, roles=roles, regions=regions
                )
            else:
                await create_client(
                    session, client_id=name, secret=secret, display_name=display_name, roles=roles, regions=regions
                )
    finally:
        await gateway.dispose()


@app.command("create-user")
def create_user_command(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="A role; repeat for several")],
    region: Annotated[list[str], typer.Option("--region", help="A region code in scope; repeat for several")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a login (password hashed with argon2)."""
    asyncio.run(_create_login("user", username, password, name or username, role, region))
    typer.echo(f"user {username} created")


@app.command("create-client")
def create_client_command(
    client_id: str,
    role: Annotated[list[str], typer.Option("--role")],
    region: Annotated[list[str], typer.Option("--region")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    secret: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create an API client for a department's system (client credentials grant)."""
    asyncio.run(_create_login("client", client_id, secret, name or client_id, role, region))
    typer.echo(f"client {client_id} created")


class _PhaseBars:
    """One progress bar per phase of an import (validating, then importing), fed by the job's progress."""

    LABELS = {"validating": "校验 validating", "importing": "写入 importing"}

    def __init__(self) -> None:
        self.phase = ""
        self.bar = None
        self.shown = 0

    def __call__(self, progress) -> None:
        if progress.status != self.phase:
            self.close()
            self.phase = progress.status
        if self.bar is None and progress.status in self.LABELS and progress.rows_total:
            self.bar = typer.progressbar(length=progress.rows_total, label=self.LABELS[progress.status])
            self.bar.__enter__()
            self.shown = 0
        if self.bar is not None and progress.rows_done > self.shown:
            self.bar.update(progress.rows_done - self.shown)
            self.shown = progress.rows_done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


async def _import(file: Path, file_format: str, username: str, mode: ImportMode):
    """Queue a job for the file as the API does, then run it here with progress bars."""
    from services.registry.imports.run import Progress, run_import
    from services.registry.imports.service import cli_principal, new_job
    from services.registry.models import plumbing as registry_tables

    size = await asyncio.to_thread(lambda: file.stat().st_size)
    registry = Database(database_url("registry"), registry_tables)
    bars = _PhaseBars()
    try:
        async with registry.sessions.begin() as session:
            job = await new_job(
                session, cli_principal(username), file_name=file.name, file_format=file_format,
                file_size=size, mode=mode,
            )  # fmt: skip
        progress = Progress(listener=bars)
        return job.id, await run_import(
            job.id, sessions=registry.sessions, cipher=_pii_cipher(), source=file, progress=progress
        )
    finally:
        bars.close()
        await registry.dispose()


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An XLSX or CSV ledger (导入模板)")],
    as_user: Annotated[str, typer.Option("--as", help="Whom the audit log records as the importer")] = "cli",
    mode: Annotated[
        ImportMode, typer.Option(help="all: any error and nothing is imported; valid_households: those without")
    ] = ImportMode.all,
) -> None:
    """Import households and persons from a ledger into the registry, city-wide, as the API's import does."""
    from services.registry.imports.parse import UnsupportedFile, sniff
    from services.registry.imports.run import masked
    from services.registry.imports.service import SNIFF_BYTES

    started = time.perf_counter()
    with file.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        file_format = sniff(head, file)
    except UnsupportedFile as exc:
        typer.echo(f"{file}: not an XLSX workbook nor a CSV file with the template's header", err=True)
        raise typer.Exit(2) from exc
    job_id, outcome = asyncio.run(_import(file, file_format, as_user, mode))
    seconds = time.perf_counter() - started
    for error in outcome.errors[:20]:
        shown = masked(error)
        typer.echo(f"  第{shown.row}行 {shown.column}：{shown.message}" + (f"（{shown.value}）" if shown.value else ""))
    if outcome.error_count > 20:
        typer.echo(f"  … {outcome.error_count - 20} more: GET /api/v1/registry/imports/{job_id}/errors.xlsx")
    typer.echo(f"{outcome.status}: {outcome.message}")
    typer.echo(
        f"{outcome.rows_total} rows, {outcome.households_created} households, {outcome.persons_created} persons "
        f"in {seconds:.1f} s ({outcome.rows_total / seconds:,.0f} rows/s); job {job_id}"
    )
    if outcome.status != "done":
        raise typer.Exit(1)


def _spawn(entry: ServiceEntry, host: str) -> subprocess.Popen:
    port = os.environ.get(f"{entry.name.upper()}_PORT", str(entry.port))
    command = [
        sys.executable, "-m", "uvicorn", "--factory", entry.app, "--host", host, "--port", port,
        "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip
    return subprocess.Popen(command, start_new_session=True)


def _wait_healthy(entries: list[ServiceEntry], processes: dict[str, subprocess.Popen], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {e.name: e for e in entries}
    while pending:
        for name, entry in list(pending.items()):
            if processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {processes[name].returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{entry.port}/healthz", timeout=1).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy after {timeout_s:.0f} s: {', '.join(pending)}")
        time.sleep(0.2)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


@app.command()
def up(
    households: Annotated[
        int, typer.Option(help="Demo households when the registry is empty")
    ] = DEFAULT_DEMO_HOUSEHOLDS,
    demo: Annotated[bool, typer.Option(help="Load demo data into an empty registry")] = True,
    host: Annotated[str, typer.Option(help="Address the services listen on")] = "127.0.0.1",
) -> None:
    """Migrate, load demo data if empty, start the gateway and every service; Ctrl-C or SIGTERM stops all."""
    started = time.perf_counter()
    common = common_settings()
    _pii_cipher()  # create the local keys once, before several processes could race for them
    migrate(None)
    asyncio.run(_prepare())
    if demo:
        asyncio.run(_demo(households, 2020, only_if_empty=True))

    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for entry in ALL:
            processes[entry.name] = _spawn(entry, host)
        _wait_healthy(list(ALL), processes, timeout_s=60)
        typer.echo(f"\nfupin is up in {time.perf_counter() - started:.1f} s")
        typer.echo(f"  gateway      http://127.0.0.1:{ALL[0].port}   (Swagger UI: /docs, OpenAPI: /openapi.json)")
        for entry in SERVICES:
            typer.echo(
                f"  {entry.name:<12} http://127.0.0.1:{entry.port}   (through the gateway: /api/v1/{entry.name}/)"
            )
        typer.echo(
            "  demo logins  admin wanzhou fengdu wansheng cadre civil civil2 hr bank supplies auditor (password: demo)"
        )
        typer.echo("  API client   dept-demo / demo-secret")
        typer.echo(f"  data         {Path(common.var_dir).resolve()}")
        typer.echo("Ctrl-C stops everything.")
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    typer.echo(f"{name} exited with code {process.returncode}; stopping", err=True)
                    stopping = True
            time.sleep(0.3)
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        _stop(processes)
        raise typer.Exit(1) from exc
    typer.echo("stopping…")
    _stop(processes)
    typer.echo("stopped")


if __name__ == "__main__":
    app()
