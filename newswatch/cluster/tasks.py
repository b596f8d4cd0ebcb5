"""The jobs a worker runs: one outlet pass (`newswatch:pass`) and a flush of the outbox
(`newswatch:flush`: immediate alerts left by an interrupted pass, retries, digests).

A pass runs in a child process as in `newswatch run` (`python -m newswatch --config PATH
_pass OUTLET`): a Twisted reactor runs once per process, a crash or a leak stays in the
child, and the worker's event loop keeps sending heartbeats while the child works. The child
ends with the worker (PR_SET_PDEATHSIG on Linux): once the worker is dead its pass may be
given to another worker, and the dead one's child must not go on crawling beside it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass

import procrastinate

log = logging.getLogger("newswatch.cluster")

PASS_QUEUE = "passes"
MAIL_QUEUE = "mail"
FLUSH_LOCK = "flush"  # one flush waiting at a time, whoever deferred it
CHILD_STOP_SECONDS = 7.0  # SIGTERM -> SIGKILL; the child itself stops hard after ~4 s
EXIT_BUSY = 5  # newswatch.errors.LockedError: a process on this host crawls the outlet

blueprint = procrastinate.Blueprint()


class PassFailed(Exception):
    """The pass's child exited with an error; the job is recorded as failed and the
    outlet's next scheduled pass tries again (the runs table keeps the reason)."""


@dataclass(frozen=True)
class Child:
    """How this worker starts a pass: its config file and logging options."""

    config_path: str
    verbose: bool = False
    log_format: str = "text"

    def command(self, outlet_id: str) -> list[str]:
        cmd = [sys.executable, "-m", "newswatch", "--config", self.config_path]
        if self.verbose:
            cmd.append("--verbose")
        if self.log_format != "text":
            cmd += ["--log-format", self.log_format]
        return cmd + ["_pass", outlet_id]


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Runs in the child before exec: send it `sig` when its parent (the worker) dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, sig)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the worker died between fork and prctl
            os._exit(1)
    except (OSError, AttributeError):
        pass  # not Linux: a dead worker's child finishes its pass (the flock still holds)


@blueprint.task(name="pass", queue=PASS_QUEUE, pass_context=True)
async def outlet_pass(context: procrastinate.JobContext, outlet: str) -> int:
    child: Child = context.additional_context["child"]
    process = await asyncio.create_subprocess_exec(
        *child.command(outlet), stdin=asyncio.subprocess.DEVNULL,
        preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
    log.debug("pass outlet=%s started pid=%d (job %s)", outlet, process.pid, context.job.id)
    try:
        code = await process.wait()
    except asyncio.CancelledError:
        # The worker is stopping past its grace period: the child stores what it has and
        # records its run as interrupted (newswatch.crawl), then the next fire runs it.
        await stop_child(process)
        raise
    if code == EXIT_BUSY:
        log.warning("pass outlet=%s skipped: busy (a process on this host crawls it)", outlet)
        return code
    if code != 0:
        raise PassFailed(f"pass of {outlet} exited with code {code}")
    return code


async def stop_child(process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), CHILD_STOP_SECONDS)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        process.kill()
        await process.wait()


@blueprint.task(name="flush", queue=MAIL_QUEUE, pass_context=True)
def flush(context: procrastinate.JobContext) -> None:
    """Send what the outbox holds (newswatch.alerts owns the rules; outbox rows are claimed
    in the store, so flushes on several workers never send one email twice)."""
    from .. import alerts
    from ..store import open_db

    config = context.additional_context["config"]
    db = open_db(config.database)
    try:
        alerts.flush(db, config)
    finally:
        db.close()
