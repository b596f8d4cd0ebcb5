"""Matches -> alerts -> outbox -> delivery.

The path of one alert, and why it can neither be lost nor sent twice:

1. `match_pending` runs the watches over articles stored with matched = 0 and inserts one
   alert row per (watch, article) (UNIQUE) in the transaction that stored the article.  Its
   state is decided there: 'pending', or 'skipped' with a reason (too old, a duplicate of a
   story already alerted, stored before the watch existed or was edited).
2. `flush` queues: pending alerts of a watch become ONE outbox row holding the exact bytes
   of the email, its Message-ID assigned before rendering; the alerts become 'queued'.  One
   transaction: either the email exists and its alerts point at it, or neither.
3. `flush` delivers: claim a row ('sending', committed), send, mark 'sent' (committed).  A
   crash after the server accepted the message but before the mark leaves the row in
   'sending'; the next flush sends it again with the same Message-ID.  That is the only way
   a recipient can get an alert twice, and mail clients that thread by Message-ID show it
   once.  Outbox state changes run with synchronous=FULL so a "sent" mark survives power loss.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator, Sequence

from . import clock, mail
from .errors import UsageError

log = logging.getLogger(__name__)

BATCH = 1000  # articles per match_batch call: every watch runs once per batch
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A row claimed this long ago by a process that may still be alive is taken over anyway.
STALE_CLAIM = timedelta(minutes=10)

# Test hook: NEWSWATCH_PAUSE_AT=queued|claimed|accepted|marked makes flush stop at that
# step (printing "paused at STEP" on stderr) so a test can SIGKILL the process there.
PAUSE_ENV = "NEWSWATCH_PAUSE_AT"


def _pause(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        sys.stderr.write(f"paused at {step}\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)


@contextlib.contextmanager
def _write(db) -> Iterator[None]:
    """A write transaction that takes the lock up front (BEGIN IMMEDIATE) so busy_timeout
    applies, or a savepoint inside the caller's transaction."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def _durable(db) -> Iterator[None]:
    """synchronous=FULL while outbox state changes: under WAL with NORMAL, a committed
    "sent" mark can be lost on power loss (and the email sent again)."""
    if db.conn.in_transaction:  # cannot change it inside a transaction: the caller's
        yield
        return
    previous = db.execute("PRAGMA synchronous").fetchone()[0]
    db.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        if not db.conn.in_transaction:
            db.execute(f"PRAGMA synchronous={int(previous)}")


# ------------------------------------------------------------------------------ watches


def sync_watches(db, config) -> None:
    """Record each configured watch with when it appeared and when its query last changed,
    so stories stored before either are never mailed."""
    now = clock.now_iso()
    known = {r[0]: r[1] for r in db.execute("SELECT name, query FROM watches").fetchall()}
    with db.atomic():
        for w in config.watches:
            if w.name not in known:
                db.execute("INSERT INTO watches (name, query, created, query_changed) "
                           "VALUES (?, ?, ?, ?)", [w.name, w.query, now, now])
            elif known[w.name] != w.query:
                db.execute("UPDATE watches SET query = ?, query_changed = ? WHERE name = ?",
                           [w.query, now, w.name])


def _since(db) -> dict[str, str]:
    """Per watch name: the instant before which stored stories are not its business."""
    return {r[0]: max(r[1] or "", r[2] or "") for r in
            db.execute("SELECT name, created, query_changed FROM watches").fetchall()}


# ----------------------------------------------------------------------------- matching


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


