"""`newswatch run`: the daemon.

APScheduler 3 fires each outlet's cron schedule; a fire only marks the outlet due. The
main thread collects due outlets and runs them as one child process per batch
(`python -m newswatch --config PATH _pass OUTLET...`, a hidden command of the CLI; this
module never imports the CLI), so that outlets sharing a schedule share one Python
start-up, a Twisted reactor runs once per process as it must, and the daemon's own memory
stays flat over months (measured: bench/soak.py).

Guarantees:
- no overlap: an outlet in a running child is not started again (it stays due, so a pass
  that overruns its period is followed by exactly one more); the per-outlet flock in
  newswatch.locks also keeps a manual `newswatch crawl` and the daemon apart;
- missed runs coalesce into one and are never dropped (misfire_grace_time=None);
  GuardedTrigger stops APScheduler from enumerating every missed time after a clock jump
  and from firing a fixed wall-clock time twice when DST ends;
- after a restart, an outlet whose last pass is older than its previous fire time (or that
  never ran) runs once at start;
- an outlet that keeps failing backs off (exponential, capped); others go on;
- SIGTERM/SIGINT stop the daemon within 10 s: children get SIGTERM (they store what is
  extracted and record their runs as interrupted, see newswatch.crawl), then SIGKILL.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from newswatch import clock
from newswatch.errors import LockedError
from newswatch.store import status as store
from newswatch.store.fold import refold_warning
from newswatch.triggers import (  # noqa: F401 - tests reach the triggers through here
    SECONDS_ENV, GuardedTrigger, is_overdue, schedule_trigger)

log = logging.getLogger("newswatch.scheduler")

FLUSH_SECONDS = float(os.environ.get("NEWSWATCH_FLUSH_SECONDS", "60"))
BACKOFF_BASE = float(os.environ.get("NEWSWATCH_BACKOFF_BASE", "60"))
BACKOFF_CAP = float(os.environ.get("NEWSWATCH_BACKOFF_CAP", "3600"))
BACKOFF_AFTER = 2  # consecutive failures before passes are skipped
MAX_CHILDREN = int(os.environ.get("NEWSWATCH_MAX_PASSES", "2"))
GATHER_SECONDS = 0.3  # outlets due within this window share one child
CHILD_STOP_SECONDS = 7.0  # SIGTERM -> SIGKILL; the child itself stops hard after ~4 s
EXIT_BUSY = LockedError.exit_code  # the child found every outlet busy (a manual crawl)


def backoff_delay(streak: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to skip an outlet after `streak` consecutive failed passes."""
    if streak < BACKOFF_AFTER:
        return 0.0
    return min(cap, base * 2 ** (streak - BACKOFF_AFTER))


def state_path(config) -> Path:
    db = Path(config.database)
    return db.with_name(f"{db.name}.daemon.json")


