"""The import jobs running in this process: each an asyncio task, one at a time, stopped with the service; and the
sweep of the jobs whose process died."""

import asyncio
import logging
from pathlib import Path
from typing import Any

from services.registry.imports.run import Progress, Sessions, run_import
from services.registry.imports.service import imports_dir
from services.registry.imports.sweep import sweep
from shared.app import task_hooks
from shared.pii import PiiCipher

log = logging.getLogger("fupin.registry.imports")


class ImportRunner:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._progress: dict[str, Progress] = {}
        # Imports are CPU- and write-heavy: the next one waits, queued, rather than halving both.
        self._turn = asyncio.Lock()

    async def start(self, job_id: str, *, sessions: Sessions, cipher: PiiCipher, source: Path) -> None:
        """Run the job in the background; the stored file is deleted when it ends.

        A coroutine only so that it runs on the event loop when called as a request's background task.
        """
        progress = self._progress[job_id] = Progress()
        self._tasks[job_id] = asyncio.create_task(
            self._run(job_id, sessions, cipher, source, progress), name=f"import {job_id}"
        )

    async def _run(self, job_id: str, sessions: Sessions, cipher: PiiCipher, source: Path, progress: Progress) -> None:
        try:
            await run_import(
                job_id, sessions=sessions, cipher=cipher, source=source, progress=progress, turn=self._turn
            )
        finally:
            await asyncio.to_thread(source.unlink, missing_ok=True)
            self._tasks.pop(job_id, None)
            self._progress.pop(job_id, None)

    def progress(self, job_id: str) -> Progress | None:
        """The live state of a job running in this process."""
        return self._progress.get(job_id)

    async def wait(self, job_id: str, timeout_s: float) -> None:
        """Until the job has ended (at once when it is not running here), or TimeoutError after `timeout_s`."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)

    async def stop(self) -> None:
        """Cancel the running jobs: each rolls back its data and ends failed."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def runner_of(state: Any) -> ImportRunner:
    """The app's runner (app.state.imports), made on first use."""
    runner = getattr(state, "imports", None)
    if runner is None:
        runner = state.imports = ImportRunner()
    return runner


async def _sweep_forever(sessions: Sessions, every_s: float) -> None:
    """Sweep now and every `every_s`; the uploaded file of an ended job is deleted when it is on this replica."""
    while True:
        try:
            ended = await sweep(sessions)
            folder = await asyncio.to_thread(imports_dir)
            for job_id in ended:
                await asyncio.to_thread((folder / job_id).unlink, missing_ok=True)
        except Exception:
            log.exception("import sweep failed; trying again in %s s", every_s)
        await asyncio.sleep(every_s)


def sweeper_hooks(every_s: float) -> tuple[Any, Any]:
    """Lifespan hooks: sweep at start and every `every_s` (never when 0), stopped with the service."""

    async def sweep_forever(app: Any) -> None:
        await _sweep_forever(app.state.db.sessions, every_s)

    return task_hooks("import_sweeper", sweep_forever if every_s > 0 else None)
