"""Import jobs: accept a file and queue a job for it; answer a job's state and its error report (run.py runs it)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.imports import repository
from services.registry.imports.errors import ImportFileTooLarge, ImportFileUnsupported, ImportJobNotFound
from services.registry.imports.parse import UnsupportedFile, sniff
from services.registry.imports.run import Progress, masked
from services.registry.imports.schemas import FINISHED, ImportMode, ImportStatus
from services.registry.imports.validate import RowError
from services.registry.models import ImportJob
from shared.auth import Principal, permissions_of
from shared.context import Ctx
from shared.ids import uuid7
from shared.pagination import PageParams, after_id, page_of
from shared.regions import CITY_CODE
from shared.settings import common_settings

MAX_FILE_BYTES = 50 * 1024 * 1024
SNIFF_BYTES = 64 * 1024


def imports_dir() -> Path:
    path = common_settings().var_dir / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- who runs a job --------------------------------------------------------------------------------------------


def cli_principal(username: str) -> Principal:
    """The CLI's caller: city-wide scope, recorded under the name given with --as."""
    roles = ("city_admin",)
    return Principal(
        subject=username, kind="user", roles=roles, regions=(CITY_CODE,), name=username,
        permissions=permissions_of(roles),
    )  # fmt: skip


def _county_of(principal: Principal) -> str | None:
    """The one county the caller's scope lies in (万盛经开区's townships: 500110), or None for a wider scope."""
    counties = {code[:6] for code in principal.prefixes if len(code) >= 6}
    if len(counties) == 1 and all(len(code) >= 6 for code in principal.prefixes):
        return counties.pop()
    return None


# --- accepting a file ------------------------------------------------------------------------------------------


async def new_job(
    session: AsyncSession,
    principal: Principal,
    *,
    file_name: str,
    file_format: str,
    file_size: int,
    mode: ImportMode,
    request_id: str | None = None,
    job_id: str | None = None,
) -> ImportJob:
    job = ImportJob(
        id=job_id or uuid7(),
        file_name=file_name[:255],
        file_format=file_format,
        file_size=file_size,
        mode=mode,
        status=ImportStatus.queued,
        rows_total=0,
        rows_done=0,
        households_created=0,
        persons_created=0,
        error_count=0,
        errors=[],
        created_by=principal.subject,
        created_by_roles=list(principal.roles),
        scope=list(principal.regions),
        county_code=_county_of(principal),
        request_id=request_id,
    )
    await repository.add_job(session, job)
    return job


async def accept_upload(
    ctx: Ctx, *, file_name: str, chunks: AsyncIterator[bytes], mode: ImportMode
) -> tuple[ImportJob, Path]:
    """Store the upload under FUPIN_VAR_DIR/imports/<job id> and queue a job for it."""
    job_id = uuid7()
    path = imports_dir() / job_id
    try:
        size, head = await _store(chunks, path)
        try:
            file_format = await asyncio.to_thread(sniff, head, path)
        except UnsupportedFile as exc:
            raise ImportFileUnsupported(field="file") from exc
        job = await new_job(
            ctx.session, ctx.principal, file_name=file_name, file_format=file_format, file_size=size, mode=mode,
            request_id=ctx.audit.request_id, job_id=job_id,
        )  # fmt: skip
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job, path


async def _store(chunks: AsyncIterator[bytes], path: Path) -> tuple[int, bytes]:
    size = 0
    head = b""
    with path.open("wb") as out:
        async for chunk in chunks:
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ImportFileTooLarge(field="file", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            out.write(chunk)
    return size, head


# --- reading jobs ----------------------------------------------------------------------------------------------


def _visible(principal: Principal, job: ImportJob) -> bool:
    """The importer's own jobs, and those whose whole scope lies inside the caller's (the city admin sees all)."""
    return job.created_by == principal.subject or all(principal.covers(code) for code in job.scope)


async def job_in_scope(ctx: Ctx, job_id: str) -> ImportJob:
    job = await repository.get_job(ctx.session, job_id)
    if job is None or not _visible(ctx.principal, job):
        raise ImportJobNotFound()
    return job


def job_fields(job: ImportJob, progress: Progress | None) -> dict[str, Any]:
    """The job as stored, with this process's fresher counters while the job runs here (the row is not touched)."""
    fields = {column: getattr(job, column) for column in _SUMMARY_COLUMNS}
    if progress is not None and job.status not in FINISHED:
        fields.update(status=progress.status, rows_total=progress.rows_total, rows_done=progress.rows_done)
    return fields


_SUMMARY_COLUMNS = (
    "id", "status", "mode", "file_name", "file_format", "file_size", "rows_total", "rows_done", "households_created",
    "persons_created", "error_count", "message", "created_by", "county_code", "created_at", "started_at",
    "finished_at", "errors",
)  # fmt: skip


async def list_jobs(ctx: Ctx, page: PageParams) -> tuple[list[ImportJob], str | None]:
    rows = await repository.jobs_created_by(
        ctx.session, ctx.principal.subject, limit=page.limit + 1, before_id=after_id(page),
        updated_since=page.updated_since,
    )  # fmt: skip
    return page_of(rows, page.limit, lambda j: {"id": j.id})


async def error_report(ctx: Ctx, job: ImportJob) -> list[RowError]:
    """Every error kept for the report: values as typed for a caller with pii:read (audited), masked otherwise."""
    if not job.error_report_enc:
        return []
    errors = [RowError(*e) for e in orjson.loads(ctx.cipher.decrypt(job.error_report_enc))]
    if not ctx.reveals_pii:
        return [masked(e) for e in errors]
    await ctx.audit_pii_read("import_job", [job.id])
    return errors
