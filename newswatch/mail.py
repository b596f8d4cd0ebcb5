"""One alert email: rendering it (text + HTML), turning it into the exact bytes to send,
and handing those bytes to an SMTP server or an .eml file.

Everything that comes from an article is untrusted: it is kept out of every header (the
subject names only the watch), stripped of control and bidi-override characters, HTML-escaped
in the HTML part, and linked only when its URL is http(s).  Messages are serialised once with
`policy.SMTP` and stored; a resend sends the same bytes with the same Message-ID.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import shlex
import smtplib
import socket
import ssl
import tempfile
import textwrap
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from . import clock

MAX_LINE = 998  # RFC 5322 hard limit, without the CRLF
_WORD_BREAK = 60  # characters after which a word without spaces is broken for display
_TITLE_MAX = 300
# Embedding, override and isolate controls: they can make a headline read backwards
# ("Trojan Source"); plain RTL text never needs them to display right.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


# ---------------------------------------------------------------------------- cleaning


def clean_text(text: str | None, *, strip: bool = True) -> str:
    """Article-derived text fit for display: no control characters (tabs and newlines become
    spaces), no bidi overrides, whitespace runs squashed."""
    if not text:
        return ""
    text = text.translate(_BIDI)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029":
            out.append(" ")
        elif cat in ("Cc", "Cs") or ch == "\ufeff":
            continue
        else:
            out.append(ch)
    squashed = re.sub(r"\s+", " ", "".join(out))
    return squashed.strip() if strip else squashed


def header_safe(text: str, limit: int = 200) -> str:
    """Text for a header: no CR/LF, no control or format (bidi, zero-width) characters."""
    kept = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    kept = re.sub(r"\s+", " ", kept).strip()
    if len(kept) > limit:
        kept = kept[: limit - 1] + "…"
    return kept or "(unnamed watch)"


def _chunks(word: str, size: int) -> list[str]:
    return [word[i:i + size] for i in range(0, len(word), size)]


def _break_words(text: str, joiner: str) -> str:
    """Break words longer than _WORD_BREAK characters with `joiner` between the pieces."""
    return re.sub(r"\S{%d,}" % (_WORD_BREAK + 1),
                  lambda m: joiner.join(_chunks(m.group(0), _WORD_BREAK)), text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_link(url: str | None) -> str | None:
    """The URL if it may be linked (http or https with a host), else None."""
    if not url:
        return None
    url = url.strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") or ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_text(text: str) -> str:
    """Escaped HTML for cleaned text, with <wbr> so long words can wrap."""
    pieces = re.split(r"(\S{%d,})" % (_WORD_BREAK + 1), text)
    out = []
    for piece in pieces:
        if len(piece) > _WORD_BREAK and not any(c.isspace() for c in piece):
            out.append("<wbr>".join(_esc(c) for c in _chunks(piece, _WORD_BREAK)))
        else:
            out.append(_esc(piece))
    return "".join(out)


# --------------------------------------------------------------------------- rendering


@dataclass
class Story:
    """One story in an alert email (built by newswatch.alerts from an article row)."""

    url: str
    title: str | None
    outlet: str  # display name
    published: str | None = None  # ISO 8601 UTC
    first_seen: str | None = None
    text: str | None = None
    also_in: Sequence[str] = ()
    id: int | None = None

    @property
    def when(self) -> str:
        return self.published or self.first_seen or ""


def _format_time(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return ""
    try:
        dt = clock.parse_iso(iso).astimezone(tz)
    except ValueError:
        return ""
    return f"{dt.day} {dt:%b %Y, %H:%M} {dt.tzname() or ''}".strip()


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except Exception:  # noqa: BLE001 - config validated it; never fail a mail on a zone
        return ZoneInfo("UTC")


def _story_parts(story: Story, query: Any, tz: ZoneInfo) -> dict:
    from .query import highlight

    title = _shorten(clean_text(story.title) or clean_text(story.url) or "(untitled)", _TITLE_MAX)
    if story.published:
        when = _format_time(story.published, tz)
    elif story.first_seen:
        when = "first seen " + _format_time(story.first_seen, tz)
    else:
        when = ""
    segments = []
    text = story.text or ""
    if text:
        try:
            segments = highlight(text, query)
        except Exception:  # noqa: BLE001 - a snippet is a courtesy; the alert must still go
            segments = [(text[:240], False)]
    segments = [(clean_text(s, strip=False), hit) for s, hit in segments]
    also = []
    for name in story.also_in:
        name = clean_text(name)
        if name and name not in also and name != clean_text(story.outlet):
            also.append(name)
    return {"title": title, "link": safe_link(story.url), "url": clean_text(story.url),
            "outlet": clean_text(story.outlet), "when": when, "snippet": segments,
            "also": also}


def _subject(name: str, count: int) -> str:
    noun = "story" if count == 1 else "stories"
    return f"[newswatch] {name}: {count} new {noun}"


def render_alert(watch, stories: Sequence[Story], *, config, message_id: str,
                 more: int = 0, date: datetime | None = None) -> EmailMessage:
    """The alert email for `watch` listing `stories` (newest first; at most
    watch.max_stories, the rest counted in the "more" line)."""
    tz = _zone(getattr(config, "timezone", "UTC"))
    stories = [s if isinstance(s, Story) else Story(**s) for s in stories]
    stories = sorted(stories, key=lambda s: s.when, reverse=True)
    limit = max(1, int(getattr(watch, "max_stories", 50) or 50))
    if len(stories) > limit:
        more += len(stories) - limit
        stories = stories[:limit]
    total = len(stories) + more
    name = header_safe(watch.name)
    query_text = clean_text(watch.query)
    parts = [_story_parts(s, watch.compiled, tz) for s in stories]
    search_line = f"newswatch search {shlex.quote(query_text)}"

    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = _subject(name, total)
    msg["From"] = config.mail.from_addr
    msg["To"] = ", ".join(watch.to or config.mail.to)
    msg["Date"] = format_datetime(date or clock.now())
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(_render_text(name, query_text, parts, total, more, search_line))
    msg.add_alternative(_render_html(name, query_text, parts, total, more, search_line),
                        subtype="html")
    return msg


def _render_text(name, query_text, parts, total, more, search_line) -> str:
    def fill(s: str, indent: str = "   ", first: str | None = None) -> str:
        return textwrap.fill(s, width=76, initial_indent=indent if first is None else first,
                             subsequent_indent=indent, break_long_words=True,
                             break_on_hyphens=False)

    def link(url: str) -> str:
        # Links stay on one line so they remain clickable, unless absurdly long.
        return url if len(url) <= 900 else "\n   ".join(_chunks(url, 900))

    noun = "story" if total == 1 else "stories"
    lines = [fill(f"newswatch: {total} new {noun} for the watch \"{name}\"", ""), ""]
    if not parts and not more:
        lines += ["Nothing new matched since the last digest.", ""]
    for i, p in enumerate(parts, 1):
        lines.append(fill(p["title"], "   ", f"{i}. "))
        meta = " · ".join(x for x in (p["outlet"], p["when"]) if x)
        lines.append(fill(meta))
        lines.append("   " + link(p["url"]) if p["link"] else fill("(not a web link) " + p["url"]))
        snippet = "".join(f"*{s}*" if hit else s for s, hit in p["snippet"]).strip()
        if snippet:
            lines.append(fill(snippet))
        if p["also"]:
            lines.append(fill("Also in: " + ", ".join(p["also"])))
        lines.append("")
    if more:
        lines += [f"... and {more} more. To see them all, run:", fill(search_line, "    "), ""]
    lines += ["-- ", fill(f"Sent by newswatch for the watch \"{name}\".", ""),
              fill(f"Query: {query_text}", "  ", "")]
    return "\n".join(lines) + "\n"


_FONT = ("-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, "
         "sans-serif")
_MARK = "background:#ffe98a;color:#1f2328;padding:0 2px;border-radius:2px;"


def _render_html(name, query_text, parts, total, more, search_line) -> str:
    noun = "story" if total == 1 else "stories"
    rows = []
    for p in parts:
        title = _html_text(p["title"])
        if p["link"]:
            head = (f'<a href="{_esc(p["link"])}" style="color:#0b57d0;text-decoration:none;">'
                    f"{title}</a>")
        else:
            head = f'{title}<br><span style="font-size:12px;color:#6b7280;font-weight:400;">' \
                   f'{_html_text(p["url"])}</span>'
        meta = " &middot; ".join(_esc(x) for x in (p["outlet"], p["when"]) if x)
        snippet = "".join(
            f'<mark style="{_MARK}">{_html_text(s)}</mark>' if hit else _html_text(s)
            for s, hit in p["snippet"]).strip()
        also = (f'<div style="margin-top:6px;font-size:13px;color:#57606a;">Also in: '
                f'{_esc(", ".join(p["also"]))}</div>' if p["also"] else "")
        rows.append(
            '<tr><td dir="auto" style="padding:18px 28px;border-top:1px solid #e5e7eb;'
            'word-break:break-word;overflow-wrap:anywhere;">\n'
            f'<div style="font-size:17px;line-height:1.35;font-weight:600;">{head}</div>\n'
            f'<div style="margin-top:4px;font-size:13px;color:#57606a;">{meta}</div>\n'
            + (f'<div style="margin-top:8px;font-size:15px;line-height:1.55;color:#1f2328;">'
               f"{snippet}</div>\n" if snippet else "")
            + also + "</td></tr>")
    if not parts and not more:
        rows.append('<tr><td style="padding:18px 28px;border-top:1px solid #e5e7eb;'
                    'font-size:15px;color:#57606a;">Nothing new matched since the last '
                    "digest.</td></tr>")
    if more:
        rows.append(
            '<tr><td style="padding:16px 28px;border-top:1px solid #e5e7eb;font-size:14px;'
            f'color:#1f2328;">&hellip; and <strong>{more} more</strong>. To see them all, run '
            '<code style="font-family:Menlo,Consolas,monospace;font-size:13px;'
            'background:#f3f4f6;padding:1px 4px;border-radius:3px;word-break:break-all;">'
            f"{_html_text(search_line)}</code></td></tr>")
    body = "\n".join(rows)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(name)}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;font-family:{_FONT};">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;">
<tr><td style="padding:22px 28px 16px 28px;">
<div style="font-size:12px;letter-spacing:0.08em;text-transform:uppercase;color:#6b7280;">newswatch alert</div>
<div style="margin-top:4px;font-size:22px;line-height:1.3;font-weight:700;color:#1f2328;word-break:break-word;">{_html_text(name)}</div>
<div style="margin-top:4px;font-size:14px;color:#57606a;">{total} new {noun}</div>
</td></tr>
{body}
<tr><td style="padding:16px 28px 22px 28px;border-top:1px solid #e5e7eb;font-size:12px;line-height:1.5;color:#6b7280;word-break:break-word;">
Sent by newswatch for the watch &ldquo;{_html_text(name)}&rdquo;, query
<code style="font-family:Menlo,Consolas,monospace;">{_html_text(query_text)}</code>.
</td></tr>
</table>
</td></tr>
</table>
</body></html>
"""