def _duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0 and secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def match_pending(db, config) -> int:
    """Run every watch over the articles not matched yet; insert their alert rows and mark
    the articles matched.  Returns how many pending alerts were created.  Works inside the
    caller's transaction (savepoints); commits only when called outside one."""
    from .query import match_batch

    watches = list(config.watches)
    count = 0
    with db.atomic():
        if watches:
            sync_watches(db, config)
        since = _since(db)
        now = clock.now()
        created = clock.to_iso(now)
        keyed = [(i, w.compiled) for i, w in enumerate(watches)]
        last_id = 0
        while True:
            rows = db.execute(
                "SELECT id, outlet, title, text, published, first_seen, duplicate_of "
                "FROM articles WHERE matched = 0 AND id > ? ORDER BY id LIMIT ?",
                [last_id, BATCH]).fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            articles = {r[0]: {"id": r[0], "outlet": r[1], "title": r[2], "text": r[3],
                               "published": r[4], "first_seen": r[5], "duplicate_of": r[6]}
                        for r in rows}
            pairs = match_batch(keyed, [(a["id"], a["title"] or "", a["text"] or "")
                                        for a in articles.values()]) if keyed else []
            originals = {a["duplicate_of"] for a in articles.values()
                         if a["duplicate_of"] is not None}
            alerted: set[tuple[str, int]] = set()
            if originals:
                marks = ",".join("?" * len(originals))
                alerted = {(r[0], r[1]) for r in db.execute(
                    f"SELECT watch, article_id FROM alerts WHERE article_id IN ({marks})",
                    list(originals)).fetchall()}
            marks = ",".join("?" * len(articles))
            existing = {(r[0], r[1]) for r in db.execute(
                f"SELECT watch, article_id FROM alerts WHERE article_id IN ({marks})",
                list(articles)).fetchall()}
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
                existing.add((watch.name, article_id))
                alerted.add((watch.name, article_id))
                count += state == "pending"
                new_rows.append((watch.name, article_id, created, state, reason))
            # One statement for the batch's alert rows, not one round trip per match.
            db.conn.executemany(
                "INSERT OR IGNORE INTO alerts (watch, article_id, created, state, reason) "
                "VALUES (?, ?, ?, ?, ?)", new_rows)
            db.execute(f"UPDATE articles SET matched = 1 WHERE id IN "
                       f"({','.join('?' * len(articles))})", list(articles))
    return count


# ------------------------------------------------------------------------------- queue


@dataclass
class FlushReport:
    queued: int = 0  # emails rendered into the outbox by this flush
    sent: int = 0  # emails accepted by the server (or written as .eml)
    retrying: int = 0  # emails left pending after a transient failure
    failed: int = 0  # emails refused permanently (5xx)
    errors: list[str] = field(default_factory=list)


def _stories(db, config, alert_ids: Sequence[int]) -> list[tuple[int, dict]]:
    """(alert id, article metadata) for the alerts, newest first."""
    out = []
    for chunk in _chunked(list(alert_ids), 500):
        marks = ",".join("?" * len(chunk))
        out += [(r[0], {"id": r[1], "url": r[2], "title": r[3], "outlet": r[4],
                        "published": r[5], "first_seen": r[6]})
                for r in db.execute(
                    "SELECT l.id, a.id, a.url, a.title, a.outlet, a.published, a.first_seen "
                    f"FROM alerts l JOIN articles a ON a.id = l.article_id "
                    f"WHERE l.id IN ({marks})", chunk).fetchall()]
    out.sort(key=lambda p: (p[1]["published"] or p[1]["first_seen"] or "", p[1]["id"]),
             reverse=True)
    return out


