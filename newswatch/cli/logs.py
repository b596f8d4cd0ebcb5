"""Logging for every command: one handler on stderr, text or JSON lines, libraries quiet
unless --verbose."""

from __future__ import annotations

import json
import logging
import sys

from .. import clock

LIBRARIES = ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "courlan",
             "filelock", "asyncio", "apscheduler")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner swaps it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def setup_logging(verbose: bool, fmt: str) -> None:
    handler = StderrHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if not verbose:
        # Scrapy resets its loggers' levels when a crawl starts: its chatter is filtered here.
        handler.addFilter(quiet_libraries)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        for noisy in ("scrapy", "twisted", "trafilatura", "htmldate", "courlan", "apscheduler",
                      "filelock", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def quiet_libraries(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(LIBRARIES)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": clock.to_iso(clock.now()), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        # A pass's figures ride on the record (newswatch.crawl), as fields for log shippers.
        data.update(getattr(record, "nw_pass", None) or {})
        return json.dumps(data, ensure_ascii=False)
