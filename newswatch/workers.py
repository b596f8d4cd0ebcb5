"""Extraction worker processes: parsing is CPU work, so it runs beside the event loop.

`ExtractorPool` is pebble's `ProcessPool` rather than
`concurrent.futures.ProcessPoolExecutor`, because a news crawl meets pages that break
parsers: the standard executor marks itself broken (BrokenProcessPool) and fails every
pending page when one worker dies, and it cannot stop a worker stuck in a loop. pebble
knows which page a worker held when it died or ran past its timeout: that page's future
fails (`WorkerCrashed`, `WorkerTimeout`), the worker is replaced, and every other page
goes on.

Workers start with `forkserver` where the platform has it (a clean server process with the
extraction modules imported once, so a replacement costs a fork, not an interpreter start),
else `spawn`. Never `fork`: the parent runs Twisted/asyncio threads.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

log = logging.getLogger("newswatch.workers")

DEFAULT_TIMEOUT = 30.0  # seconds one page may take; env NEWSWATCH_EXTRACT_TIMEOUT
DEFAULT_MAX_TASKS = 1000  # pages per worker before it is recycled (bounds slow leaks)
# Imported once in the fork server, so that each worker (and each replacement) starts
# with them loaded; datasketch (with scipy) takes about 0.5 s to import.
PRELOAD = ["newswatch.analysis", "datasketch"]


class WorkerCrashed(RuntimeError):
    """The worker process died (segfault, os._exit, killed by the OOM killer) on this task."""


class WorkerTimeout(TimeoutError):
    """The task ran past the pool's timeout; its worker was killed."""


class PoolClosed(RuntimeError):
    pass


_open_pools = 0
_open_lock = threading.Lock()


def cores() -> int:
    """CPUs this process may run on (the affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _stop_forkserver() -> None:
    """Stop and reap the fork server once no pool needs it. Its workers' CPU time then
    counts in this process's RUSAGE_CHILDREN (what `time newswatch crawl` and the bench
    report); left running, it would be reparented and its time lost."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        try:
            stop()
        except (OSError, ChildProcessError):
            pass


class ExtractorPool:
    """A pool of extraction processes, one per core unless configured; one per pass, shared
    by all outlets. `submit` returns a `concurrent.futures.Future` that completes when its
    page is done, so results arrive in order of completion."""

    def __init__(self, workers: int = 0, *, timeout: float | None = None,
                 max_tasks: int = DEFAULT_MAX_TASKS):
        self.workers = workers if workers > 0 else cores()
        if timeout is None:
            timeout = float(os.environ.get("NEWSWATCH_EXTRACT_TIMEOUT", DEFAULT_TIMEOUT))
        self.timeout = timeout
        self.crashed = 0  # workers lost to a crash or a timeout, for the log and the tests
        self._ctx = _context()
        # Workers start on the first page (pebble starts its pool on first schedule).
        self._pool = ProcessPool(self.workers, max_tasks=max_tasks, context=self._ctx)
        self._closed = False
        global _open_pools
        with _open_lock:
            _open_pools += 1

    def submit(self, fn, *args, **kwargs) -> Future:
        if self._closed:
            raise PoolClosed("the extraction pool is closed")
        inner = self._pool.schedule(fn, args, kwargs, timeout=self.timeout)
        outer: Future = Future()
        inner.add_done_callback(lambda f: self._settle(f, outer))
        return outer

    def _settle(self, inner, outer: Future) -> None:
        """Runs on pebble's thread: the page's outcome, in our exception types."""
        try:
            result = inner.result()
        except ProcessExpired as exc:
            self._lost(outer, WorkerCrashed(_death(exc.exitcode)))
        except FutureTimeout:
            self._lost(outer, WorkerTimeout(
                f"extraction took longer than {self.timeout:g} s; worker killed"))
        except CancelledError:
            outer.cancel()
        except BaseException as exc:  # noqa: BLE001 - the page's own failure goes back
            _complete(outer, exc)
        else:
            _complete(outer, None, result)

    def _lost(self, outer: Future, exc: BaseException) -> None:
        self.crashed += 1
        log.warning("extraction worker lost: %s", exc)
        _complete(outer, exc)

    def close(self) -> None:
        """Finish the queued pages, then stop the workers."""
        if self._closed:
            return
        self._closed = True
        self._pool.close()
        self._pool.join()
        global _open_pools
        with _open_lock:
            _open_pools -= 1
            last = _open_pools == 0
        if last and self._ctx.get_start_method() == "forkserver":
            _stop_forkserver()

    def __enter__(self) -> "ExtractorPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _complete(future: Future, exc: BaseException | None, result=None) -> None:
    """Complete a future unless its caller gave up on it (cancelled)."""
    try:
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)
    except InvalidStateError:
        pass


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"extraction worker died ({name})"
    return f"extraction worker exited with status {code}"
