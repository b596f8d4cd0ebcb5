"""Extraction worker processes: parsing is CPU work, so it runs beside the event loop.

`ExtractorPool` is a small process pool of its own rather than
`concurrent.futures.ProcessPoolExecutor`, because a news crawl meets pages that break
parsers: the standard executor marks itself broken (BrokenProcessPool) and fails every
pending page when one worker dies, and it cannot stop a worker stuck in a loop. Here each
worker holds at most one page at a time, so the page behind a crash or a hang is known:
that page's future fails (`WorkerCrashed`, `WorkerTimeout`), the worker is replaced, and
every other page goes on.

Workers start with `forkserver` where the platform has it (a clean server process with the
extraction modules imported once, so a replacement costs a fork, not an interpreter start),
else `spawn`. Never `fork`: the parent runs Twisted/asyncio threads.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import threading
import time
import traceback
from concurrent.futures import Future, InvalidStateError
from multiprocessing.connection import wait

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


def _serve(conn) -> None:
    """Worker main loop: one task in, one result out, until the pipe closes or None."""
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args, kwargs = task
        try:
            reply = (True, fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or exception
            conn.send((False, RuntimeError(
                f"{type(reply[1]).__name__} could not be sent back from the worker: {exc}\n"
                + "".join(traceback.format_exception(reply[1]))[-2000:])))
        if not reply[0] and isinstance(reply[1], MemoryError):
            return  # the heap may be in a bad state: let the pool start a fresh worker


class _Worker:
    __slots__ = ("process", "conn", "task", "deadline", "done")

    def __init__(self, ctx):
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(child_end,), daemon=True,
                                   name="newswatch-extract")
        self.process.start()
        child_end.close()
        self.conn = parent_end
        self.task: tuple | None = None  # (future, fn, args, kwargs) in flight
        self.deadline = 0.0
        self.done = 0

    def stop(self, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        elif self.process.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


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
        self.max_tasks = max_tasks
        self.crashed = 0  # workers lost to a crash or a timeout, for the log and the tests
        self._ctx = _context()
        global _open_pools
        with _open_lock:
            _open_pools += 1
        self._pending: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        # A self-pipe wakes the manager thread when a task arrives or the pool closes.
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._thread: threading.Thread | None = None

    # -- public ---------------------------------------------------------------------------

    def submit(self, fn, *args, **kwargs) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise PoolClosed("the extraction pool is closed")
            self._pending.append((future, fn, args, kwargs))
            if self._thread is None:  # workers start on first use, not on import
                self._thread = threading.Thread(target=self._manage, name="newswatch-pool",
                                                daemon=True)
                self._thread.start()
        self._wake()
        return future

    def close(self) -> None:
        """Finish the queued pages, then stop the workers."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join()
        self._wake_r.close()
        self._wake_w.close()
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

    # -- manager thread ---------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"")
        except OSError:
            pass

    def _manage(self) -> None:
        try:
            while True:
                self._dispatch()
                with self._lock:
                    if self._closed and not self._pending and not self._busy:
                        break
                self._poll()
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            log.exception("extraction pool manager failed")
            self._fail_all(exc)
        finally:
            for worker in self._idle + self._busy:
                worker.stop(kill=bool(self._busy))
            self._idle.clear()
            self._busy.clear()

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                if not self._idle and len(self._busy) >= self.workers:
                    return
                task = self._pending.popleft()
            future = task[0]
            if future.cancelled():
                continue
            worker = self._idle.pop() if self._idle else _Worker(self._ctx)
            try:
                worker.conn.send(task[1:])
            except (OSError, EOFError):
                # The worker died while idle: replace it; the task never started.
                self._discard(worker)
                with self._lock:
                    self._pending.appendleft(task)
                continue
            except Exception as exc:  # the task itself cannot be pickled
                _settle(future, False, exc)
                self._idle.append(worker)
                continue
            future.set_running_or_notify_cancel()  # cancelled meanwhile: result is dropped
            worker.task = task
            worker.deadline = time.monotonic() + self.timeout
            self._busy.append(worker)

    def _poll(self) -> None:
        now = time.monotonic()
        timeout = None
        if self._busy:
            timeout = max(0.0, min(w.deadline for w in self._busy) - now)
        waitables = [self._wake_r]
        for worker in self._busy:
            waitables += (worker.conn, worker.process.sentinel)
        ready = set(wait(waitables, timeout))
        if self._wake_r in ready:
            while self._wake_r.poll():
                self._wake_r.recv_bytes()
        for worker in list(self._busy):
            if worker.conn in ready:
                try:
                    ok, value = worker.conn.recv()
                except (EOFError, OSError):
                    self._lost(worker, WorkerCrashed(self._death(worker)))
                    continue
                self._complete(worker, ok, value)
            elif worker.process.sentinel in ready:
                self._lost(worker, WorkerCrashed(self._death(worker)))
            elif time.monotonic() >= worker.deadline:
                worker.process.kill()
                self._lost(worker, WorkerTimeout(
                    f"extraction took longer than {self.timeout:g} s; worker killed"))

    def _complete(self, worker: _Worker, ok: bool, value) -> None:
        future = worker.task[0]
        worker.task = None
        worker.done += 1
        self._busy.remove(worker)
        retire = (worker.done >= self.max_tasks
                  or (not ok and isinstance(value, MemoryError)))
        if retire:
            self._discard(worker)
        else:
            self._idle.append(worker)
        _settle(future, ok, value)

    def _lost(self, worker: _Worker, exc: BaseException) -> None:
        future = worker.task[0]
        worker.task = None
        self._busy.remove(worker)
        self._discard(worker, kill=True)
        self.crashed += 1
        log.warning("extraction worker lost: %s", exc)
        _settle(future, False, exc)

    def _discard(self, worker: _Worker, kill: bool = False) -> None:
        try:
            worker.stop(kill=kill)
        except Exception:  # noqa: BLE001 - a worker being thrown away
            log.debug("stopping a worker failed", exc_info=True)

    @staticmethod
    def _death(worker: _Worker) -> str:
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        if code is not None and code < 0:
            import signal

            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"extraction worker died ({name})"
        return f"extraction worker exited with status {code}"

    def _fail_all(self, exc: BaseException) -> None:
        with self._lock:
            self._closed = True
            tasks = list(self._pending)
            self._pending.clear()
        tasks += [w.task for w in self._busy if w.task]
        for task in tasks:
            _settle(task[0], False, exc)


def _settle(future: Future, ok: bool, value) -> None:
    """Complete a future unless its caller gave up on it (cancelled)."""
    if future.done():
        return
    try:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    except InvalidStateError:
        pass
