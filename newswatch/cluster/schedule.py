"""What `newswatch run` does in cluster mode: defer passes and flushes instead of running
them, and put stalled passes back in the queue. Synchronous (the daemon's threads); the
worker's asynchronous twin of `recover_stalled` is in `worker`."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from procrastinate import sql
from procrastinate import exceptions, jobs

from .app import ensure_schema, make_app
from .tasks import FLUSH_LOCK

log = logging.getLogger("newswatch.cluster")


class Queue:
    """The scheduler's handle on the job queue (opened on creation, `close()` at the end)."""

    def __init__(self, url: str):
        ensure_schema(url)
        self.app = make_app(url)
        self.app.open()

    def defer_pass(self, outlet_id: str) -> bool:
        """Queue one pass of the outlet; False if one is already waiting (its queueing
        lock: several schedulers, or a pass that overran its period, never double it)."""
        task = self.app.tasks["newswatch:pass"]
        try:
            task.configure(lock=outlet_id, queueing_lock=outlet_id).defer(outlet=outlet_id)
        except exceptions.AlreadyEnqueued:
            log.debug("pass outlet=%s already queued", outlet_id)
            return False
        return True

    def defer_flush(self) -> bool:
        try:
            self.app.tasks["newswatch:flush"].configure(queueing_lock=FLUSH_LOCK).defer()
        except exceptions.AlreadyEnqueued:
            return False
        return True

    def recover_stalled(self, stalled_after: float) -> int:
        """Put the running jobs of workers silent for `stalled_after` seconds back in the
        queue; returns how many. Safe to run in several processes at once."""
        manager = self.app.job_manager
        rows = manager.connector.get_sync_connector().execute_query_all(
            query=sql.queries["select_stalled_jobs_by_heartbeat"],
            queue=None, task_name=None, seconds_since_heartbeat=stalled_after)
        recovered = 0
        for row in rows:
            job = jobs.Job.from_row(row)
            try:
                manager.retry_job_by_id(job.id, retry_at=datetime.now(timezone.utc))
            except exceptions.UniqueViolation:
                # A newer pass of this outlet already waits and will do the same work.
                manager.connector.get_sync_connector().execute_query(
                    query=sql.queries["finish_job"], job_id=job.id,
                    status=jobs.Status.FAILED.value, delete_job=False)
            except exceptions.ConnectorException:
                continue  # another process recovered it first
            log.warning("job %s (%s %s) of a dead worker queued again", job.id,
                        job.task_name, job.task_kwargs)
            recovered += 1
        return recovered

    def close(self) -> None:
        self.app.close()
