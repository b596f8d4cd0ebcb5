"""Outlet health, judged against the outlet's own history, so that a silent miss (a
changed template, a consent wall, a moved feed) never looks like a quiet news day.

- gone quiet: no new article for several times the outlet's usual gap between stories;
- extraction suddenly empty, suspiciously short, or all identical;
- discovery finding no links on its last passes (needs `runs.found`); a feed answering
  304 Not Modified is evidence of health, not of a moved feed.

Shown by `newswatch status`, logged by the daemon when a warning first appears, and
optionally mailed to `[mail] operator`.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

from . import clock

QUIET_FACTOR = 4  # "several times its usual gap"
QUIET_FLOOR = timedelta(hours=2)  # never warn about less than this
MIN_HISTORY = 8  # articles (or gaps) needed before an outlet's habits are judged
RECENT = 5  # the latest N articles or fetches are compared with the history
SHORT_FRACTION = 0.25  # "suspiciously short": under a quarter of the usual length
EMPTY_PASSES = 3  # passes in a row that found no article links


def outlet_health(store, config) -> list[dict]:
    """Warnings as {"outlet": id, "message": text}."""
    now = clock.now()
    warnings = []
    for outlet in config.outlets:
        for message in (_quiet(store, outlet.id, now) + _extraction(store, outlet.id)
                        + _discovery(store, outlet.id)):
            warnings.append({"outlet": outlet.id, "message": message})
    return warnings


def _quiet(store, outlet_id: str, now) -> list[str]:
    # Gaps between distinct first-seen times after the first pass: the first pass stores
    # an outlet's backlog all at once, which says nothing about how often it publishes.
    first_pass = store.first_pass_done(outlet_id)
    if not first_pass:
        return []
    times = [clock.parse_iso(t) for t in store.first_seen_times(outlet_id, first_pass)]
    if len(times) < MIN_HISTORY + 1:
        return []
    gaps = [(a - b).total_seconds() for a, b in zip(times, times[1:])]
    usual = timedelta(seconds=statistics.median(gaps))
    silent = now - times[0]
    # Only passes that worked count: a failing outlet shows its error streak instead.
    ok_since = store.ok_runs_since(outlet_id, clock.to_iso(times[0]))
    if ok_since >= 2 and silent > max(QUIET_FACTOR * usual, QUIET_FLOOR):
        return [f"gone quiet: no new article for {_human(silent)}, "
                f"usually one every {_human(usual)}"]
    return []


def _extraction(store, outlet_id: str) -> list[str]:
    rows = store.recent_originals(outlet_id)
    messages = []
    if len(rows) >= MIN_HISTORY + RECENT:
        recent, history = rows[:RECENT], rows[RECENT:]
        usual = statistics.median(r["length"] for r in history)
        lengths = [r["length"] for r in recent]
        if max(lengths) < SHORT_FRACTION * usual:
            messages.append(f"extraction suspiciously short: the last {RECENT} articles have "
                            f"{max(lengths)} characters at most, usually {int(usual)} "
                            "(a changed template or a consent wall?)")
        hashes = {r["content_hash"] for r in recent}
        if len(hashes) == 1 and len({r["content_hash"] for r in history}) > 1:
            messages.append(f"extraction all identical: the last {RECENT} articles have the "
                            "same text (a consent wall or an error page?)")
    # Pages fetched fine (200) whose extraction yielded nothing: never stored as articles.
    fetches = store.recent_ok_fetches(outlet_id, RECENT)
    good_before = store.article_count(outlet_id)
    if len(fetches) == RECENT and good_before >= MIN_HISTORY and \
            all(f["article_id"] is None and f["error"] for f in fetches):
        messages.append(f"extraction empty: the last {RECENT} article pages yielded no text "
                        f"({fetches[0]['error']})")
    return messages


def _discovery(store, outlet_id: str) -> list[str]:
    # None: the pass's discovery was answered 304 (its links unchanged, so still there) or
    # predates the column; only a pass that read its sources and found nothing counts.
    found = store.recent_ok_runs_found(outlet_id, EMPTY_PASSES)
    if len(found) == EMPTY_PASSES and all(f == 0 for f in found) and \
            store.runs_that_found(outlet_id):
        return [f"discovery found no article links on the last {EMPTY_PASSES} passes "
                "(a moved feed, a changed page layout, or article_urls no longer matching?)"]
    return []


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(1, seconds // 60)} minutes"


def operator_message(config, warnings: list[dict]) -> EmailMessage | None:
    """The health email for `[mail] operator`, or None when none is configured."""
    from .mail import make_message_id

    mail = config.mail
    if not mail.operator or not warnings:
        return None
    msg = EmailMessage()
    msg["From"] = mail.from_addr
    msg["To"] = mail.operator
    outlets = sorted({w["outlet"] for w in warnings})
    msg["Subject"] = f"[newswatch] health: {', '.join(outlets)}"
    msg["Date"] = formatdate(clock.now().timestamp())
    msg["Message-ID"] = make_message_id(mail.from_addr)
    lines = [f"{w['outlet']}: {w['message']}" for w in warnings]
    msg.set_content("newswatch found outlets that may be missing stories:\n\n"
                    + "\n".join(lines) + "\n\n`newswatch status` shows the details.\n")
    return msg


def notify_operator(store, config, warnings: list[dict]) -> bool:
    """Mail new warnings to the operator (SMTP, else a .eml file in the outbox folder).
    Returns whether the message was handed over. Health mail is best effort: it is not
    queued for retries like alerts (the warning stays in `newswatch status`)."""
    from .mail import message_bytes, send, write_eml

    msg = operator_message(config, warnings)
    if msg is None:
        return False
    raw = message_bytes(msg)
    mail = config.mail
    if mail.smtp_host:
        return send(raw, mail.from_addr, [mail.operator], mail).ok
    write_eml(mail.outbox_dir, raw, msg["Message-ID"])
    return True
