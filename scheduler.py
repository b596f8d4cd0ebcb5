"""`newswatch run`: the daemon. APScheduler 3 runs each outlet on its cron schedule; each
pass is a `newswatch crawl OUTLET` child process (a Twisted reactor runs once per process,
and a child per pass keeps the daemon's memory flat)."""

from __future__ import annotations

import logging
import subprocess
import sys

from apscheduler.schedulers.blocking import BlockingScheduler

from newswatch.config import cron_trigger

log = logging.getLogger("newswatch.scheduler")


def crawl_command(config, outlet_id: str) -> list[str]:
    return [sys.executable, "-m", "newswatch", "--config", str(config.path), "crawl", outlet_id]


def run_outlet(config, outlet_id: str) -> int:
    result = subprocess.run(crawl_command(config, outlet_id), check=False)
    if result.returncode:
        log.warning("pass outlet=%s exited %s", outlet_id, result.returncode)
    return result.returncode


def build_scheduler(config) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=config.timezone)
    for outlet in config.outlets:
        scheduler.add_job(
            run_outlet, cron_trigger(outlet.schedule, config.timezone),
            args=[config, outlet.id], id=f"outlet:{outlet.id}", name=outlet.id,
            coalesce=True, max_instances=1, misfire_grace_time=None)
    return scheduler


def main(config, verbose: bool = False) -> int:
    scheduler = build_scheduler(config)
    log.info("newswatch daemon: %d outlets scheduled", len(config.outlets))
    scheduler.start()
    return 0
