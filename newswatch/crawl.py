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
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import clock
from .errors import DatabaseError
from .store import Store, database_errors, open_db

if TYPE_CHECKING:
    from scrapy.crawler import CrawlerProcess

    from .config import Config, Outlet
    from .store.batch import ArticleStore, WritePath
    from .workers import ExtractorPool

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
    unchanged: int = 0  # discovery responses answered 304 Not Modified
    pages: int = 0  # responses received (feeds, sitemaps, listings, articles)
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)
    # Distinct causes of failed discovery requests (feeds, sitemaps, listing pages), without
    # their URLs: what an outlet that could not be fetched at all is reported with.
    causes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    status: str | None = None  # ok | error | interrupted, once finished

    def error(self, message: str, cause: str | None = None) -> None:
        self.errors += 1
        if len(self.error_messages) < 20:
            self.error_messages.append(message)
        if cause and cause not in self.causes and len(self.causes) < 5:
            self.causes.append(cause)

    @property
    def cause(self) -> str:
        """Why nothing of this outlet could be fetched (for a run whose status is error)."""
        return "; ".join(self.causes) or "; ".join(self.error_messages[:3])


@dataclass
class PassContext:
    """What every spider, middleware and pipeline of one pass shares, handed to each
    spider explicitly (`OutletSpider(outlet, ctx)`): the config, one store (all Scrapy
    callbacks run on one thread), its one write path, the article batch writer shared by
    all outlets (a wire copy on two outlets in one pass is still one story), the
    extraction pool, and per-outlet stats."""

    config: Config
    store: Store
    writes: WritePath
    articles: ArticleStore
    stats: dict[str, RunStats]
    pool: ExtractorPool | None = None
    process: CrawlerProcess | None = None  # so that a database failure can stop it

    @classmethod
    def create(cls, config: Config, store: Store, *,
               pool: ExtractorPool | None = None) -> "PassContext":
        # Imported here: the daemon reaches this module for recover_stale_runs only, and
        # need not load numpy (dedup) or the worker pool for it.
        from . import alerts
        from .store.batch import ArticleStore, WritePath

        stats: dict[str, RunStats] = {}
        writes = WritePath(store)
        articles = ArticleStore(store, writes, stats,
                                match=lambda s: alerts.match_pending(s, config), config=config)
        ctx = cls(config, store, writes, articles, stats, pool)
        writes.on_fatal = ctx._stop
        return ctx

    @property
    def fatal(self) -> Exception | None:
        return self.writes.fatal

    def _stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def on_failure(self, failure, *args, **kwargs) -> None:
        if isinstance(failure.value, self.store.errors):
            self.writes.abort(failure.value)

    def start_run(self, outlet: Outlet) -> RunStats:
        stats = RunStats(outlet.id)
        stats.run_id = self.store.start_run(outlet.id, outlet.name, clock.now_iso())
        self.stats[outlet.id] = stats
        return stats

    def finish_run(self, stats: RunStats, status: str, message: str = "") -> None:
        if stats.finished or stats.run_id is None:
            return  # a forced stop already recorded it
        if self.fatal is not None:
            return  # the database cannot be written; the next pass marks it interrupted
        stats.finished = True
        stats.status = status
        ms = int((time.monotonic() - stats.started) * 1000)
        if not message:
            message = stats.cause if status == "error" else "; ".join(stats.error_messages[:5])
        row = {
            "finished": clock.now_iso(), "status": status, "pages": stats.pages,
            "new_articles": stats.new, "duplicates": stats.duplicates,
            "errors": stats.errors, "ms": ms,
            "message": message,
            # health: discovery finding no links. A 304 says the links are still there,
            # unchanged, so a pass that found nothing else records "unknown" (NULL), not 0.
            "found": None if stats.found == 0 and stats.unchanged else stats.found,
        }
        if not self.writes.write(self.store.finish_run, stats.run_id, stats.outlet, row,
                                 clock.now_iso()):
            return
        # One line per outlet; one that could not be fetched at all says why, as a warning.
        log.log(logging.WARNING if status == "error" else logging.INFO,
                "pass outlet=%s status=%s found=%d new=%d updated=%d duplicates=%d "
                "errors=%d ms=%d%s", stats.outlet, status, stats.found, stats.new,
                stats.updated, stats.duplicates, stats.errors, ms,
                f": {message}" if status == "error" else "",
                 extra={"nw_pass": {"outlet": stats.outlet, "status": status,
                                    "found": stats.found, "new": stats.new,
                                    "updated": stats.updated,
                                    "duplicates": stats.duplicates,
                                    "errors": stats.errors, "ms": ms,
                                    **({"cause": message} if status == "error" else {})}})

    def finish_unfinished(self, message: str) -> None:
        for stats in self.stats.values():
            self.finish_run(stats, "interrupted", message)

    def save_validators(self, outlet_id: str, rows: list[dict], clean: bool) -> None:
        """Conditional-GET validators of an outlet's finished pass, only after its articles
        are stored: a 304 next time must never hide an article still in a buffer."""
        self.articles.flush(outlet_id)
        if self.fatal is not None:
            # The pass stopped on a database error: its articles were not stored, so no
            # validator may be either (a 304 next time would hide those articles).
            return
        if rows:
            self.writes.write(self.store.save_validators, rows, clean)

    def recheck_due(self, canonical: str, updated: str | None) -> bool:
        return recheck_due(self.store, self.config, canonical, updated)


