"""One alert message as each non-email channel gets it: the Markdown message for apprise
services (cut to the service's limits) and the signed webhook's JSON body (schema v1).
Both are fixed when the message is queued, so a resend sends the same bytes."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Sequence
from zoneinfo import ZoneInfo

from .. import clock, mail
from ..store.outbox import idempotency_key


def snippet(text: str | None, query) -> str:
    """The one-line snippet around the first match, as plain text."""
    from ..query import highlight

    if not text:
        return ""
    try:
        segments = highlight(text, query)
    except Exception:  # noqa: BLE001 - a snippet is a courtesy; the alert must still go
        segments = [(text[:240], False)]
    return " ".join(mail.clean_text("".join(s for s, _ in segments)).split())


def _when(iso: str | None, tz: str) -> str:
    if not iso:
        return ""
    try:
        dt = clock.parse_iso(iso).astimezone(ZoneInfo(tz or "UTC"))
    except (ValueError, KeyError):
        return ""
    return f"{dt.day} {dt:%b %Y, %H:%M} {dt.tzname() or ''}".strip()


def story_record(store, config, watch, story: mail.Story) -> dict:
    """The fields the webhook schema and the Markdown message use, for one story."""
    from ..channels.webhook import thread_record

    row = store.article(story.id) if story.id is not None else None
    return {"title": mail.clean_text(story.title) or None, "url": story.url,
            "outlet": story.outlet, "published": story.published,
            "date_source": (row or {}).get("date_source"), "first_seen": story.first_seen,
            "snippet": snippet(story.text, watch.compiled),
            "also_in": [o for o in dict.fromkeys(story.also_in) if o != story.outlet],
            "thread": thread_record(story)}


def channel_rows(store, config, watch, stories: Sequence[mail.Story], more: int,
                 message_id: str, now: datetime, kind: str) -> list[dict]:
    """Outbox rows {channel, label, subject, raw} for the watch's notify and webhook
    targets (`stories`: at most max_stories, newest first; `more`: the rest)."""
    from ..channels import build_payload, render_markdown
    from ..channels.webhook import encode

    records = [story_record(store, config, watch, s) for s in stories]
    rows = []
    hint = f"newswatch search {shlex.quote(mail.clean_text(watch.query))}"
    for target in watch.notify:
        md = [{**r, "when": _when(r["published"] or r["first_seen"], config.timezone)}
              for r in records]
        title, body = render_markdown(watch.name, md, more=more, search_hint=hint,
                                      body_maxlen=target.body_maxlen,
                                      title_maxlen=target.title_maxlen,
                                      digest=kind == "digest")
        rows.append({"channel": target.key, "label": target.label, "subject": title,
                     "raw": body.encode("utf-8")})
    for target in watch.webhooks:
        payload = build_payload(message_id=message_id, watch=watch.name, query=watch.query,
                                created=clock.to_iso(now), stories=records, more=more,
                                kind=kind, key=idempotency_key(message_id, target.key))
        rows.append({"channel": target.key, "label": target.label,
                     "subject": f"{watch.name}: {len(records) + more} stories",
                     "raw": encode(payload)})
    return rows