def read_state(config) -> dict | None:
    """The running daemon's view (next passes, backoff), or None if no daemon runs."""
    try:
        state = json.loads(state_path(config).read_text(encoding="utf-8"))
        os.kill(state["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


# ------------------------------------------------------------------------------- daemon


@dataclass
class Child:
    process: subprocess.Popen
    outlets: list[str]
    last_run_id: int
    started: float


class Daemon:
    def __init__(self, config, *, verbose: bool = False, log_format: str = "text"):
        from newswatch.store import open_db

        self.config = config
        self.verbose = verbose
        self.log_format = log_format
        self.db = open_db(config.database)
        self.stopping = False  # set by the signal handler: a plain flag, no locks
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        self.flush_db = None
        self.due: dict[str, float] = {}  # outlet -> monotonic time it became due
        self.fires: collections.deque = collections.deque(maxlen=1000)  # (outlet, when)
        self.children: list[Child] = []
        self.streak: dict[str, int] = {}
        self.backoff_until: dict[str, datetime] = {}
        self.triggers = {o.id: schedule_trigger(o.schedule, config.timezone)
                         for o in config.outlets}
        self.warned: dict[str, set[str]] = {}
        self.scheduler = BackgroundScheduler(timezone=config.timezone, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    # -- scheduling ------------------------------------------------------------------

    def mark_due(self, outlet_id: str) -> None:
        """The job every outlet fire runs: cheap, never blocks the scheduler's threads."""
        with self.lock:
            self.due.setdefault(outlet_id, time.monotonic())
            self.fires.append((outlet_id, clock.now()))
        self.wake.set()

    def recover_runs(self) -> None:
        from newswatch.crawl import recover_stale_runs
        from newswatch.locks import available_locks

        with available_locks(self.config, [o.id for o in self.config.outlets]) as (free, _):
            recover_stale_runs(self.db, free)

    def setup(self) -> None:
        now = clock.now()
        self.recover_runs()
        for outlet in self.config.outlets:
            self.streak[outlet.id] = store.error_streak(self.db, outlet.id)
            last = store.last_started(self.db, outlet.id)
            trigger = self.triggers[outlet.id]
            overdue = is_overdue(trigger, clock.parse_iso(last) if last else None, now)
            self.scheduler.add_job(self.mark_due, trigger, args=[outlet.id],
                                   id=f"outlet:{outlet.id}", name=outlet.id)
            if overdue:
                log.info("outlet %s is overdue (last pass %s): running it now",
                         outlet.id, last or "never")
                self.mark_due(outlet.id)
        self.scheduler.add_job(self.tick, "interval", seconds=FLUSH_SECONDS, id="tick",
                               name="alerts and clock check")
        for watch in self.config.watches:
            if watch.mode == "digest" and watch.digest:
                self.scheduler.add_job(self.flush, schedule_trigger(watch.digest,
                                                                    self.config.timezone),
                                       id=f"digest:{watch.name}", name=f"digest {watch.name}")

    def tick(self) -> None:
        self.flush()
        self.realign()

    def flush(self) -> None:
        """Send due alerts, retries and digests (newswatch.alerts owns the rules). Runs on
        the scheduler's threads with a connection of its own, one flush at a time."""
        with self.flush_lock:
            try:
                from newswatch import alerts
                from newswatch.store import open_db

                if self.flush_db is None:
                    self.flush_db = open_db(self.config.database)
                alerts.flush(self.flush_db, self.config)
            except Exception as exc:  # noqa: BLE001 - a mail outage must not stop the daemon
                log.warning("sending alerts failed: %s", exc)

    def realign(self) -> None:
        """After the wall clock moved back, APScheduler would wait out the jump; pull any
        job whose next run lies beyond its schedule's next fire time back to it."""
        now = clock.now()
        for outlet_id, trigger in self.triggers.items():
            job = self.scheduler.get_job(f"outlet:{outlet_id}")
            if job is None or job.next_run_time is None:
                continue
            expected = trigger.inner.get_next_fire_time(None, now)
            if expected is not None and job.next_run_time > expected + timedelta(seconds=1):
                log.warning("clock moved back: outlet %s rescheduled to %s", outlet_id,
                            clock.to_iso(expected))
                job.modify(next_run_time=expected)

    # -- passes ----------------------------------------------------------------------

    def running(self) -> set[str]:
        return {o for c in self.children for o in c.outlets}

    def dispatch(self) -> None:
        now = clock.now()
        with self.lock:
            if not self.due or len(self.children) >= MAX_CHILDREN:
                return
            if time.monotonic() - min(self.due.values()) < GATHER_SECONDS:
                return
            busy = self.running()
            batch = []
            for outlet_id in sorted(self.due):
                if outlet_id in busy:
                    continue  # stays due: runs once right after the current pass
                del self.due[outlet_id]
                until = self.backoff_until.get(outlet_id)
                if until and now < until:
                    log.warning("pass outlet=%s skipped: backing off after %d failures "
                                "until %s", outlet_id, self.streak.get(outlet_id, 0),
                                clock.to_iso(until))
                    continue
                batch.append(outlet_id)
        if batch:
            self.launch(batch)

    def child_command(self, outlet_ids: list[str]) -> list[str]:
        cmd = [sys.executable, "-m", "newswatch", "--config", str(self.config.path)]
        if self.verbose:
            cmd.append("--verbose")
        if self.log_format != "text":
            cmd += ["--log-format", self.log_format]
        return cmd + ["_pass", *outlet_ids]

    def launch(self, outlet_ids: list[str]) -> None:
        last_id = store.newest_run_id(self.db)
        process = subprocess.Popen(self.child_command(outlet_ids), start_new_session=True,
                                   stdin=subprocess.DEVNULL)
        log.debug("pass started pid=%d outlets=%s", process.pid, ",".join(outlet_ids))
        self.children.append(Child(process, outlet_ids, last_id, time.monotonic()))

    def reap(self) -> None:
        for child in list(self.children):
            code = child.process.poll()
            if code is None:
                continue
            self.children.remove(child)
            self.record(child, code)
        self.write_state()

    def record(self, child: Child, code: int) -> None:
        from newswatch.health import notify_operator, outlet_health

        now = clock.now()
        for outlet_id in child.outlets:
            row = store.last_run_after(self.db, outlet_id, child.last_run_id)
            if row is None:
                if code in (0, EXIT_BUSY):
                    continue  # busy: a manual crawl has it; not a failure
                failed, why = True, f"the pass exited with code {code} before starting"
            else:
                failed, why = row["status"] == "error", row["message"] or ""
                if row["status"] == "interrupted":
                    continue
            if failed:
                streak = self.streak.get(outlet_id, 0) + 1
                self.streak[outlet_id] = streak
                delay = backoff_delay(streak)
                if delay:
                    self.backoff_until[outlet_id] = now + timedelta(seconds=delay)
                log.warning("outlet %s failed %d time%s in a row%s: %s", outlet_id, streak,
                            "s" if streak != 1 else "",
                            f"; next try in {delay:.0f} s or later" if delay else "", why)
            else:
                self.streak[outlet_id] = 0
                self.backoff_until.pop(outlet_id, None)
        try:
            warnings = [w for w in outlet_health(self.db, self.config)
                        if w["outlet"] in child.outlets]
        except Exception as exc:  # noqa: BLE001 - health checks must never stop passes
            log.warning("health check failed: %s", exc)
            return
        fresh = []
        for outlet_id in child.outlets:
            current = {w["message"] for w in warnings if w["outlet"] == outlet_id}
            for message in sorted(current - self.warned.get(outlet_id, set())):
                log.warning("health outlet=%s: %s", outlet_id, message)
                fresh.append({"outlet": outlet_id, "message": message})
            self.warned[outlet_id] = current
        if fresh:
            try:
                notify_operator(self.db, self.config, fresh)
            except Exception as exc:  # noqa: BLE001
                log.warning("mailing the operator failed: %s", exc)

    def write_state(self) -> None:
        outlets = {}
        running = self.running()
        for outlet in self.config.outlets:
            job = self.scheduler.get_job(f"outlet:{outlet.id}")
            until = self.backoff_until.get(outlet.id)
            nxt = job.next_run_time if job else None
            if until and nxt and nxt < until:
                nxt = self.triggers[outlet.id].inner.get_next_fire_time(None, until)
            outlets[outlet.id] = {
                "next_pass": clock.to_iso(nxt) if nxt else None,
                "error_streak": self.streak.get(outlet.id, 0),
                "backoff_until": clock.to_iso(until) if until else None,
                "running": outlet.id in running,
            }
        state = {"pid": os.getpid(), "written": clock.now_iso(), "outlets": outlets}
        path = state_path(self.config)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            log.debug("cannot write %s: %s", path, exc)

    # -- lifecycle -------------------------------------------------------------------

    def request_stop(self, signum=None, frame=None) -> None:
        self.stopping = True

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.request_stop)
        self.setup()
        self.scheduler.start()
        log.info("newswatch daemon: %d outlets scheduled (pid %d)", len(self.config.outlets),
                 os.getpid())
        stale = refold_warning(self.db)  # an archive folded by older rules: say how to fix
        if stale:
            log.warning("%s", stale)
        self.write_state()
        try:
            while not self.stopping:
                self.wake.wait(0.25)
                self.wake.clear()
                self.reap()
                if not self.stopping:
                    self.dispatch()
        finally:
            self.shutdown()
        return 0

    def remove_state(self) -> None:
        """`newswatch status` reads the state file as "a daemon runs": gone once stopped."""
        try:
            state_path(self.config).unlink()
        except OSError:
            pass

    def shutdown(self) -> None:
        from newswatch.crawl import recover_stale_runs
        from newswatch.locks import available_locks

        self.scheduler.shutdown(wait=False)
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + CHILD_STOP_SECONDS
        for child in self.children:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pass of %s did not stop: killing it", ",".join(child.outlets))
                child.process.kill()
                child.process.wait()
        outlets = sorted({o for c in self.children for o in c.outlets})
        if outlets:
            with available_locks(self.config, outlets) as (free, _):
                recover_stale_runs(self.db, free)
        self.children.clear()
        self.remove_state()
        self.db.close()
        if not self.flush_lock.acquire(timeout=1):
            # An email is being sent (its SMTP deadline can be 30 s) and the interpreter
            # would wait for that thread at exit. The outbox row is claimed in the
            # database, and newswatch.alerts picks such rows up again on the next flush.
            log.info("newswatch daemon stopped (an email in flight is retried next start)")
            logging.shutdown()
            os._exit(0)
        if self.flush_db is not None:
            self.flush_db.close()
        self.flush_lock.release()
        log.info("newswatch daemon stopped")


class ClusterDaemon(Daemon):
    """`newswatch run` with a job queue (newswatch.cluster): the same schedules, but a due
    pass or flush is deferred to the queue, for `newswatch worker` processes to run. The
    queueing lock keeps one waiting pass per outlet, so several schedulers may run at once;
    backoff is read from the store (shared by all schedulers), not from children."""

    def __init__(self, config, *, workers: int = 1, **kw):
        from newswatch.cluster import queue_url, quiet_queue_logs
        from newswatch.cluster.local import LocalWorker
        from newswatch.cluster.schedule import Queue

        super().__init__(config, **kw)
        quiet_queue_logs(self.verbose)
        self.queue = Queue(queue_url(config))
        self.next_recovery = 0.0
        self.worker = LocalWorker(str(config.path), workers, verbose=self.verbose,
                                  log_format=self.log_format)

    def setup(self) -> None:
        super().setup()
        self.worker.start()

    def recover_runs(self) -> None:
        pass  # workers own the runs: a dead worker's pass is retried, then recovered

    def flush(self) -> None:
        try:
            self.queue.defer_flush()
        except Exception as exc:  # noqa: BLE001 - a queue outage must not stop the daemon
            log.warning("queueing a flush failed: %s", exc)

    def dispatch(self) -> None:
        now = clock.now()
        with self.lock:
            due, self.due = sorted(self.due), {}
        for outlet_id in due:
            streak = store.error_streak(self.db, outlet_id)
            last = store.last_started(self.db, outlet_id)
            delay = backoff_delay(streak)
            if delay and last and now < clock.parse_iso(last) + timedelta(seconds=delay):
                log.warning("pass outlet=%s skipped: backing off after %d failures", outlet_id,
                            streak)
                continue
            try:
                self.queue.defer_pass(outlet_id)
            except Exception as exc:  # noqa: BLE001 - retried at the next fire
                log.warning("queueing a pass of %s failed: %s", outlet_id, exc)

    def reap(self) -> None:
        from newswatch.cluster import check_interval

        if time.monotonic() >= self.next_recovery:
            self.next_recovery = time.monotonic() + check_interval(
                self.config.cluster.stalled_after)
            try:
                self.queue.recover_stalled(self.config.cluster.stalled_after)
            except Exception as exc:  # noqa: BLE001
                log.warning("looking for stalled passes failed: %s", exc)
        self.worker.check()
        self.write_state()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.worker.stop()
        self.queue.close()
        self.remove_state()
        self.db.close()
        log.info("newswatch scheduler stopped")


def main(config, verbose: bool = False, log_format: str = "text", workers: int = 1) -> int:
    """Run the daemon until SIGTERM/SIGINT (`newswatch run`). The children get the same
    --verbose and --log-format. With a job queue (a PostgreSQL `database` or [cluster]
    queue) passes are queued instead (ClusterDaemon), run by `newswatch worker` processes,
    among them `workers` passes at once beside this scheduler."""
    from newswatch.cluster import queue_url

    if queue_url(config):
        return ClusterDaemon(config, workers=workers, verbose=verbose,
                             log_format=log_format).run()
    return Daemon(config, verbose=verbose, log_format=log_format).run()
