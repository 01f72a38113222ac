"""Running an import job: read the file, check its rows, write the households, whatever happens end the job.

`run_import` is the one code path of the API's background task, the CLI and the benchmark. The job's state is
written in short transactions of its own, so readers see it while the job runs; the households, persons, the
audit row and the job's final state are written in ONE transaction, so a failed import leaves nothing behind.

On PostgreSQL an all-or-nothing import writes each household once its rows are all in, while the rows after it
are still being checked: the database's work overlaps Python's, and the first error rolls everything back. On
SQLite (one writer at a time) households are written after the whole file is checked, and progress while
writing stays in memory (`Progress`), which the routes of the same process read.
"""

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.registry.imports import load, repository
from services.registry.imports.parse import UnreadableFile, read_rows
from services.registry.imports.schemas import ImportMode, ImportStatus
from services.registry.imports.sweep import heartbeat
from services.registry.imports.validate import Found, HouseholdDraft, RowError, Validator
from services.registry.models import ImportJob, plumbing
from shared.audit import AuditTrail
from shared.auth import Principal, permissions_of
from shared.dates import today
from shared.db import utcnow
from shared.pii import PiiCipher, mask_phone

log = logging.getLogger("fupin.registry.imports")

VALIDATE_CHUNK = 5000
PROGRESS_EVERY_S = 0.5
ERRORS_SHOWN = 200
REPORT_LIMIT = 10_000
Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
R = TypeVar("R")


def _principal_of(job: ImportJob) -> Principal:
    roles = tuple(job.created_by_roles)
    return Principal(
        subject=job.created_by, kind="user", roles=roles, regions=tuple(job.scope), permissions=permissions_of(roles)
    )


