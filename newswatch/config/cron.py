"""Crontab expressions with crontab's meaning, as APScheduler 3 triggers."""

from __future__ import annotations

import re
from typing import Any

from apscheduler.triggers.cron import CronTrigger

# APScheduler 3 numbers weekdays from Monday = 0; crontab from Sunday = 0 (and 7).
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_APS_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_PART = re.compile(r"(\*|[0-7]|[a-z]{3})(?:-([0-7]|[a-z]{3}))?(?:/(\d+))?")


def _cron_day(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token in _CRON_DAYS:
        return _CRON_DAYS.index(token)
    raise ValueError(f"unknown weekday {token!r}")


def _crontab_weekdays(text: str) -> str:
    """A crontab day-of-week field in APScheduler's terms, as explicit day names."""
    days: set[int] = set()
    for part in text.lower().split(","):
        m = _DOW_PART.fullmatch(part)
        if not m:
            raise ValueError(f"bad day-of-week {part!r}")
        first, last, step = m.group(1), m.group(2), int(m.group(3) or 1)
        if step < 1:
            raise ValueError(f"bad step in day-of-week {part!r}")
        if first == "*":
            if last:
                raise ValueError(f"bad day-of-week {part!r}")
            lo, hi = 0, 6
        else:
            lo = _cron_day(first)
            hi = _cron_day(last) if last else (7 if m.group(3) else lo)
        if lo > hi:
            raise ValueError(f"day-of-week range {part!r} runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_APS_DAYS[(d - 1) % 7] for d in sorted(days, key=lambda d: (d - 1) % 7))


def cron_trigger(expr: str, timezone: Any = "UTC") -> CronTrigger:
    """An APScheduler trigger for a 5-field crontab expression with crontab's meaning.

    Day-of-week numbers are translated to names (0 and 7 = Sunday, 1-5 = Monday to
    Friday) because APScheduler 3's `from_crontab` reads 0 as Monday. Raises ValueError.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    if fields[2] != "*" and fields[4] != "*":
        # crontab runs when EITHER field matches; APScheduler requires both. Refuse
        # rather than silently run on fewer days than the user expects.
        raise ValueError(
            "day-of-month and day-of-week are both restricted; crontab would run when "
            "either matches, which cannot be scheduled exactly: restrict only one"
        )
    fields[4] = _crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)

