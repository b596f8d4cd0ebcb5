"""One crawl pass: every selected outlet crawled by one OutletSpider inside one Scrapy
CrawlerProcess, then alerts flushed.

A Twisted reactor cannot be restarted, so a process runs at most one pass; the daemon
(`scheduler.py`) starts a `newswatch crawl` child process per pass, which also keeps the
daemon's memory flat over months.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import clock
from .db import open_db
from .errors import DatabaseError

if TYPE_CHECKING:
    import sqlite_utils

    from .config import Config, Outlet

log = logging.getLogger("newswatch.crawl")

DEDUP_WINDOW_DAYS = 30  # copies are looked for among stories of the last 30 days

# SIGTERM/SIGINT: Scrapy's graceful stop waits for in-flight downloads (up to the download
# timeout). After STOP_GRACE seconds we stop harder: store what was extracted, mark the runs
# 'interrupted' and exit, so that a daemon stopping within 10 s never leaves a run
# 'running'. Whatever was not stored is fetched again next pass (its URL is not known yet).
STOP_GRACE = float(os.environ.get("NEWSWATCH_STOP_GRACE", "4"))
EXIT_SIGNALLED = 143

@dataclass
class RunStats:
    """What one outlet's pass did; becomes a row of `runs` and the INFO log line."""

    outlet: str
    run_id: int | None = None
    found: int = 0  # article links discovered (after scope and pattern)
    pages: int = 0  # responses received (feeds, sitemaps, listings, articles)
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: bool = False

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_messages) < 20:
            self.error_messages.append(message)


class PassContext:
    """State shared by every spider and pipeline of one pass: one database connection
    (all Scrapy callbacks run on one thread), the config, and per-outlet stats."""

    def __init__(self, config: Config, db: sqlite_utils.Database):
        self.config = config
        self.db = db
        self.stats: dict[str, RunStats] = {}
        self._store = None
        self.process = None  # the CrawlerProcess, so that a database failure can stop it
        self.fatal: Exception | None = None
        # `runs.found` arrives with a later migration; write it when it exists.
        self._runs_found = "found" in {c.name for c in db["runs"].columns}

    @property
    def store(self):
        # One store for all outlets, so a wire copy on two outlets in one pass is still
        # seen as one story.
        if self._store is None:
            from pipelines.store import ArticleStore

            self._store = ArticleStore(self)
        return self._store

    def on_failure(self, failure, *args, **kwargs) -> None:
        if isinstance(failure.value, sqlite3.Error):
            self.abort(failure.value)

    def abort(self, exc: Exception) -> None:
        """A database write failed (disk full, read-only file, I/O error). Roll back what
        the connection still holds (after a failed COMMIT SQLite may leave the transaction
        open, and later statements would then commit piecemeal), stop the pass, and let
        run_pass raise DatabaseError: exit 3, nothing sent, the next pass starts over from
        whole batches."""
        if self.fatal is None:
            self.fatal = exc
            log.error("database error, stopping the pass: %s", exc)
            if self.process is not None:
                self.process.stop()
        try:
            if self.db.conn.in_transaction:
                self.db.conn.rollback()
        except sqlite3.Error:
            pass

    def write(self, fn, *args, **kwargs) -> bool:
        """Run `fn` in one write transaction. A database failure (disk full, read-only)
        stops the pass through `abort` instead of surfacing as a traceback inside a Scrapy
        callback; after one, nothing more is written."""
        if self.fatal is not None:
            return False
        try:
            with self.db.atomic():
                fn(*args, **kwargs)
        except sqlite3.Error as exc:
            self.abort(exc)
            return False
        return True

    def start_run(self, outlet: Outlet) -> RunStats:
        stats = RunStats(outlet.id)
        with self.db.atomic():
            self.db["outlets"].insert(
                {"id": outlet.id, "name": outlet.name, "first_seen": clock.now_iso()},
                ignore=True,
            )
            self.db["outlets"].update(outlet.id, {"name": outlet.name})
            stats.run_id = self.db["runs"].insert(
                {"outlet": outlet.id, "started": clock.now_iso(), "status": "running",
                 "pages": 0, "new_articles": 0, "duplicates": 0, "errors": 0},
            ).last_pk
        self.stats[outlet.id] = stats
        return stats

    def finish_run(self, stats: RunStats, status: str, message: str = "") -> None:
        if stats.finished or stats.run_id is None:
            return  # a forced stop already recorded it
        if self.fatal is not None:
            return  # the database cannot be written; the next pass marks it interrupted
        stats.finished = True
        ms = int((time.monotonic() - stats.started) * 1000)
        row = {
            "finished": clock.now_iso(), "status": status, "pages": stats.pages,
            "new_articles": stats.new, "duplicates": stats.duplicates,
            "errors": stats.errors, "ms": ms,
            "message": message or "; ".join(stats.error_messages[:5]),
        }
        if self._runs_found:
            row["found"] = stats.found  # health: discovery finding no links
        if not self.write(self._record_finish, stats, row, status):
            return
        log.info("pass outlet=%s status=%s found=%d new=%d updated=%d duplicates=%d "
                 "errors=%d ms=%d", stats.outlet, status, stats.found, stats.new,
                 stats.updated, stats.duplicates, stats.errors, ms,
                 extra={"nw_pass": {"outlet": stats.outlet, "status": status,
                                    "found": stats.found, "new": stats.new,
                                    "updated": stats.updated,
                                    "duplicates": stats.duplicates,
                                    "errors": stats.errors, "ms": ms}})

    def _record_finish(self, stats: RunStats, row: dict, status: str) -> None:
        self.db["runs"].update(stats.run_id, row)
        if status == "ok":
            self.db.execute(
                "UPDATE outlets SET first_pass_done = coalesce(first_pass_done, ?) WHERE id = ?",
                [clock.now_iso(), stats.outlet])

    def finish_unfinished(self, message: str) -> None:
        for stats in self.stats.values():
            self.finish_run(stats, "interrupted", message)

    def recheck_due(self, canonical: str, updated: str | None) -> bool:
        """Should a known article be fetched again to catch a correction? Only when it was
        first seen within the `recheck` window and its feed entry or sitemap lastmod
        (`updated`, ISO 8601) is newer than when we last fetched it. An unchanged feed
        therefore costs no article requests."""
        if not updated:
            return False
        window = self.config.defaults.recheck
        if not window:
            return False
        row = self.db.execute(
            "SELECT first_seen, last_seen FROM articles WHERE url = ? UNION ALL "
            "SELECT a.first_seen, a.last_seen FROM url_aliases u JOIN articles a "
            "ON a.id = u.article_id WHERE u.url = ? LIMIT 1", [canonical, canonical]).fetchone()
        if row is None:
            return False
        try:
            changed = clock.parse_iso(updated)
        except ValueError:
            return False
        first_seen, last_seen = clock.parse_iso(row[0]), clock.parse_iso(row[1])
        return first_seen >= clock.now() - window and changed > last_seen