@dataclass
class Progress:
    """A running job's state as this process knows it; `listener` hears every change (the CLI's progress bar)."""

    status: str = ImportStatus.queued
    rows_total: int = 0
    rows_done: int = 0
    listener: Callable[["Progress"], None] | None = None

    def update(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        if self.listener is not None:
            self.listener(self)


@dataclass
class Outcome:
    """What a run did; `seconds` by phase: read (the file), check (the rows, with the households written meanwhile
    on PostgreSQL), write (the rest, and the commit), statements (of all that, in COPY or INSERT statements)."""

    status: str
    rows_total: int = 0
    households_created: int = 0
    persons_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


class _Recorder:
    """Writes the job row's state in short transactions of its own, next to the import's data transaction."""

    def __init__(self, sessions: Sessions, job_id: str, progress: Progress):
        self.sessions = sessions
        self.job_id = job_id
        self.progress = progress
        self.single_writer = False
        # Sessions from an engine each take a connection of their own from its pool, so a look-up can run while the
        # data session COPYs; sessions bound to one connection (as in tests) must take turns.
        self.own_connections = isinstance(sessions.kw.get("bind"), AsyncEngine)
        self._saved_at = 0.0

    async def load(self) -> ImportJob:
        async with self.sessions() as session:
            job = await repository.get_job(session, self.job_id)
            if job is None:
                raise LookupError(self.job_id)
            self.single_writer = session.get_bind().dialect.name == "sqlite"
            return job

    async def save(self, *, writing: bool = False, throttle: bool = False, **values: Any) -> None:
        """Kept in memory at once; stored unless the data transaction is `writing` on a single-writer database
        (SQLite: it would wait for the import itself), and with `throttle` at most every PROGRESS_EVERY_S."""
        self.progress.update(**{k: v for k, v in values.items() if k in ("status", "rows_total", "rows_done")})
        if writing and self.single_writer:
            return
        if throttle and time.monotonic() - self._saved_at < PROGRESS_EVERY_S:
            return
        async with self.sessions() as session:
            await repository.update_job(session, self.job_id, values)
            await session.commit()
        self._saved_at = time.monotonic()


async def run_import(
    job_id: str,
    *,
    sessions: Sessions,
    cipher: PiiCipher,
    source: Path,
    progress: Progress | None = None,
    turn: asyncio.Lock | None = None,
) -> Outcome:
    """Read, validate and write the job's file; the job row ends done or failed, whatever happens.

    `turn`: a lock to wait for first (the job stays queued meanwhile), so that a process runs one import at a time.
    Queued or running, the job's row is touched every sweep.HEARTBEAT_S: a job whose process died is swept.
    """
    recorder = _Recorder(sessions, job_id, progress or Progress())
    job = await recorder.load()
    seconds: dict[str, float] = {}
    beat = asyncio.create_task(heartbeat(sessions, job_id), name=f"import {job_id} heartbeat")
    try:
        async with turn or contextlib.nullcontext():
            with _prompt_event_loop():
                return await _run(job, recorder, cipher, source, seconds)
    except UnreadableFile as exc:
        errors = [RowError(e.row, e.column, "", e.code, e.message) for e in exc.errors]
        return await _fail(recorder, cipher, errors, exc.errors[0].message, seconds)
    except load.RowsConflict:
        message = "导入期间有人登记了相同的身份证号码或户编号，未导入任何数据，请重新导入"
        return await _fail(recorder, cipher, [], message, seconds)
    except asyncio.CancelledError:
        await _fail(recorder, cipher, [], "服务停止，导入中断，未导入任何数据", seconds)
        raise
    except Exception:
        log.exception("import %s failed", job_id)
        return await _fail(recorder, cipher, [], "导入出错，未导入任何数据；请稍后重试或联系管理员", seconds)
    finally:
        beat.cancel()


# The interpreter lock's hand-over interval while an import runs (Python's default is 5 ms). The event loop, which
# drives the look-ups and the COPY, waits for the lock each time the database answers while a worker thread checks
# rows: at 5 ms a chunk's COPY took half again as long as alone; at 1 ms the import ran 10-20% faster (bench/imports).
SWITCH_INTERVAL_S = 0.001
_imports_running: list[float] = []  # the interval each running import found, the first one's restored last


@contextlib.contextmanager
def _prompt_event_loop() -> Iterator[None]:
    _imports_running.append(sys.getswitchinterval())
    sys.setswitchinterval(min(SWITCH_INTERVAL_S, _imports_running[0]))
    try:
        yield
    finally:
        found = _imports_running.pop()
        if not _imports_running:
            sys.setswitchinterval(found)


async def _run(job: ImportJob, recorder: _Recorder, cipher: PiiCipher, source: Path, seconds: dict) -> Outcome:
    started = time.perf_counter()
    await recorder.save(status=ImportStatus.validating, started_at=utcnow())
    rows = await asyncio.to_thread(read_rows, source, job.file_format)
    seconds["read"] = time.perf_counter() - started
    await recorder.save(rows_total=len(rows))

    started = time.perf_counter()
    principal = _principal_of(job)
    validator = Validator(cipher, principal, today=today())
    async with recorder.sessions() as session:
        writer = _Writer(session, recorder)
        # All or nothing on PostgreSQL: households are written as they complete, in the transaction a later error
        # rolls back, so the database's work overlaps the checking of the rows that follow. Not on SQLite, whose
        # write lock would then shut every other request out for the whole validation, not only the writing.
        stream = job.mode == ImportMode.all and not recorder.single_writer
        await _check(validator, _chunked(rows, VALIDATE_CHUNK), recorder, writer, stream=stream)
        del rows
        async with recorder.sessions() as lookups:
            await validator.finish(lookups)
        seconds["check"] = time.perf_counter() - started

        errors = validator.errors
        valid = [h for h in validator.households.values() if not h.bad]
        skipped = len(validator.households) - len(valid)
        if errors and (job.mode == ImportMode.all or not valid):
            await writer.discard()
            message = (
                f"发现{len(errors)}处错误，未导入任何数据；请按错误报告修改后重新导入"
                if job.mode == ImportMode.all
                else f"发现{len(errors)}处错误，没有可导入的户，未导入任何数据"
            )
            return await _fail(recorder, cipher, errors, message, seconds, rows_total=validator.rows)

        started = time.perf_counter()
        await recorder.save(status=ImportStatus.importing, rows_done=writer.persons, writing=writer.persons > 0)
        await writer.write_all([h for h in valid if not h.written])
        persons = writer.persons
        message = f"已导入{len(valid)}户{persons}人" + (f"；{skipped}户因有错误未导入" if skipped else "")
        await AuditTrail.outside_request(session, plumbing.audit_log, job.request_id).record(
            principal,
            action="households.import",
            entity="import_job",
            entity_id=job.id,
            county_code=job.county_code,
            changes={
                "file_name": job.file_name, "mode": job.mode, "rows": validator.rows, "households": len(valid),
                "persons": persons, "errors": len(errors),
            },
        )  # fmt: skip
        final = {
            "status": ImportStatus.done, "rows_done": validator.rows, "households_created": len(valid),
            "persons_created": persons, "message": message, "finished_at": utcnow(), **_error_columns(cipher, errors),
        }  # fmt: skip
        await repository.update_job(session, job.id, final)
        await session.commit()
    seconds["write"] = time.perf_counter() - started
    seconds["statements"] = writer.statement_seconds
    recorder.progress.update(status=ImportStatus.done, rows_done=validator.rows)
    return Outcome(
        ImportStatus.done, validator.rows, len(valid), persons, errors[:ERRORS_SHOWN], len(errors), message, seconds
    )


async def _check(
    validator: Validator, chunks: list[list], recorder: _Recorder, writer: "_Writer", *, stream: bool
) -> None:
    """Feed every chunk to the validator and look up what it found; with `stream`, write the households each
    chunk completes, as long as there is no error and every household's rows come together.

    A worker thread checks the chunks one after the other without waiting for the database, while the event
    loop looks up chunk k and prepares the households it completed, and meanwhile COPYs those of chunk k-1 (beside
    the look-ups when sessions have connections of their own, after them when they share one). Python's work and
    the database's overlap; the checking, the one that takes longest, never stops.
    Should the thread find a household's rows apart after that household was written, or an error, the next
    chunk's turn sees it (`contiguous`, `clean`) and rolls back what was written.
    """
    loop = asyncio.get_running_loop()
    fed: asyncio.Queue[tuple[int, Found] | BaseException] = asyncio.Queue()
    stop = threading.Event()

    def feed_all() -> None:  # in the worker thread: every chunk in order, each result handed to the event loop
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                found = validator.feed(chunk)
                loop.call_soon_threadsafe(fed.put_nowait, (len(chunk), found))
        except BaseException as exc:
            loop.call_soon_threadsafe(fed.put_nowait, exc)

    feeding = asyncio.ensure_future(asyncio.to_thread(feed_all))
    checked = 0
    pending: tuple[list[HouseholdDraft], load.Records] | None = None  # the last chunk's households, prepared
    try:
        for _ in chunks:
            result = await fed.get()
            if isinstance(result, BaseException):
                raise result
            rows, found = result
            checked += rows
            # The previous chunk's households are written while this chunk's are looked up and prepared.
            writing = asyncio.ensure_future(writer.copy(*pending)) if pending else None
            pending = None
            try:
                if writing is not None and not recorder.own_connections:
                    await writing
                async with recorder.sessions() as lookups:
                    await validator.look_up(lookups, found)
                if stream:
                    ready = [h for h in found.closed if validator.writable(h)]
                    if validator.clean and validator.contiguous and len(ready) == len(found.closed):
                        pending = ready, await asyncio.to_thread(writer.prepare, ready)
                    else:
                        stream = False
            finally:
                if writing is not None:
                    await asyncio.wait([writing])
            if writing is not None:
                writing.result()
            if not stream and writer.written:
                await writer.discard()
            await recorder.save(rows_done=checked, throttle=True, writing=writer.persons > 0)
        if pending is not None:
            await writer.copy(*pending)
    finally:
        stop.set()
        await asyncio.wait([feeding])


class _Writer:
    """Writes households and their members in the data session's one transaction, a chunk at a time."""

    def __init__(self, session: AsyncSession, recorder: _Recorder):
        self.session = session
        self.recorder = recorder
        self.now = utcnow()
        self.written: list[HouseholdDraft] = []
        self.persons = 0
        self.statement_seconds = 0.0  # in COPY (PostgreSQL) or INSERT (SQLite) statements

    def prepare(self, households: list[HouseholdDraft]) -> load.Records:
        return load.prepare(households, self.now)

    async def copy(self, households: list[HouseholdDraft], records: load.Records) -> None:
        self.statement_seconds += await load.write(self.session, records)
        for household in households:
            household.written = True
        self.written.extend(households)
        self.persons += len(records[1])

    async def write_all(self, households: list[HouseholdDraft]) -> None:
        """Every household, each chunk prepared in a worker thread while the previous one is written."""

        async def copy(chunk: list[HouseholdDraft], records: load.Records) -> None:
            await self.copy(chunk, records)
            await self.recorder.save(rows_done=self.persons, throttle=True, writing=True)

        if households:
            await _pipelined(_chunked(households, load.HOUSEHOLDS_PER_CHUNK), self.prepare, copy)

    async def discard(self) -> None:
        """Roll back what was written (a later row had an error, or came apart from its household's rows)."""
        await self.session.rollback()
        for household in self.written:
            household.written = False
        self.written.clear()
        self.persons = 0


def _chunked(items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def _pipelined(chunks: list[T], work: Callable[[T], R], then: Callable[[T, R], Awaitable[None]]) -> None:
    """`work(chunk)` in a worker thread for each chunk, then `await then(chunk, result)` on the event loop while
    the next chunk's work runs: the Python work of one chunk overlaps the database's work on the previous one."""
    upcoming = asyncio.ensure_future(asyncio.to_thread(work, chunks[0]))
    try:
        for index, chunk in enumerate(chunks):
            result = await upcoming
            if index + 1 < len(chunks):
                upcoming = asyncio.ensure_future(asyncio.to_thread(work, chunks[index + 1]))
            await then(chunk, result)
    finally:
        if not upcoming.done():
            await asyncio.wait([upcoming])


def _error_columns(cipher: PiiCipher, errors: list[RowError]) -> dict[str, Any]:
    """The first errors, masked, for the job's JSON; the report, as typed, sealed with the PII key."""
    report = None
    if errors:
        report = cipher.encrypt(orjson.dumps([list(e) for e in errors[:REPORT_LIMIT]]).decode())
    return {
        "error_count": len(errors),
        "errors": [masked(e)._asdict() for e in errors[:ERRORS_SHOWN]],
        "error_report_enc": report,
    }


async def _fail(
    recorder: _Recorder,
    cipher: PiiCipher,
    errors: list[RowError],
    message: str,
    seconds: dict[str, float],
    rows_total: int | None = None,
) -> Outcome:
    values: dict[str, Any] = {
        "status": ImportStatus.failed, "message": message, "finished_at": utcnow(), "households_created": 0,
        "persons_created": 0, **_error_columns(cipher, errors),
    }  # fmt: skip
    if rows_total is not None:
        values["rows_done"] = values["rows_total"] = rows_total
    await asyncio.shield(recorder.save(**values))
    return Outcome(ImportStatus.failed, rows_total or 0, errors=errors[:ERRORS_SHOWN], error_count=len(errors),
                   message=message, seconds=seconds)  # fmt: skip


# --- personal data in errors -----------------------------------------------------------------------------------


def _mask_id_like(value: str) -> str:
    """500230********123X for an 18-character value; anything else keeps at most its first 6 and last 4."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_MASKS: dict[str, Callable[[str], str]] = {"身份证号码": _mask_id_like, "联系电话": mask_phone}


def masked(error: RowError) -> RowError:
    mask = _MASKS.get(error.column)
    if mask is None or not error.value:
        return error
    return error._replace(value=mask(error.value))
