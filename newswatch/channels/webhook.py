"""Delivery to one receiver: the native webhook (signed JSON, one POST per message) and apprise
services. Each call answers with a `Delivery` the outbox records: done, retry later, or failed
for good, with a one-line reason that never holds the URL's secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .targets import (Target, TargetError, expand_secrets, quiet_apprise, redact,
                      secret_values)

SCHEMA = "https://newswatch.dev/schema/alert/1"  # an identifier, never fetched
SCHEMA_VERSION = 1
SIGNATURE_HEADER = "X-Newswatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TIMEOUT = 10.0


@dataclass
class Delivery:
    ok: bool
    transient: bool = False  # retry with backoff (429, 5xx, timeouts, connection errors)
    error: str | None = None
    status: int | None = None


def thread_record(story: Any) -> dict | None:
    """A story's `thread` in the payload, from the thread fields the email's stories carry
    (`newswatch.storylines.email_stories`): the thread's id (its first report's article
    id), that report's title, how many reports and which outlets (display names) it holds
    so far, and `coverage` (a later report of a thread this watch already alerted on, with
    `alert = "thread"`). None when the story has no thread (threads disabled, or stored
    before them)."""
    tid = getattr(story, "thread_id", None)
    if tid is None:
        return None
    return {"id": tid, "title": getattr(story, "thread_title", None),
            "reports": int(getattr(story, "thread_reports", 0) or 1),
            "outlets": list(dict.fromkeys(getattr(story, "thread_outlets", ()) or ())),
            "coverage": bool(getattr(story, "coverage", False))}


def build_payload(*, message_id: str, watch: str, query: str, created: str,
                  stories: Sequence[Mapping[str, Any]], more: int = 0,
                  kind: str = "alert", key: str | None = None) -> dict:
    """The documented JSON document (README "Webhooks"): one per alert message. `id` is the
    idempotency key (`key`: message id + channel, the same on a repeat); `message_id` is
    shared by every channel the message went to (the email's Message-ID)."""
    out = []
    for s in stories:
        out.append({
            "title": s.get("title"),
            "url": s.get("url"),
            "outlet": s.get("outlet"),
            "published": s.get("published"),
            "date_source": s.get("date_source"),
            "first_seen": s.get("first_seen"),
            "snippet": s.get("snippet") or "",
            "also_in": list(s.get("also_in") or ()),
            "thread": s.get("thread"),
        })
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "id": key or message_id,
            "message_id": message_id, "kind": kind,
            "watch": watch, "query": query, "created": created, "stories": out,
            "more": int(more)}


def encode(payload: Mapping[str, Any]) -> bytes:
    # Sorted keys and no spaces: the signed bytes are the bytes sent, byte for byte.
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 over the exact body, as GitHub and Stripe do: `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _classify_status(status: int, reason: str) -> Delivery:
    if 200 <= status < 300:
        return Delivery(True, status=status)
    transient = status == 429 or status >= 500 or status == 408
    return Delivery(False, transient=transient, status=status,
                    error=f"HTTP {status} {reason}".strip())


def post_webhook(target: Target, body: bytes, message_id: str, *,
                 timeout: float = DEFAULT_TIMEOUT, user_agent: str = "newswatch",
                 env: Mapping[str, str] | None = None) -> Delivery:
    """POST `body` once. 2xx done; 429/5xx/timeouts transient; other 4xx permanent."""
    import urllib3

    try:
        url = expand_secrets(target.template, env)
        secret = expand_secrets(target.secret, env) if target.secret else None
    except TargetError as exc:
        return Delivery(False, transient=True, error=str(exc))
    headers = {"Content-Type": "application/json", "User-Agent": user_agent,
               IDEMPOTENCY_HEADER: message_id, "X-Newswatch-Message-Id": message_id}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=timeout))
    try:
        resp = http.request("POST", url, body=body, headers=headers, redirect=False,
                            preload_content=True)
    except urllib3.exceptions.TimeoutError:
        return Delivery(False, transient=True, error=f"no answer within {timeout:g} s")
    except urllib3.exceptions.HTTPError as exc:
        reason = getattr(exc, "reason", None) or exc
        text = redact(str(reason), secret_values(target.template, env) + [secret or ""])
        return Delivery(False, transient=True, error=_one_line(f"cannot connect: {text}"))
    finally:
        http.clear()
    return _classify_status(resp.status, resp.reason or "")


_CODE = re.compile(r"\b(?:error|code|status)[=: ]+(\d{3})\b", re.I)


def send_apprise(target: Target, title: str, body: str, *,
                 env: Mapping[str, str] | None = None) -> Delivery:
    """Send through apprise. Apprise answers only True/False, so the reason (and whether a
    retry can help) is read from what it logged: a 4xx other than 408/429 is permanent."""
    import apprise

    try:
        url = expand_secrets(target.template, env)
    except TargetError as exc:
        return Delivery(False, transient=True, error=str(exc))
    ap = apprise.Apprise()
    with quiet_apprise():
        added = ap.add(url)
    if not added:
        return Delivery(False, error="apprise does not understand this URL")
    with quiet_apprise(), apprise.LogCapture(level=apprise.logging.INFO,
                                             fmt="%(message)s") as captured:
        ok = ap.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
        log_text = captured.getvalue()
    if ok:
        return Delivery(True)
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    reason = next((ln for ln in reversed(lines) if "fail" in ln.lower() or "error" in ln.lower()),
                  lines[-1] if lines else "apprise reported a failure")
    reason = redact(reason, secret_values(target.template, env))
    codes = [int(c) for c in _CODE.findall(log_text)]
    status = codes[-1] if codes else None
    permanent = status is not None and 400 <= status < 500 and status not in (408, 429)
    return Delivery(False, transient=not permanent, status=status, error=_one_line(reason))


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
