"""Cron triggers for the daemon: APScheduler's CronTrigger with the guards it lacks."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from .config import cron_trigger

# Test and bench setting: read a schedule's minute field as seconds ("*/3 * * * *" fires
# every 3 seconds). Never needed in production.
SECONDS_ENV = "NEWSWATCH_SCHEDULE_SECONDS"


class GuardedTrigger(BaseTrigger):
    """A cron trigger with two guards APScheduler 3 lacks.

    - After a clock jump or a long suspend, APScheduler asks for next fire times one by
      one until it passes `now` (thousands of calls for a minutely schedule after a month);
      here the next time is computed from `now` at once. The overdue time itself is still
      returned first, so the missed runs coalesce into one run.
    - When DST ends, a fixed wall-clock time such as 02:30 exists twice and APScheduler
      fires at both; a fire time with the same wall-clock reading as the previous one is
      skipped, as cron does. Wildcard schedules (*/15) keep running through the hour.
    """

    def __init__(self, inner: CronTrigger):
        self.inner = inner

    def get_next_fire_time(self, previous_fire_time, now):
        previous = previous_fire_time
        if previous is not None and previous < now:
            nxt = self.inner.get_next_fire_time(None, now)
            if nxt is not None and nxt <= previous:
                nxt = self.inner.get_next_fire_time(previous, previous)
        else:
            nxt = self.inner.get_next_fire_time(previous, now)
        if nxt is not None and previous is not None and \
                nxt.replace(tzinfo=None) == previous.replace(tzinfo=None):
            nxt = self.inner.get_next_fire_time(nxt, nxt)
        return nxt

    def __str__(self) -> str:
        return f"guarded {self.inner}"


def schedule_trigger(expr: str, timezone: str) -> GuardedTrigger:
    if os.environ.get(SECONDS_ENV):
        return GuardedTrigger(CronTrigger(second=expr.split()[0], timezone=timezone))
    return GuardedTrigger(cron_trigger(expr, timezone))


def is_overdue(trigger: GuardedTrigger, last_started: datetime | None, now: datetime) -> bool:
    """True if a fire time passed since the last pass started (or there was none)."""
    if last_started is None:
        return True
    # +1 s: a pass starts a moment after its fire time, never before it.
    nxt = trigger.inner.get_next_fire_time(None, last_started + timedelta(seconds=1))
    return nxt is not None and nxt <= now
