"""Matches -> alerts -> outbox -> delivery.

The path of one alert, and why it can neither be lost nor sent twice:

1. `match_pending` (matching) runs the watches over articles stored with matched = 0 and
   inserts one alert row per (watch, article) (UNIQUE) in the transaction that stored the
   article.
2. `flush` queues (queue): pending alerts of a watch become ONE outbox row holding the
   exact bytes of the email, its Message-ID assigned before rendering; the alerts become
   'queued', in one transaction.
3. `flush` delivers (delivery): claim, send, mark; a crash between the server's acceptance
   and the mark sends the row again with the same Message-ID.

Every function takes the `newswatch.store.Store` first.
"""

from .delivery import PAUSE_ENV, FlushReport, deliver, flush, retry_failed
from .matching import backfill, match_pending, sync_watches
from .queue import queue
from .reports import list_alerts, status_counts, status_problems, watch_test

__all__ = ["PAUSE_ENV", "FlushReport", "backfill", "deliver", "flush", "list_alerts",
           "match_pending", "queue", "retry_failed", "status_counts", "status_problems",
           "sync_watches", "watch_test"]
