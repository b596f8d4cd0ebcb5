"""What the alert commands show: recent alerts, a watch tried on the archive, and the
counts and problems `newswatch status` prints."""

from __future__ import annotations

from datetime import timedelta

from .. import clock, mail


def list_alerts(store, limit: int = 50) -> list[dict]:
    """Recent alerts, newest first, with their story, their reason (skipped ones too) and
    `deliveries`: one {channel, label, state, attempts, last_error, sent, next_attempt} per
    channel of the message that carried them (labels only: never a channel's URL)."""
    rows = store.recent_alerts(limit)
    deliveries = store.alert_deliveries([r["id"] for r in rows])
    return [{**r, "title": mail.clean_text(r["title"]) or r["url"],
             "deliveries": deliveries.get(r["id"], [])} for r in rows]


def watch_test(store, query, limit: int = 20, aliases=()) -> list[dict]:
    """Stored articles `query` (text, compiled with the config's `aliases`, or compiled)
    would match, with snippets and the forms that matched (`matched_as`)."""
    from ..query import compile_query, search

    if isinstance(query, str):
        query = compile_query(query, aliases=dict(aliases))
    return search(store, query, limit=limit)


def status_counts(store) -> dict[str, int]:
    """Alert counts for `newswatch status`: waiting to go out, failed, sent, skipped."""
    counts = store.alert_state_counts()
    return {
        "pending": counts.get("pending", 0) + counts.get("queued", 0),
        "failed": counts.get("failed", 0),
        "sent": counts.get("sent", 0),
        "skipped": counts.get("skipped", 0),
    }


def status_problems(store) -> list[str]:
    """One line per outbox row (email or channel) that failed or is waiting for a retry,
    with the server's or receiver's reply."""
    out = []
    for r in store.outbox_problems(clock.to_iso(clock.now() - timedelta(days=1))):
        watch, error = r["watch"], r["last_error"]
        channel = r.get("channel") or "email"
        what = "email" if channel == "email" else f"{r.get('label') or channel} message"
        retry = ("`newswatch alerts retry`" if channel == "email" else
                 f"`newswatch alerts retry --channel {channel}`")
        if r["state"] == "failed":
            out.append(f"{what} for {watch!r} failed: {error} ({retry} sends it again)")
        elif r["state"] == "sent":
            out.append(f"{what} for {watch!r} sent, but {error}")
        else:
            out.append(f"{what} for {watch!r} not sent after {r['attempts']} attempt(s), next "
                       f"{r['next_attempt']}: {error}")
    return out
