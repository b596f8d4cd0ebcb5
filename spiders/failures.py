"""Per-URL backoff for article pages that fail, so that a page that stalls, 404s or is too
large is not fetched again every pass (the rows live in the store's `url_failures`).

- transient (a timeout, a 5xx after Scrapy's retries, a refused or reset connection,
  robots.txt unreachable): left alone for a delay that doubles with each failure in a
  row, from TRANSIENT_FIRST up to TRANSIENT_CAP;
- permanent (404/410 and other 4xx, too large, not HTML or no article text, disallowed by
  robots.txt, out of scope): PERMANENT_DELAY, or until its feed entry changes (a new date
  or title there means the page may have changed too).

A URL whose delay is over is retried in the next pass even when its feed answers 304
(the spider schedules it from this table when discovery is done). A page that times out
costs one timeout per pass: article requests are not retried after a timeout
(`ArticleTimeoutMiddleware`; feeds keep Scrapy's retries).
"""

from __future__ import annotations

import json
from datetime import timedelta

from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from twisted.internet.error import TCPTimedOutError, TimeoutError

from newswatch import clock

TRANSIENT, PERMANENT = "transient", "permanent"
TRANSIENT_FIRST = timedelta(minutes=30)
TRANSIENT_CAP = timedelta(days=1)
PERMANENT_DELAY = timedelta(days=7)
FORGET_AFTER = timedelta(days=30)  # a URL failing for a month is tried afresh if listed

TIMEOUTS = (DownloadTimeoutError, TimeoutError, TCPTimedOutError)
TRANSIENT_STATUS = {408, 425, 429}


def delay(kind: str, failures: int) -> timedelta:
    """How long a URL that failed `failures` times in a row (kind of the last) waits."""
    if kind == PERMANENT:
        return PERMANENT_DELAY
    return min(TRANSIENT_CAP, TRANSIENT_FIRST * 2 ** max(0, failures - 1))


def classify(exc: BaseException) -> str:
    """TRANSIENT or PERMANENT for an errback's exception."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status", None)
    if status is not None:  # HttpError: the server answered
        return PERMANENT if 400 <= status < 500 and status not in TRANSIENT_STATUS \
            else TRANSIENT
    if isinstance(exc, IgnoreRequest):
        # robots.txt that could not be read says nothing about the page itself
        return TRANSIENT if "robots.txt unreachable" in str(exc) else PERMANENT
    if "larger than download max size" in str(exc):
        return PERMANENT  # DOWNLOAD_MAXSIZE cut it off
    return TRANSIENT


def entry_key(title: str | None, updated: str | None) -> str | None:
    """What a feed or sitemap said about a URL, to tell when its entry changed."""
    if not title and not updated:
        return None
    return f"{updated or ''}|{title or ''}"


class FailureBook:
    """One outlet's failing URLs during a pass: read once when its spider starts, written
    through the pass's write path."""

    def __init__(self, ctx, outlet_id: str):
        self.ctx = ctx
        self.outlet_id = outlet_id
        self.now = clock.now_iso()
        self.rows: dict[str, dict] = ctx.store.url_failures(outlet_id)
        self.held = 0  # requests not made this pass because of a backoff

    def holds(self, canonical: str, entry: str | None) -> bool:
        """Is this URL left alone this pass?"""
        row = self.rows.get(canonical)
        if row is None or row["retry_after"] <= self.now:
            return False
        if row["kind"] == PERMANENT and entry and row["entry"] and entry != row["entry"]:
            return False  # its feed entry changed: the page may have been fixed
        self.held += 1
        return True

    def due(self) -> list[dict]:
        """Rows whose delay is over (retried even if discovery did not list them)."""
        return [r for r in self.rows.values() if r["retry_after"] <= self.now]

    def failed(self, canonical: str, kind: str, reason: str, *, fetch_url: str | None = None,
               entry: str | None = None, hints: dict | None = None) -> None:
        previous = self.rows.get(canonical)
        now = clock.now()
        failures = (previous["failures"] or 0) + 1 if previous else 1
        row = {
            "url": canonical, "outlet": self.outlet_id, "kind": kind, "reason": reason,
            "failures": failures,
            "first_failed": previous["first_failed"] if previous else clock.to_iso(now),
            "last_failed": clock.to_iso(now),
            "retry_after": clock.to_iso(now + delay(kind, failures)),
            "entry": entry if entry is not None else (previous or {}).get("entry"),
            "fetch_url": fetch_url or (previous or {}).get("fetch_url") or canonical,
            "hints": json.dumps(hints) if hints else (previous or {}).get("hints"),
        }
        self.rows[canonical] = row
        self.ctx.writes.write(self.ctx.store.save_url_failure, row)

    def succeeded(self, canonical: str) -> None:
        if self.rows.pop(canonical, None) is not None:
            self.ctx.writes.write(self.ctx.store.clear_url_failure, canonical)


class ArticleTimeoutMiddleware:
    """An article page that timed out is not retried in this pass (one timeout, not three):
    its URL backs off instead. Sits above RetryMiddleware (550), whose process_exception
    runs after this one and honours `dont_retry`."""

    def process_exception(self, request, exception, spider=None):
        if request.meta.get("nw_kind") == "article" and isinstance(exception, TIMEOUTS):
            request.meta["dont_retry"] = True
        return None