def run_pass(config: Config, outlet_ids: list[str] | None = None, *,
             verbose: bool = False, deliver: bool = True) -> list[RunStats]:
    """Crawl the given outlets (default: all) once, store what is new, match watches and
    send the alerts. Returns per-outlet stats. Runs a reactor: once per process.
    A database that cannot be written (disk full, read-only) raises DatabaseError."""
    outlets = select_outlets(config, outlet_ids)
    try:
        return _run_pass(config, outlets, verbose=verbose, deliver=deliver)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{config.database}: {exc}") from exc


def _run_pass(config: Config, outlets: list[Outlet], *, verbose: bool,
              deliver: bool) -> list[RunStats]:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from spiders.outlet import OutletSpider
    from spiders.settings import crawl_settings

    from . import alerts

    db = open_db(config.database)
    # Callers hold the outlets' pass locks, so a 'running' row of these outlets belongs to
    # a pass that was killed (SIGKILL, power loss): record it as interrupted.
    recover_stale_runs(db, [o.id for o in outlets])
    ctx = PassContext(config, db)
    alerts.sync_watches(db, config)
    with db.atomic():
        # Recover anything a killed pass stored but did not match.
        alerts.match_pending(db, config)

    process = CrawlerProcess(crawl_settings(config, verbose=verbose))
    if not verbose:
        # Scrapy's logging setup (dictConfig) sets its loggers back to DEBUG: its own
        # chatter stays at WARNING unless --verbose.
        for name in ("scrapy", "twisted", "filelock", "py.warnings"):
            logging.getLogger(name).setLevel(logging.WARNING)
    for outlet in outlets:
        # Per-outlet settings ride on a subclass: Scrapy reads them per crawler.
        spidercls = type(f"OutletSpider_{outlet.id}", (OutletSpider,), {
            "custom_settings": {"ROBOTSTXT_OBEY": outlet.obey_robots}})
        crawler = process.create_crawler(spidercls)
        # A database error in a callback or pipeline stops the pass (Scrapy would log it
        # and go on, losing the batch silently).
        crawler.signals.connect(ctx.on_failure, signal=signals.item_error)
        crawler.signals.connect(ctx.on_failure, signal=signals.spider_error)
        process.crawl(crawler, outlet=outlet, ctx=ctx)
    ctx.process = process
    stopper = _Stopper(process, ctx)
    stopper.install()
    try:
        process.start(install_signal_handlers=False)
    finally:
        stopper.uninstall()
        if ctx.fatal is None:
            ctx.store.flush()
            ctx.finish_unfinished("the pass ended before its spider closed")
        pool = getattr(ctx, "_extractor_pool", None)
        if pool is not None:
            pool.close()

    if ctx.fatal is not None:
        db.close()
        raise DatabaseError(f"{config.database}: {ctx.fatal}") from ctx.fatal
    results = list(ctx.stats.values())
    prune(db)
    if deliver and not stopper.signalled:
        # After a signal, delivery waits for the next pass or the daemon's flush: an SMTP
        # timeout must not hold up a stop.
        alerts.flush(db, config)
    db.close()
    return results


