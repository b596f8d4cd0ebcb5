"""Matches -> alert rows, in the transaction that stored the articles.

Each (watch, article) gets one alert row (UNIQUE) whose state is decided here: 'pending',
or 'skipped' with a reason (too old, a duplicate of a story already alerted, stored before
the watch existed or was edited)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock
from ..errors import UsageError
from ..store.threads import COVERAGE
from ..watches import active_watches

BATCH = 1000  # articles per match_batch call: every watch runs once per batch


def sync_watches(store, config) -> None:
    """Record each configured watch with when it appeared and when its query last changed,
    so stories stored before either are never mailed."""
    store.sync_watches([(w.name, w.query) for w in active_watches(config, store)],
                       clock.now_iso())


def _since(store) -> dict[str, str]:
    """Per watch name: the instant before which stored stories are not its business."""
    return {w["name"]: max(w["created"] or "", w["query_changed"] or "")
            for w in store.watches()}


def _decide(watch, since: str, article: dict, now: datetime,
            alerted: set[tuple[str, int]]) -> tuple[str, str | None]:
    if article["first_seen"] < since:
        return "skipped", "stored before the watch was created or its query changed"
    original = article["duplicate_of"]
    if original is not None and (watch.name, original) in alerted:
        return "skipped", f"duplicate of article {original}"
    published = article["published"]
    if published:
        try:
            age = now - clock.parse_iso(published)
        except ValueError:
            age = None
        if age is not None and age > watch.alert_max_age:
            return "skipped", (f"published {published}, longer ago than alert_max_age "
                               f"({_duration(watch.alert_max_age)})")
    return "pending", None


def _threads_of(store, watches, articles: dict) -> tuple[dict, set] | None:
    """For `alert = "thread"` watches: each article's thread, and the (watch, thread)
    pairs already alerted."""
    if not any(getattr(w, "alert", "story") == "thread" for w in watches):
        return None
    of = store.article_threads(list(articles))
    return of, store.alerted_threads(list(of.values()))


def _decide_thread(watch, threads: tuple[dict, set], article_id: int) -> tuple[str, str | None]:
    """Only a thread's first matching report alerts; the rest are listed as coverage."""
    of, alerted = threads
    thread = of.get(article_id)
    if thread is None:
        return "pending", None
    if (watch.name, thread) in alerted:
        return "skipped", COVERAGE
    alerted.add((watch.name, thread))
    return "pending", None


def _duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0 and secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def match_pending(store, config) -> int:
    """Run every watch over the articles not matched yet; insert their alert rows and mark
    the articles matched.  Returns how many pending alerts were created.  Works inside the
    caller's transaction (savepoints); commits only when called outside one."""
    from ..query import match_batch

    watches = list(active_watches(config, store))
    count = 0
    with store.transaction():
        if watches:
            sync_watches(store, config)
        since = _since(store)
        now = clock.now()
        created = clock.to_iso(now)
        keyed = [(i, w.compiled) for i, w in enumerate(watches)]
        last_id = 0
        while True:
            rows = store.unmatched_articles(last_id, BATCH)
            if not rows:
                break
            last_id = rows[-1]["id"]
            articles = {r["id"]: r for r in rows}
            pairs = match_batch(keyed, [(a["id"], a["title"] or "", a["text"] or "")
                                        for a in articles.values()]) if keyed else []
            originals = {a["duplicate_of"] for a in articles.values()
                         if a["duplicate_of"] is not None}
            alerted = store.alert_keys(list(originals))
            existing = store.alert_keys(list(articles))
            threads = _threads_of(store, watches, articles)
            new_rows = []
            # Originals first (lower ids), so a copy in the same batch sees their alert.
            for key, article_id in sorted(pairs, key=lambda p: p[1]):
                watch, article = watches[key], articles[article_id]
                if watch.outlets is not None and article["outlet"] not in watch.outlets:
                    continue
                if (watch.name, article_id) in existing:
                    continue
                state, reason = _decide(watch, since.get(watch.name, ""), article, now,
                                        alerted)
                if state == "pending" and getattr(watch, "alert", "story") == "thread":
                    state, reason = _decide_thread(watch, threads, article_id)
                existing.add((watch.name, article_id))
                alerted.add((watch.name, article_id))
                count += state == "pending"
                new_rows.append({"watch": watch.name, "article_id": article_id,
                                 "created": created, "state": state, "reason": reason})
            store.insert_alerts(new_rows)
            store.mark_matched(list(articles))
    return count


def find_watch(config, name: str, store=None):
    watches = config.watches if store is None else active_watches(config, store)
    for w in watches:
        if w.name == name:
            return w
    names = ", ".join(repr(w.name) for w in watches) or "none configured"
    raise UsageError(f"no watch named {name!r} (watches: {names})")


def backfill(store, config, watch_name: str, days: int) -> int:
    """Alert `watch_name` of stored stories of the last `days` days it has not alerted yet
    (`newswatch alerts backfill`).  Each story at most once: a story already sent, queued
    or pending is left alone."""
    watch = find_watch(config, watch_name, store)
    if days <= 0:
        raise UsageError("--days must be at least 1")
    cutoff = clock.to_iso(clock.now() - timedelta(days=days))
    from ..query.archive import folded_expression

    # the folded archive index, so a backfill finds what the watch's alerts find
    ids = store.backfill_candidates(watch.compiled.fts, cutoff,
                                    list(watch.outlets) if watch.outlets is not None else None,
                                    folded=folded_expression(watch.compiled))
    now = clock.now_iso()
    count = 0
    with store.write_transaction():
        sync_watches(store, config)
        for article_id in ids:
            count += store.backfill_alert(watch.name, article_id, now)
    return count