def _chunked(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _outlet_name(config, outlet_id: str) -> str:
    outlet = config.outlet(outlet_id) if hasattr(config, "outlet") else None
    return outlet.name if outlet is not None else outlet_id


def _story(db, config, meta: dict) -> mail.Story:
    text = db.execute("SELECT text FROM articles WHERE id = ?", [meta["id"]]).fetchone()[0]
    copies = [r[0] for r in db.execute(
        "SELECT DISTINCT outlet FROM articles WHERE duplicate_of = ? ORDER BY outlet",
        [meta["id"]]).fetchall()]
    return mail.Story(url=meta["url"], title=meta["title"],
                      outlet=_outlet_name(config, meta["outlet"]),
                      published=meta["published"], first_seen=meta["first_seen"], text=text,
                      also_in=[_outlet_name(config, o) for o in copies], id=meta["id"])


def _queue_email(db, config, watch, alert_ids: Sequence[int], now: datetime) -> None:
    """Render one email for `alert_ids` (possibly none: a "nothing new" digest) into the
    outbox and point the alerts at it.  Caller holds the transaction."""
    metas = _stories(db, config, alert_ids)
    limit = max(1, watch.max_stories)
    shown = [_story(db, config, meta) for _, meta in metas[:limit]]
    message_id = mail.make_message_id(config.mail.from_addr, now)
    msg = mail.render_alert(watch, shown, config=config, message_id=message_id,
                            more=max(0, len(metas) - limit), date=now)
    raw = mail.message_bytes(msg)
    recipients = list(watch.to or config.mail.to)
    iso = clock.to_iso(now)
    cur = db.execute(
        "INSERT INTO outbox (message_id, watch, recipients, subject, raw, state, attempts, "
        "next_attempt, created) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        [message_id, watch.name, json.dumps(recipients), str(msg["Subject"]), raw, iso, iso])
    outbox_id = cur.lastrowid
    for chunk in _chunked(list(alert_ids), 500):
        db.execute(f"UPDATE alerts SET state = 'queued', outbox_id = ? WHERE id IN "
                   f"({','.join('?' * len(chunk))})", [outbox_id, *chunk])


def _digest_due(db, watch, tz: str, now: datetime) -> bool:
    from .config import cron_trigger

    row = db.execute("SELECT last_sent FROM digests WHERE watch = ?", [watch.name]).fetchone()
    if row is None or not row[0]:
        start = db.execute("SELECT created FROM watches WHERE name = ?",
                           [watch.name]).fetchone()
        last = clock.parse_iso(start[0]) if start and start[0] else now
        db.execute("INSERT OR REPLACE INTO digests (watch, last_sent) VALUES (?, ?)",
                   [watch.name, clock.to_iso(last)])
    else:
        last = clock.parse_iso(row[0])
    trigger = cron_trigger(watch.digest, tz)
    fire = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    return fire is not None and fire <= now


def queue(db, config, now: datetime | None = None) -> int:
    """Turn pending alerts into outbox emails (one per watch that is due).  Returns the
    number of emails queued."""
    now = now or clock.now()
    emails = 0
    configured = {w.name for w in config.watches}
    with _durable(db), _write(db):
        for watch in config.watches:
            pending = db.execute(
                "SELECT id, reason FROM alerts WHERE watch = ? AND state = 'pending' "
                "ORDER BY id", [watch.name]).fetchall()
            if watch.mode == "digest":
                # An explicit backfill is sent when asked, not at the next digest.
                backfill = [r[0] for r in pending if r[1] == "backfill"]
                if backfill:
                    _queue_email(db, config, watch, backfill, now)
                    emails += 1
                if _digest_due(db, watch, config.timezone, now):
                    rest = [r[0] for r in pending if r[1] != "backfill"]
                    if rest or watch.send_empty:
                        _queue_email(db, config, watch, rest, now)
                        emails += 1
                    db.execute("UPDATE digests SET last_sent = ? WHERE watch = ?",
                               [clock.to_iso(now), watch.name])
            elif pending:
                _queue_email(db, config, watch, [r[0] for r in pending], now)
                emails += 1
        # A watch removed from the config sends nothing more.
        names = list(configured)
        db.execute(
            "UPDATE alerts SET state = 'skipped', reason = 'watch removed from the config' "
            f"WHERE state = 'pending' AND watch NOT IN ({','.join('?' * len(names))})",
            names)
    return emails


# ----------------------------------------------------------------------------- deliver


def _claimer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_is_stale(claimed_by: str | None, claimed_at: str | None, now: datetime) -> bool:
    if not claimed_by or not claimed_at:
        return True
    host, _, pid = claimed_by.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if not _alive(int(pid)) or int(pid) == os.getpid():
            return True
    try:
        return now - clock.parse_iso(claimed_at) > STALE_CLAIM
    except ValueError:
        return True


def _alive(pid: int) -> bool:
    try:
        import psutil

        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil.NoSuchProcess and friends
        return False


def _backoff(attempts: int) -> timedelta:
    delay = BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(delay, BACKOFF_MAX)


def _candidates(db, now: datetime) -> list[int]:
    iso = clock.to_iso(now)
    rows = db.execute(
        "SELECT id, state, claimed_by, claimed_at FROM outbox WHERE "
        "(state = 'pending' AND (next_attempt IS NULL OR next_attempt <= ?)) "
        "OR state = 'sending' ORDER BY id", [iso]).fetchall()
    return [r[0] for r in rows
            if r[1] == "pending" or _claim_is_stale(r[2], r[3], now)]


def _claim(db, outbox_id: int, now: datetime) -> dict | None:
    with _write(db):
        row = db.execute(
            "SELECT id, message_id, watch, recipients, raw, state, attempts, claimed_by, "
            "claimed_at, next_attempt FROM outbox WHERE id = ?", [outbox_id]).fetchone()
        if row is None:
            return None
        state = row[5]
        if state == "pending":
            if row[9] and row[9] > clock.to_iso(now):
                return None
        elif state != "sending" or not _claim_is_stale(row[7], row[8], now):
            return None
        if state == "sending":
            log.warning("outbox %s (%s) was claimed by %s and never marked: sending it "
                        "again with the same Message-ID", row[0], row[1], row[7])
        db.execute("UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                   "claimed_by = ?, claimed_at = ? WHERE id = ?",
                   [_claimer(), clock.to_iso(now), outbox_id])
    return {"id": row[0], "message_id": row[1], "watch": row[2],
            "recipients": json.loads(row[3] or "[]"), "raw": row[4], "attempts": row[6] + 1}


def _mark(db, row: dict, result: mail.SendResult, now: datetime) -> str:
    iso = clock.to_iso(now)
    refused = json.dumps(result.refused, ensure_ascii=False) if result.refused else None
    with _write(db):
        if result.ok:
            note = ("refused by the server for " + "; ".join(
                f"{r}: {m}" for r, m in result.refused.items())) if result.refused else None
            db.execute("UPDATE outbox SET state = 'sent', sent = ?, last_error = ?, "
                       "refused = ?, claimed_by = NULL WHERE id = ?",
                       [iso, note, refused, row["id"]])
            db.execute("UPDATE alerts SET state = 'sent' WHERE outbox_id = ?", [row["id"]])
            return "sent"
        if result.transient:
            later = clock.to_iso(now + _backoff(row["attempts"]))
            db.execute("UPDATE outbox SET state = 'pending', next_attempt = ?, "
                       "last_error = ?, refused = ?, claimed_by = NULL WHERE id = ?",
                       [later, result.error, refused, row["id"]])
            return "retrying"
        db.execute("UPDATE outbox SET state = 'failed', last_error = ?, refused = ?, "
                   "claimed_by = NULL WHERE id = ?", [result.error, refused, row["id"]])
        db.execute("UPDATE alerts SET state = 'failed' WHERE outbox_id = ?", [row["id"]])
        return "failed"


def deliver(db, config, now: datetime | None = None, report: FlushReport | None = None
            ) -> FlushReport:
    """Send every outbox row that is due.  A connection-level failure stops this round (the
    rest would fail the same way); they stay pending."""
    report = report or FlushReport()
    now = now or clock.now()
    mc = config.mail
    with _durable(db):
        for outbox_id in _candidates(db, now):
            row = _claim(db, outbox_id, now)
            if row is None:
                continue
            _pause("claimed")
            if mc.smtp_host:
                result = mail.send(row["raw"], mc.from_addr or "", row["recipients"], mc)
            else:
                try:
                    mail.write_eml(mc.outbox_dir, row["raw"], row["message_id"])
                    result = mail.SendResult(True)
                except OSError as exc:
                    result = mail.SendResult(False, True, f"cannot write .eml: {exc}")
            if result.ok:
                _pause("accepted")
            outcome = _mark(db, row, result, now)
            _pause("marked")
            setattr(report, outcome, getattr(report, outcome) + 1)
            if not result.ok:
                report.errors.append(f"{row['watch']}: {result.error}")
                log.warning("alert email for %r not sent (%s): %s", row["watch"], outcome,
                            result.error)
                if result.transient and _connection_level(result):
                    break
    return report


def _connection_level(result: mail.SendResult) -> bool:
    return not result.refused and not (result.error or "")[:1].isdigit()


def flush(db, config, *, now: datetime | None = None) -> FlushReport:
    """Queue what is due, then deliver what is pending (including a row a crashed sender
    left in 'sending': sent again with its Message-ID)."""
    now = now or clock.now()
    report = FlushReport()
    if config.watches:
        sync_watches(db, config)
    report.queued = queue(db, config, now)
    _pause("queued")
    return deliver(db, config, now, report)


# ------------------------------------------------------------------------ commands


def retry_failed(db) -> int:
    """Put failed emails back in the queue (`newswatch alerts retry`)."""
    now = clock.now_iso()
    with _durable(db), _write(db):
        ids = [r[0] for r in db.execute("SELECT id FROM outbox WHERE state = 'failed'")]
        for chunk in _chunked(ids, 500):
            marks = ",".join("?" * len(chunk))
            db.execute(f"UPDATE outbox SET state = 'pending', next_attempt = ?, attempts = 0 "
                       f"WHERE id IN ({marks})", [now, *chunk])
            db.execute(f"UPDATE alerts SET state = 'queued' WHERE outbox_id IN ({marks})",
                       chunk)
    return len(ids)


def _watch(config, name: str):
    for w in config.watches:
        if w.name == name:
            return w
    names = ", ".join(repr(w.name) for w in config.watches) or "none configured"
    raise UsageError(f"no watch named {name!r} (watches: {names})")


def backfill(db, config, watch_name: str, days: int) -> int:
    """Alert `watch_name` of stored stories of the last `days` days it has not alerted yet
    (`newswatch alerts backfill`).  Each story at most once: a story already sent, queued
    or pending is left alone."""
    watch = _watch(config, watch_name)
    if days <= 0:
        raise UsageError("--days must be at least 1")
    cutoff = clock.to_iso(clock.now() - timedelta(days=days))
    params: list[Any] = [watch.compiled.fts, cutoff]
    where = ""
    if watch.outlets is not None:
        where = f" AND a.outlet IN ({','.join('?' * len(watch.outlets))})"
        params += list(watch.outlets)
    ids = [r[0] for r in db.execute(
        "SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        "WHERE articles_fts MATCH ? AND coalesce(a.published, a.first_seen) >= ? "
        "AND a.duplicate_of IS NULL" + where + " ORDER BY a.id", params).fetchall()]
    now = clock.now_iso()
    count = 0
    with _write(db):
        sync_watches(db, config)
        for article_id in ids:
            cur = db.execute(
                "INSERT OR IGNORE INTO alerts (watch, article_id, created, state, reason) "
                "VALUES (?, ?, ?, 'pending', 'backfill')", [watch.name, article_id, now])
            if not cur.rowcount:
                cur = db.execute(
                    "UPDATE alerts SET state = 'pending', reason = 'backfill', created = ? "
                    "WHERE watch = ? AND article_id = ? AND state = 'skipped'",
                    [now, watch.name, article_id])
            count += cur.rowcount
    return count


def list_alerts(db, limit: int = 50) -> list[dict]:
    """Recent alerts, newest first, with their story and delivery state."""
    rows = db.execute(
        "SELECT l.id, l.created, l.state, l.watch, l.reason, a.title, a.url, a.outlet, "
        "o.state, o.last_error, o.sent FROM alerts l JOIN articles a ON a.id = l.article_id "
        "LEFT JOIN outbox o ON o.id = l.outbox_id ORDER BY l.id DESC LIMIT ?",
        [int(limit)]).fetchall()
    return [{"id": r[0], "created": r[1], "state": r[2], "watch": r[3], "reason": r[4],
             "title": mail.clean_text(r[5]) or r[6], "url": r[6], "outlet": r[7],
             "email_state": r[8], "last_error": r[9], "sent": r[10]} for r in rows]


def watch_test(db, query, limit: int = 20) -> list[dict]:
    """Stored articles `query` (text or compiled) would match, with snippets."""
    from .query import compile_query, search

    if isinstance(query, str):
        query = compile_query(query)
    return search(db, query, limit=limit)


def status_counts(db) -> dict[str, int]:
    """Alert counts for `newswatch status`: waiting to go out, failed, sent, skipped."""
    counts = dict(db.execute("SELECT state, count(*) FROM alerts GROUP BY state").fetchall())
    return {
        "pending": counts.get("pending", 0) + counts.get("queued", 0),
        "failed": counts.get("failed", 0),
        "sent": counts.get("sent", 0),
        "skipped": counts.get("skipped", 0),
    }


def status_problems(db) -> list[str]:
    """One line per email that failed or is waiting for a retry, with the server's reply."""
    rows = db.execute(
        "SELECT state, watch, attempts, next_attempt, last_error, refused FROM outbox "
        "WHERE state = 'failed' OR (state IN ('pending', 'sending') AND attempts > 0) "
        "OR refused IS NOT NULL AND sent >= ? ORDER BY id",
        [clock.to_iso(clock.now() - timedelta(days=1))]).fetchall()
    out = []
    for state, watch, attempts, next_attempt, error, refused in rows:
        if state == "failed":
            out.append(f"email for {watch!r} failed: {error} (`newswatch alerts retry` "
                       "sends it again)")
        elif state == "sent":
            out.append(f"email for {watch!r} sent, but {error}")
        else:
            out.append(f"email for {watch!r} not sent after {attempts} attempt(s), next "
                       f"{next_attempt}: {error}")
    return out


# ----------------------------------------------------------------------------- explain


def explain(db, config, url: str) -> list[str]:
    """Why did (or didn't) this URL alert?  Lines for `newswatch explain URL`."""
    from .query import match_batch

    lines = [f"URL:        {url}"]
    try:
        from .urls import canonical_url

        canonical = canonical_url(url)
    except Exception:  # noqa: BLE001 - urls may not be there, or refuse this URL
        canonical = url
    if canonical != url:
        lines.append(f"canonical:  {canonical}")
    cols = ("id, url, fetched_url, outlet, title, published, date_source, first_seen, "
            "last_seen, duplicate_of, status, matched, length(text), changed")
    row = None
    for candidate in dict.fromkeys((canonical, url)):
        row = (db.execute(f"SELECT {cols} FROM articles WHERE url = ?", [candidate]).fetchone()
               or db.execute(f"SELECT {cols} FROM articles WHERE id = (SELECT article_id "
                             "FROM url_aliases WHERE url = ?)", [candidate]).fetchone())
        if row:
            break
    fetch = None
    for candidate in dict.fromkeys((url, canonical) + ((row[1], row[2]) if row else ())):
        if candidate:
            fetch = db.execute("SELECT fetched, status, error, length, outlet FROM fetches "
                               "WHERE url = ?", [candidate]).fetchone()
            if fetch:
                break
    if fetch:
        status = f"HTTP {fetch[1]}" if fetch[1] is not None else "no response"
        line = f"fetched:    {fetch[0]} ({status}"
        line += f", {fetch[3]} bytes)" if fetch[3] is not None else ")"
        if fetch[2]:
            line += f": {fetch[2]}"
        lines.append(line)
    else:
        lines.append("fetched:    never (no fetch of this URL is recorded)")
    if row is None:
        lines.append("stored:     no; " + _why_not_stored(config, canonical))
        return lines
    (aid, curl, _fetched_url, outlet, title, published, date_source, first_seen, _last_seen,
     duplicate_of, _status, matched, length, changed) = row
    lines.append(f"stored:     article {aid} of {_outlet_name(config, outlet)} ({outlet}), "
                 f"{length or 0} characters of text")
    lines.append(f"title:      {mail.clean_text(title)}")
    lines.append(f"published:  {published or 'unknown'} (from {date_source or 'nowhere'})")
    lines.append(f"first seen: {first_seen}" + (f"; text changed {changed}" if changed else ""))
    if duplicate_of is not None:
        orig = db.execute("SELECT url, outlet FROM articles WHERE id = ?",
                          [duplicate_of]).fetchone()
        lines.append(f"duplicate:  of article {duplicate_of}"
                     + (f" ({orig[1]}: {orig[0]})" if orig else ""))
    else:
        copies = db.execute("SELECT count(*) FROM articles WHERE duplicate_of = ?",
                            [aid]).fetchone()[0]
        lines.append("duplicate:  no" + (f"; {copies} cop{'ies' if copies != 1 else 'y'} "
                                         "point here" if copies else ""))
    if not matched:
        lines.append("watches:    not matched yet (the next pass matches it)")
    text = db.execute("SELECT title, text FROM articles WHERE id = ?", [aid]).fetchone()
    hits = {k for k, _ in match_batch([(w.name, w.compiled) for w in config.watches],
                                      [(aid, text[0] or "", text[1] or "")])}
    alerts = {r[0]: r[1:] for r in db.execute(
        "SELECT l.watch, l.state, l.reason, o.state, o.last_error, o.sent, o.message_id "
        "FROM alerts l LEFT JOIN outbox o ON o.id = l.outbox_id WHERE l.article_id = ?",
        [aid]).fetchall()}
    for w in config.watches:
        if w.name not in hits:
            verdict = "no match"
        elif w.outlets is not None and outlet not in w.outlets:
            verdict = f"matches, but the watch covers only {', '.join(w.outlets)}"
        else:
            verdict = "match"
        line = f"watch {w.name!r}: {verdict}"
        if w.name in alerts:
            state, reason, ostate, oerror, osent, mid = alerts.pop(w.name)
            line += f"; alert {state}"
            if reason:
                line += f" ({reason})"
            if state == "sent" and osent:
                line += f" at {osent}, Message-ID {mid}"
            elif oerror:
                line += f"; last error: {oerror}"
        elif w.name in hits and matched:
            line += "; no alert (matched before this watch existed or was edited)"
        lines.append(line)
    for name, (state, reason, *_rest) in alerts.items():
        lines.append(f"watch {name!r} (no longer configured): alert {state}"
                     + (f" ({reason})" if reason else ""))
    return lines


def _why_not_stored(config, url: str) -> str:
    from urllib.parse import urlsplit

    from .urls import same_site

    host = (urlsplit(url).hostname or "").lower()
    outlets = [o for o in config.outlets if same_site(url, o.hosts())]
    if not outlets:
        return f"no configured outlet fetches from {host or 'this host'}"
    notes = []
    for o in outlets:
        try:
            ok = not o.article_urls or o.article_pattern().search(url) is not None
        except Exception:  # noqa: BLE001
            ok = True
        notes.append(f"{o.id}: {'matches' if ok else 'does not match'} article_urls")
        if ok:
            notes[-1] += " (not found in its feeds, sitemaps or pages yet?)"
    return "; ".join(notes)