def prune(db) -> None:
    """Keep the working tables flat over months: near-duplicate bands and one-page template
    blocks older than the dedup window go (stored articles are never pruned)."""
    from datetime import timedelta

    from . import dedup, templates

    cutoff = clock.now() - timedelta(days=DEDUP_WINDOW_DAYS)
    with db.atomic():
        dedup.prune(db, cutoff)
        templates.prune(db, clock.to_iso(cutoff))


def select_outlets(config: Config, outlet_ids: list[str] | None) -> list[Outlet]:
    from .errors import UsageError

    if not outlet_ids:
        return list(config.outlets)
    by_id = {o.id: o for o in config.outlets}
    unknown = [i for i in outlet_ids if i not in by_id]
    if unknown:
        raise UsageError(f"unknown outlet {', '.join(unknown)}; configured: {', '.join(by_id)}")
    return [by_id[i] for i in outlet_ids]



def recover_stale_runs(db, outlet_ids: list[str]) -> int:
    """Mark 'running' rows of these outlets 'interrupted'. Call only while holding their
    pass locks (no live pass can own such a row then)."""
    if not outlet_ids:
        return 0
    marks = ",".join("?" * len(outlet_ids))
    with db.atomic():
        cursor = db.execute(
            f"UPDATE runs SET status = 'interrupted', finished = coalesce(finished, ?), "
            f"message = coalesce(message, 'the pass was killed before it finished') "
            f"WHERE status = 'running' AND outlet IN ({marks})",
            [clock.now_iso(), *outlet_ids])
    return cursor.rowcount


class _Stopper:
    """SIGTERM/SIGINT for a pass: a graceful Scrapy stop first; after STOP_GRACE seconds,
    store what is buffered, record the runs as interrupted and exit. A second signal goes
    straight to the hard stop."""

    def __init__(self, process, ctx: PassContext):
        self.process = process
        self.ctx = ctx
        self.signalled = False
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _on_signal(self, signum, frame) -> None:
        from twisted.internet import reactor

        if self.signalled:
            reactor.callFromThread(self._hard_stop)
            return
        self.signalled = True
        reactor.callFromThread(self._graceful, signum)
        # A backstop in case the reactor thread itself is stuck: nothing is written here,
        # the database stays consistent (WAL, one transaction per batch) and the next pass
        # records the run as interrupted.
        backstop = threading.Timer(STOP_GRACE + 3, os._exit, [EXIT_SIGNALLED])
        backstop.daemon = True
        backstop.start()

    def _graceful(self, signum) -> None:
        from twisted.internet import reactor

        log.info("received %s: stopping the pass", signal.Signals(signum).name)
        self.process.stop()
        reactor.callLater(STOP_GRACE, self._hard_stop)

    def _hard_stop(self) -> None:
        # Runs on the reactor thread, between callbacks: no transaction is half done.
        try:
            self.ctx.store.flush()
            self.ctx.finish_unfinished("stopped by a signal")
            self.ctx.db.close()
        finally:
            # Extraction workers (and their fork server) go with us; whatever they were
            # parsing was not stored, so its URL is still unknown and fetched next pass.
            try:
                import psutil

                for child in psutil.Process().children(recursive=True):
                    child.kill()
            except Exception:  # noqa: BLE001 - exiting regardless
                pass
            sys.stderr.flush()
            os._exit(EXIT_SIGNALLED)