def recheck_due(store: Store, config: Config, canonical: str, updated: str | None) -> bool:
    """Should a known article be fetched again to catch a correction? Only when it was
    first seen within the `recheck` window and its feed entry or sitemap lastmod
    (`updated`, ISO 8601) is newer than when we last fetched it. An unchanged feed
    therefore costs no article requests."""
    if not updated:
        return False
    window = config.defaults.recheck
    if not window:
        return False
    row = store.article_seen(canonical)
    if row is None:
        return False
    try:
        changed = clock.parse_iso(updated)
    except ValueError:
        return False
    first_seen, last_seen = clock.parse_iso(row["first_seen"]), clock.parse_iso(row["last_seen"])
    return first_seen >= clock.now() - window and changed > last_seen


def run_pass(config: Config, outlet_ids: list[str] | None = None, *,
             verbose: bool = False, deliver: bool = True) -> list[RunStats]:
    """Crawl the given outlets (default: all) once, store what is new, match watches and
    send the alerts. Returns per-outlet stats. Runs a reactor: once per process.
    A database that cannot be written (disk full, read-only) raises DatabaseError."""
    outlets = select_outlets(config, outlet_ids)
    try:
        return _run_pass(config, outlets, verbose=verbose, deliver=deliver)
    except database_errors(config.database) as exc:  # the backend's own errors
        detail = " ".join(str(exc).split())  # psycopg's messages span lines
        raise DatabaseError(f"{config.database}: {detail}") from exc


def _run_pass(config: Config, outlets: list[Outlet], *, verbose: bool,
              deliver: bool) -> list[RunStats]:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from spiders.outlet import OutletSpider
    from spiders.settings import crawl_settings

    from . import alerts
    from .workers import ExtractorPool

    store = open_db(config.database)
    # Callers hold the outlets' pass locks, so a 'running' row of these outlets belongs to
    # a pass that was killed (SIGKILL, power loss): record it as interrupted.
    recover_stale_runs(store, [o.id for o in outlets])
    ctx = PassContext.create(config, store, pool=ExtractorPool(config.crawl.workers))
    alerts.sync_watches(store, config)
    with store.transaction():
        # Recover anything a killed pass stored but did not match.
        alerts.match_pending(store, config)

    process = CrawlerProcess(crawl_settings(config, verbose=verbose))
    if not verbose:
        # Scrapy's logging setup (dictConfig) sets its loggers back to DEBUG: its own
        # chatter stays at WARNING unless --verbose.
        for name in ("scrapy", "twisted", "filelock", "py.warnings"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # Every download failure is reported by the spider (one line per outlet or
        # article, with its cause): Scrapy's own ERRORs for them ("Gave up retrying",
        # tracebacks) would repeat it.
        logging.getLogger("scrapy.downloadermiddlewares").setLevel(logging.CRITICAL)
        logging.getLogger("scrapy.core.downloader").setLevel(logging.CRITICAL)
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
            ctx.articles.flush()
            ctx.finish_unfinished("the pass ended before its spider closed")
        ctx.pool.close()

    if ctx.fatal is not None:
        store.close()
        raise DatabaseError(f"{config.database}: {ctx.fatal}") from ctx.fatal
    results = list(ctx.stats.values())
    prune(store)
    if deliver and not stopper.signalled:
        # After a signal, delivery waits for the next pass or the daemon's flush: an SMTP
        # timeout must not hold up a stop.
        alerts.flush(store, config)
    store.close()
    return results


def prune(store: Store) -> None:
    """Keep the working tables flat over months: near-duplicate bands and one-page template
    blocks older than the dedup window go (stored articles are never pruned)."""
    from datetime import timedelta

    from . import dedup, templates

    from spiders.failures import FORGET_AFTER

    cutoff = clock.now() - timedelta(days=DEDUP_WINDOW_DAYS)
    with store.transaction():
        dedup.prune(store, cutoff)
        templates.prune(store, clock.to_iso(cutoff))
        store.prune_url_failures(clock.to_iso(clock.now() - FORGET_AFTER))


def select_outlets(config: Config, outlet_ids: list[str] | None) -> list[Outlet]:
    from .errors import UsageError

    if not outlet_ids:
        return list(config.outlets)
    by_id = {o.id: o for o in config.outlets}
    unknown = [i for i in outlet_ids if i not in by_id]
    if unknown:
        raise UsageError(f"unknown outlet {', '.join(unknown)}; configured: {', '.join(by_id)}")
    return [by_id[i] for i in outlet_ids]


def recover_stale_runs(store: Store, outlet_ids: list[str]) -> int:
    """Mark 'running' rows of these outlets 'interrupted'. Call only while holding their
    pass locks (no live pass can own such a row then)."""
    return store.recover_stale_runs(outlet_ids, clock.now_iso())


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
            self.ctx.articles.flush()
            self.ctx.finish_unfinished("stopped by a signal")
            self.ctx.store.close()
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
