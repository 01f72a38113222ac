"""Importing households and persons from an office's ledger (XLSX or CSV), as a job with progress."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, FastAPI, File, Query, Request, Response, UploadFile

from services.registry.imports import service
from services.registry.imports.errors import ImportNotFinished
from services.registry.imports.runner import runner_of
from services.registry.imports.schemas import FINISHED, ImportJobOut, ImportJobSummary, ImportMode
from services.registry.imports.template import template_csv, template_xlsx
from shared.context import context_for
from shared.excel import XLSX, xlsx_response
from shared.pagination import Page, Paging

UPLOAD_CHUNK = 1024 * 1024


@asynccontextmanager
async def _stop_jobs_on_shutdown(app: FastAPI) -> AsyncIterator[None]:
    yield
    await runner_of(app.state).stop()


router = APIRouter(prefix="/api/v1/registry", tags=["registry: imports 导入"], lifespan=_stop_jobs_on_shutdown)
Importer = context_for("registry:import")
_XLSX_CONTENT = {200: {"content": {XLSX: {}}}}


def _download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get(
    "/imports/template.xlsx",
    operation_id="registry_import_template_xlsx",
    response_class=Response,
    responses=_XLSX_CONTENT,
)
async def import_template_xlsx(ctx: Importer) -> Response:
    """The import template with an example row and a sheet explaining each column 下载导入模板（Excel）"""
    return _download(template_xlsx(), "贫困户导入模板.xlsx", XLSX)


@router.get(
    "/imports/template.csv",
    operation_id="registry_import_template_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def import_template_csv(ctx: Importer) -> Response:
    """The import template as CSV (UTF-8 with BOM) 下载导入模板（CSV）"""
    return _download(template_csv(), "贫困户导入模板.csv", "text/csv; charset=utf-8")


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(UPLOAD_CHUNK):
        yield chunk


@router.post(
    "/imports",
    operation_id="registry_start_import",
    response_model=ImportJobOut,
    status_code=202,
    max_body_size=service.MAX_FILE_BYTES + UPLOAD_CHUNK,  # the multipart envelope around a file at the limit
)
async def start_import(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    ctx: Importer,
    file: Annotated[UploadFile, File(description="XLSX 或 CSV 文件，不超过 50 MB XLSX or CSV file, at most 50 MB")],
    mode: Annotated[
        ImportMode, Query(description="all：有任何错误则不导入；valid_households：只导入没有错误的户")
    ] = ImportMode.all,
) -> ImportJobOut:
    """Upload a ledger and start importing it; poll the job for progress 上传并导入贫困户花名册

    Answers 202 with the queued job at once; the file is validated and written in the background, in one
    transaction: by default any error and nothing is written.
    """
    job, path = await service.accept_upload(ctx, file_name=file.filename or "upload", chunks=_chunks(file), mode=mode)
    # Started after the response, so after this request's transaction (which holds the job row) has committed.
    sessions = getattr(request.app.state, "session_factory", None) or request.app.state.db.sessions
    background.add_task(runner_of(request.app.state).start, job.id, sessions=sessions, cipher=ctx.cipher, source=path)
    response.headers["Location"] = f"{router.prefix}/imports/{job.id}"
    return ImportJobOut(**service.job_fields(job, None))


@router.get("/imports", operation_id="registry_list_imports", response_model=Page[ImportJobSummary])
async def list_imports(request: Request, ctx: Importer, page: Paging) -> Page[ImportJobSummary]:
    """The caller's import jobs, newest first 我的导入任务"""
    jobs, cursor = await service.list_jobs(ctx, page)
    runner = runner_of(request.app.state)
    items = [ImportJobSummary(**service.job_fields(j, runner.progress(j.id))) for j in jobs]
    return Page[ImportJobSummary](items=items, next_cursor=cursor)


@router.get("/imports/{job_id}", operation_id="registry_get_import", response_model=ImportJobOut)
async def get_import(job_id: str, request: Request, ctx: Importer) -> ImportJobOut:
    """An import job: its status, rows done of total, what it created and its first 200 errors 导入任务进度"""
    job = await service.job_in_scope(ctx, job_id)
    return ImportJobOut(**service.job_fields(job, runner_of(request.app.state).progress(job.id)))


@router.get(
    "/imports/{job_id}/errors.xlsx",
    operation_id="registry_import_errors_xlsx",
    response_class=Response,
    responses=_XLSX_CONTENT,
)
async def import_errors_xlsx(job_id: str, ctx: Importer) -> Response:
    """The error report: row, column, value and what is wrong, for every error (up to 10,000) 下载导入错误报告"""
    job = await service.job_in_scope(ctx, job_id)
    if job.status not in FINISHED:
        raise ImportNotFinished()
    errors: list = await service.error_report(ctx, job)
    if job.error_count > len(errors):
        errors.append((None, "", "", "", f"共{job.error_count}处错误，本报告列出前{len(errors)}处"))
    return xlsx_response(
        f"导入错误报告_{job.file_name.rsplit('.', 1)[0]}.xlsx",
        "错误报告",
        ["行号", "列", "填写的值", "错误代码", "错误说明"],
        errors,
    )
