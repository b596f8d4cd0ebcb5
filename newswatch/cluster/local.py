"""The worker `newswatch run` keeps beside its scheduler in cluster mode.

A single machine switched to PostgreSQL should go on working with its one command: so
`newswatch run` starts `newswatch worker --concurrency N` as a child (N = `run --workers`,
default 1; 0 on a machine that only schedules) and starts it again if it dies, waiting
longer after each quick death so a worker that cannot start does not spin.
"""

from __future__ import annotations

import functools
import logging
import signal
import subprocess
import sys
import time

from .tasks import die_with_parent

log = logging.getLogger("newswatch.cluster")

RESTART_DELAYS = (1.0, 5.0, 15.0, 60.0)  # seconds before restarting a worker that died
STOP_SECONDS = 30.0  # a stopping worker lets its passes finish (its own grace is 15 s)


class LocalWorker:
    def __init__(self, config_path: str, concurrency: int, *, verbose: bool = False,
                 log_format: str = "text"):
        self.concurrency = concurrency
        self.cmd = [sys.executable, "-m", "newswatch", "--config", config_path]
        if verbose:
            self.cmd.append("--verbose")
        if log_format != "text":
            self.cmd += ["--log-format", log_format]
        self.cmd += ["worker", "--concurrency", str(concurrency)]
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self.failures = 0
        self.restart_at = 0.0

    def start(self) -> None:
        if self.concurrency < 1:
            return
        # Its own session: a Ctrl-C in the terminal reaches the daemon, which stops the
        # worker with SIGTERM after the scheduler, not both at once. A daemon killed
        # outright takes its worker along (SIGTERM: the passes store what they have).
        self.process = subprocess.Popen(
            self.cmd, start_new_session=True, stdin=subprocess.DEVNULL,
            preexec_fn=functools.partial(die_with_parent, signal.SIGTERM))
        self.started = time.monotonic()
        log.info("worker started (pid %d, concurrency %d)", self.process.pid, self.concurrency)

    def check(self) -> None:
        """Called by the daemon's loop: restart a worker that exited."""
        if self.process is None:
            if self.concurrency >= 1 and self.restart_at and time.monotonic() >= self.restart_at:
                self.restart_at = 0.0
                self.start()
            return
        code = self.process.poll()
        if code is None:
            if time.monotonic() - self.started > 300:
                self.failures = 0  # it ran a while: the next death starts the delays anew
            return
        delay = RESTART_DELAYS[min(self.failures, len(RESTART_DELAYS) - 1)]
        self.failures += 1
        log.warning("the worker exited with code %s: starting it again in %.0f s", code, delay)
        self.process = None
        self.restart_at = time.monotonic() + delay

    def stop(self) -> None:
        process, self.process, self.concurrency = self.process, None, 0
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
