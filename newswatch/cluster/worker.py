"""`newswatch worker`: a procrastinate worker that runs outlet passes and flushes.

Beside procrastinate's own loops (fetching jobs, heartbeats every quarter of the stalled
window) it runs one more: every quarter of `[cluster] stalled_after` it puts the running
jobs of dead workers (no heartbeat for stalled_after seconds) back in the queue, so a
cluster with no scheduler running still recovers its passes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from datetime import datetime, timezone

from procrastinate import exceptions, jobs

from . import check_interval, queue_url, quiet_queue_logs
from .app import ensure_schema, make_app, redact
from .tasks import MAIL_QUEUE, PASS_QUEUE, Child

log = logging.getLogger("newswatch.cluster")

SHUTDOWN_GRACE = 15.0  # seconds a stopping worker lets its passes finish, then stops them


async def recover_stalled(app, stalled_after: float) -> int:
    """Put the running jobs of workers silent for `stalled_after` seconds back in the
    queue (or, when a newer pass of the outlet already waits, close them as failed)."""
    manager = app.job_manager
    recovered = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            await manager.retry_job(job, retry_at=datetime.now(timezone.utc))
        except exceptions.UniqueViolation:
            await manager.finish_job(job, jobs.Status.FAILED, delete_job=False)
        except exceptions.ConnectorException:
            continue  # another process recovered it first
        log.warning("job %s (%s %s) of a dead worker queued again", job.id, job.task_name,
                    job.task_kwargs)
        recovered += 1
    if recovered:
        await manager.prune_stalled_workers(stalled_after)
    return recovered


async def _recovery_loop(app, stalled_after: float) -> None:
    while True:
        await asyncio.sleep(check_interval(stalled_after))
        try:
            await recover_stalled(app, stalled_after)
        except exceptions.ConnectorException as exc:
            log.warning("looking for stalled passes failed: %s", exc)


async def _serve(config, concurrency: int, child: Child, stop: dict) -> None:
    url = queue_url(config)
    stalled_after = config.cluster.stalled_after
    app = make_app(url)
    async with app.open_async():
        recovery = asyncio.create_task(_recovery_loop(app, stalled_after))
        work = asyncio.create_task(app.run_worker_async(
            queues=[PASS_QUEUE, MAIL_QUEUE], concurrency=concurrency,
            name=f"{socket.gethostname()}:{os.getpid()}",
            additional_context={"config": config, "child": child},
            update_heartbeat_interval=check_interval(stalled_after),
            stalled_worker_timeout=stalled_after,
            shutdown_graceful_timeout=SHUTDOWN_GRACE,
            fetch_job_polling_interval=min(5.0, check_interval(stalled_after)),
            # Our handlers, installed before anything else (see main): procrastinate's
            # come only once its loop runs, and a SIGTERM before that killed the worker.
            install_signal_handlers=False,
            # A pass a minute per outlet would grow the table by the million; failed
            # jobs stay for `newswatch status`-style inspection.
            delete_jobs="successful"))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # A cancelled procrastinate worker stops gracefully: running passes get
            # SHUTDOWN_GRACE seconds to finish.
            loop.add_signal_handler(signum, work.cancel)
        if stop["requested"]:
            work.cancel()
        try:
            log.info("newswatch worker: concurrency %d on %s (pid %d)", concurrency,
                     redact(url), os.getpid())
            await work
        except asyncio.CancelledError:
            pass
        finally:
            recovery.cancel()
    log.info("newswatch worker stopped")


def main(config, *, concurrency: int = 1, verbose: bool = False,
         log_format: str = "text") -> int:
    """Run the worker until SIGTERM/SIGINT. Each pass runs in its own child process."""
    from ..errors import UsageError

    url = queue_url(config)
    if url is None:
        raise UsageError("`newswatch worker` needs a job queue: set `database` to a "
                         "postgresql:// URL (or [cluster] queue); with a SQLite store "
                         "alone, `newswatch run` runs the passes itself")
    stop = {"requested": False}

    def request_stop(signum, frame) -> None:  # until the event loop takes over
        stop["requested"] = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    quiet_queue_logs(verbose)
    ensure_schema(url)
    asyncio.run(_serve(config, concurrency, Child(str(config.path), verbose, log_format),
                       stop))
    return 0