def message_bytes(msg: EmailMessage) -> bytes:
    """The exact bytes to send: policy.SMTP (CRLF), checked for bare CR/LF and long lines."""
    raw = msg.as_bytes(policy=policy.SMTP)
    body = raw[:-2] if raw.endswith(b"\r\n") else raw
    for line in body.split(b"\r\n"):
        if b"\r" in line or b"\n" in line:
            raise ValueError("message contains a bare CR or LF")
        if len(line) > MAX_LINE:
            raise ValueError(f"message has a line of {len(line)} characters (limit {MAX_LINE})")
    return raw


def make_message_id(from_addr: str | None, now: datetime | None = None) -> str:
    """A unique Message-ID, sortable by creation time, on the sender's domain."""
    domain = (parseaddr(from_addr or "")[1].rpartition("@")[2] or "newswatch.invalid").lower()
    domain = re.sub(r"[^a-z0-9.-]", "", domain) or "newswatch.invalid"
    stamp = (now or clock.now()).strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{secrets.token_hex(8)}@{domain}>"


# ----------------------------------------------------------------------------- sending


@dataclass
class SendResult:
    """What happened to one message.  `ok`: the server accepted it for at least one
    recipient.  Otherwise `transient` says whether to retry.  `refused` maps each refused
    recipient to the server's reply."""

    ok: bool
    transient: bool = False
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)


