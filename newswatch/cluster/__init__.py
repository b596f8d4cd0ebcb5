"""Work distribution over several machines: procrastinate, a job queue in PostgreSQL.

One job per outlet pass. Its `lock` is the outlet id, so two workers never crawl one outlet
at once (procrastinate fetches no job whose lock a running job holds), and its
`queueing_lock` is the outlet id too, so at most one pass per outlet waits in the queue
(a second defer raises AlreadyEnqueued: schedulers that run at once, or a pass that
overruns its period, never pile up passes). A worker that dies stops sending heartbeats;
after `[cluster] stalled_after` seconds its running jobs are found stalled
(`job_manager.get_stalled_jobs`) and put back in the queue (`retry_job`) by the other
workers and the scheduler, which check every quarter of that window.

Rooms: `app` (the procrastinate App bound to the queue URL, its schema), `tasks` (the
pass and flush tasks, run by `newswatch worker`), `schedule` (deferring and recovery, for
`newswatch run` in cluster mode), `worker` (the worker process).
"""

from __future__ import annotations


def queue_url(config) -> str | None:
    """The job queue's PostgreSQL URL, or None when passes run in `newswatch run` itself."""
    cluster = getattr(config, "cluster", None)
    return cluster.queue if cluster is not None else None


def check_interval(stalled_after: float) -> float:
    """How often workers heartbeat and look for stalled jobs: a quarter of the window, so a
    dead worker's pass is queued again within about 1.25 x stalled_after."""
    return max(0.5, stalled_after / 4)


def quiet_queue_logs(verbose: bool) -> None:
    """procrastinate logs every deferred and finished job at INFO (dozens a second in a
    large cluster): only its warnings unless --verbose."""
    import logging

    if not verbose:
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
