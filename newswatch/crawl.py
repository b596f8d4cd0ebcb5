"""One crawl pass: every selected outlet crawled by one OutletSpider inside one Scrapy
CrawlerProcess, then alerts flushed.

A Twisted reactor cannot be restarted, so a process runs at most one pass; the daemon
(`scheduler.py`) starts a `newswatch crawl` child process per pass, which also keeps the
daemon's memory flat over months.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import clock
from .db import open_db

if TYPE_CHECKING:
    import sqlite_utils

    from .config import Config, Outlet

log = logging.getLogger("newswatch.crawl")

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

    @property
    def store(self):
        # One store for all outlets, so a wire copy on two outlets in one pass is still
        # seen as one story.
        if self._store is None:
            from pipelines.store import ArticleStore

            self._store = ArticleStore(self)
        return self._store

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
        ms = int((time.monotonic() - stats.started) * 1000)
        with self.db.atomic():
            self.db["runs"].update(stats.run_id, {
                "finished": clock.now_iso(), "status": status, "pages": stats.pages,
                "new_articles": stats.new, "duplicates": stats.duplicates,
                "errors": stats.errors, "ms": ms,
                "message": message or "; ".join(stats.error_messages[:5]),
            })
            if status == "ok":
                self.db.execute(
                    "UPDATE outlets SET first_pass_done = coalesce(first_pass_done, ?) WHERE id = ?",
                    [clock.now_iso(), stats.outlet])
        log.info("pass outlet=%s status=%s found=%d new=%d updated=%d duplicates=%d "
                 "errors=%d ms=%d", stats.outlet, status, stats.found, stats.new,
                 stats.updated, stats.duplicates, stats.errors, ms)


def run_pass(config: Config, outlet_ids: list[str] | None = None, *,
             verbose: bool = False, deliver: bool = True) -> list[RunStats]:
    """Crawl the given outlets (default: all) once, store what is new, match watches and
    send the alerts. Returns per-outlet stats. Runs a reactor: once per process."""
    from scrapy.crawler import CrawlerProcess

    from spiders.outlet import OutletSpider
    from spiders.settings import crawl_settings

    from . import alerts

    outlets = select_outlets(config, outlet_ids)
    db = open_db(config.database)
    ctx = PassContext(config, db)
    alerts.sync_watches(db, config)
    with db.atomic():
        # Recover anything a killed pass stored but did not match.
        alerts.match_pending(db, config)

    process = CrawlerProcess(crawl_settings(config, verbose=verbose), install_root_handler=False)
    for outlet in outlets:
        # Per-outlet settings ride on a subclass: Scrapy reads them per crawler.
        spidercls = type(f"OutletSpider_{outlet.id}", (OutletSpider,), {
            "custom_settings": {"ROBOTSTXT_OBEY": outlet.obey_robots}})
        process.crawl(spidercls, outlet=outlet, ctx=ctx)
    try:
        process.start(install_signal_handlers=True)
    finally:
        ctx.store.flush()
        pool = getattr(ctx, "_extractor_pool", None)
        if pool is not None:
            pool.close()

    results = list(ctx.stats.values())
    if deliver:
        alerts.flush(db, config)
    db.close()
    return results


def select_outlets(config: Config, outlet_ids: list[str] | None) -> list[Outlet]:
    from .errors import UsageError

    if not outlet_ids:
        return list(config.outlets)
    by_id = {o.id: o for o in config.outlets}
    unknown = [i for i in outlet_ids if i not in by_id]
    if unknown:
        raise UsageError(f"unknown outlet {', '.join(unknown)}; configured: {', '.join(by_id)}")
    return [by_id[i] for i in outlet_ids]

