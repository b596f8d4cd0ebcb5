"""The one clock. Tests fake it (in this process or a child) with NEWSWATCH_FAKE_NOW,
an ISO 8601 instant, so that freshness guards and schedules are testable."""

from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    fake = os.environ.get("NEWSWATCH_FAKE_NOW")
    if fake:
        return parse_iso(fake)
    return datetime.now(timezone.utc)


def now_iso() -> str:
    return to_iso(now())


def to_iso(dt: datetime) -> str:
    """UTC, seconds precision: '2026-11-24T16:18:11+00:00'. Sorts as text."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