def _reply(code: int, msg: bytes | str) -> str:
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return f"{code} {clean_text(msg)}".strip()


def _scrub(text: str) -> str:
    """Remove the SMTP password (and its base64 forms) from a message before it is logged."""
    password = os.environ.get("NEWSWATCH_SMTP_PASSWORD")
    if password:
        import base64

        for secret in {password, base64.b64encode(password.encode()).decode()}:
            if secret:
                text = text.replace(secret, "***")
    return text


def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Deadline:
    """Closes the session's socket when the overall deadline passes: smtplib's timeout is
    per operation, so a server dripping one byte at a time would otherwise hold it."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.expired = threading.Event()
        self.smtp: smtplib.SMTP | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.05, self.end - time.monotonic())

    def _fire(self) -> None:
        self.expired.set()
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        return False


def send(raw: bytes, sender: str, recipients: Sequence[str], mail_config) -> SendResult:
    """Send `raw` to `recipients` over SMTP within mail_config.timeout seconds overall.
    Never raises for delivery problems: the result says sent, retry later, or failed."""
    envelope_from = parseaddr(sender)[1] or sender
    rcpts = [parseaddr(r)[1] or r for r in recipients]
    security = mail_config.security
    host, port = mail_config.smtp_host, mail_config.smtp_port
    try:
        with _Deadline(float(mail_config.timeout)) as deadline:
            try:
                return _session(raw, envelope_from, rcpts, mail_config, host, port, security,
                                deadline)
            except Exception as exc:  # noqa: BLE001 - classified below
                if deadline.expired.is_set():
                    return SendResult(False, True, f"no answer from {host}:{port} within "
                                                   f"{mail_config.timeout:g} s (deadline)")
                return _classify(exc, host, port)
            finally:
                smtp = deadline.smtp
                if smtp is not None:
                    try:
                        smtp.close()
                    except Exception:  # noqa: BLE001
                        pass
    except Exception as exc:  # noqa: BLE001 - anything unforeseen: keep the mail, retry
        return SendResult(False, True, _scrub(f"{type(exc).__name__}: {exc}"))


def _session(raw, envelope_from, rcpts, mail_config, host, port, security, deadline):
    context = tls_context(mail_config.tls_verify) if security in ("ssl", "starttls") else None
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(timeout=deadline.remaining(), context=context)
    else:
        smtp = smtplib.SMTP(timeout=deadline.remaining())
    deadline.smtp = smtp
    # Connecting here rather than in the constructor lets the deadline reach the socket;
    # smtplib takes the TLS server name (certificate check) from _host, set only there.
    smtp._host = host
    smtp.connect(host, port)
    if security == "starttls":
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
    if mail_config.username:
        password = os.environ.get("NEWSWATCH_SMTP_PASSWORD") or ""
        smtp.login(mail_config.username, password)
    refused_raw = smtp.sendmail(envelope_from, rcpts, raw)
    try:
        smtp.quit()
    except Exception:  # noqa: BLE001 - the server has the message already
        pass
    refused = {r: _scrub(_reply(code, msg)) for r, (code, msg) in refused_raw.items()}
    return SendResult(True, False, None, refused)


def _classify(exc: Exception, host: str, port: int) -> SendResult:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = {r: _scrub(_reply(code, msg)) for r, (code, msg) in exc.recipients.items()}
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        return SendResult(False, not permanent,
                          "every recipient refused: " + "; ".join(
                              f"{r}: {m}" for r, m in refused.items()), refused)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        reply = _scrub(_reply(code, exc.smtp_error))
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            reply = f"login refused: {reply}"
        return SendResult(False, not (500 <= code < 600), reply)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendResult(False, True, f"TLS certificate of {host} not trusted: "
                                       f"{exc.verify_message or exc}")
    if isinstance(exc, ssl.SSLError):
        return SendResult(False, True, f"TLS error with {host}:{port}: {exc}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendResult(False, True, f"{host}:{port}: {exc}")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return SendResult(False, True, f"timed out talking to {host}:{port}")
    if isinstance(exc, ConnectionRefusedError):
        return SendResult(False, True, f"connection to {host}:{port} refused")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendResult(False, True, f"{host}:{port} closed the connection: {exc}")
    if isinstance(exc, OSError):
        return SendResult(False, True, f"cannot reach {host}:{port}: {exc.strerror or exc}")
    return SendResult(False, True, _scrub(f"{type(exc).__name__}: {exc}"))


# ------------------------------------------------------------------------- .eml files


def eml_name(message_id: str) -> str:
    local = message_id.strip().strip("<>")
    return (re.sub(r"[^A-Za-z0-9._-]", "_", local.replace("@", "_at_")) or "message") + ".eml"


def write_eml(directory: str | os.PathLike, raw: bytes, message_id: str) -> Path:
    """Write one email as DIR/<message-id>.eml atomically (temp file, fsync, rename).  The
    name comes from the Message-ID, so writing the same message again replaces the file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / eml_name(message_id)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return target
