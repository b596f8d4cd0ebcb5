"""The alert email as a message: a plain-text part, an HTML part rendered from
templates/alert.html with autoescape on, the exact bytes to send, and a Message-ID."""

from __future__ import annotations

import functools
import re
import secrets
import shlex
import textwrap
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from .. import clock
from ..channels.groups import outlets_shown, thread_groups
from .clean import MAX_LINE, WORD_BREAK, chunks, clean_text, header_safe, safe_link, shorten

_TITLE_MAX = 300
_LONG_WORD = re.compile(r"(\S{%d,})" % (WORD_BREAK + 1))


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
    # Its story thread (newswatch.storylines): the first report's id and title, how many
    # reports and which outlets; `coverage`: a later report of a thread already alerted.
    thread_id: int | None = None
    thread_title: str | None = None
    thread_reports: int = 0
    thread_outlets: Sequence[str] = ()
    coverage: bool = False

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


def _trim(segments: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Strip the snippet's outer whitespace (plain segments only: a highlight is kept whole)."""
    segments = list(segments)
    while segments and not segments[0][1]:
        text = segments[0][0].lstrip()
        if text:
            segments[0] = (text, False)
            break
        segments.pop(0)
    while segments and not segments[-1][1]:
        text = segments[-1][0].rstrip()
        if text:
            segments[-1] = (text, False)
            break
        segments.pop()
    return segments


def _matched_as(story: Story, query: Any) -> list[str]:
    """The forms that matched which the query does not spell out (Лаврова for Lavrov):
    what the reader could not guess from the query."""
    from ..query import matched_forms

    try:
        forms = matched_forms(query, story.title or "", story.text or "")
    except Exception:  # noqa: BLE001 - a courtesy, like the snippet
        return []
    typed = (getattr(query, "source", "") or "").casefold()
    return [clean_text(f) for f in forms if f.casefold() not in typed]


def _story_parts(story: Story, query: Any, tz: ZoneInfo) -> dict:
    from ..query import highlight

    title = shorten(clean_text(story.title) or clean_text(story.url) or "(untitled)", _TITLE_MAX)
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
    segments = _trim([(clean_text(s, strip=False), hit) for s, hit in segments])
    also = []
    for name in story.also_in:
        name = clean_text(name)
        if name and name not in also and name != clean_text(story.outlet):
            also.append(name)
    outlet = clean_text(story.outlet)
    return {"title": title, "link": safe_link(story.url), "url": clean_text(story.url),
            "outlet": outlet, "when": when, "meta": [x for x in (outlet, when) if x],
            "snippet": segments, "also": also, "matched_as": _matched_as(story, query)}


def _summary(count: int, archive: bool) -> str:
    """"3 new stories", or for a backfill "3 stories from the archive" (they are not new)."""
    noun = "story" if count == 1 else "stories"
    return f"{count} {noun} from the archive" if archive else f"{count} new {noun}"


def _subject(name: str, count: int, archive: bool = False) -> str:
    return f"[newswatch] {name}: {_summary(count, archive)}"


def render_alert(watch, stories: Sequence[Story], *, config, message_id: str,
                 more: int = 0, date: datetime | None = None,
                 archive: bool = False) -> EmailMessage:
    """The alert email for `watch` listing `stories` (newest first; at most
    watch.max_stories, the rest counted in the "more" line). `archive`: a backfill of
    stored stories (`newswatch alerts backfill`), worded as such."""
    tz = _zone(getattr(config, "timezone", "UTC"))
    stories = [s if isinstance(s, Story) else Story(**s) for s in stories]
    coverage = [s for s in stories if s.coverage]
    stories = sorted((s for s in stories if not s.coverage), key=lambda s: s.when, reverse=True)
    limit = max(1, int(getattr(watch, "max_stories", 50) or 50))
    if len(stories) > limit:
        more += len(stories) - limit
        stories = stories[:limit]
    total = len(stories) + more
    name = header_safe(watch.name)
    query_text = clean_text(watch.query)
    parts = [_story_parts(s, watch.compiled, tz) for s in stories]
    groups = _groups(stories + coverage, parts + [_story_parts(s, watch.compiled, tz)
                                                  for s in coverage])
    search_line = f"newswatch search {shlex.quote(query_text)}"

    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = _subject(name, total, archive)
    msg["From"] = config.mail.from_addr
    msg["To"] = ", ".join(watch.to or config.mail.to)
    msg["Date"] = format_datetime(date or clock.now())
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(_render_text(name, query_text, groups, total, more, search_line, archive))
    msg.add_alternative(_templates().get_template("alert.html").render(
        name=name, query_text=query_text, groups=groups, total=total, more=more,
        summary=_summary(total, archive), search_line=search_line), subtype="html")
    return msg


def _groups(stories: Sequence[Story], parts: Sequence[dict]) -> list[dict]:
    """Stories grouped by thread, groups in the order of their newest story; in a group
    the first report leads, later ones and more coverage (already alerted) follow. A
    group has a header ("<thread title>: 4 reports, outlets") when its thread has more
    than one report."""
    def thread_of(sp: tuple) -> tuple:
        story = sp[0]
        return story.thread_id, story.coverage, (story.when, story.id or 0)

    out = []
    for g in thread_groups(list(zip(stories, parts)), thread_of):
        t = g["thread"][0]
        header = None
        if t.thread_id is not None and t.thread_reports > 1:
            shown = outlets_shown([clean_text(o) for o in t.thread_outlets])
            title = shorten(clean_text(t.thread_title) or "(untitled)", _TITLE_MAX)
            header = f"{title}: {t.thread_reports} reports" + (f", {shown}" if shown else "")
        reports = [p for _, p in g["reports"]]
        out.append({"header": header, "lead": reports[0] if reports else None,
                    "later": reports[1:], "coverage": [p for _, p in g["coverage"]]})
    return out


def _render_text(name, query_text, groups, total, more, search_line,
                 archive: bool = False) -> str:
    def fill(s: str, indent: str = "   ", first: str | None = None) -> str:
        return textwrap.fill(s, width=76, initial_indent=indent if first is None else first,
                             subsequent_indent=indent, break_long_words=True,
                             break_on_hyphens=False)

    def link(url: str) -> str:
        # Links stay on one line so they remain clickable, unless absurdly long.
        return url if len(url) <= 900 else "\n   ".join(chunks(url, 900))

    lines = [fill(f"newswatch: {_summary(total, archive)} for the watch \"{name}\"", ""), ""]
    def url_line(p: dict, indent: str = "   ") -> str:
        return indent + link(p["url"]) if p["link"] else fill("(not a web link) " + p["url"],
                                                               indent)

    def brief(p: dict) -> list[str]:
        return [fill(" · ".join([p["title"], *p["meta"]]), "     ", "   - "),
                url_line(p, "     ")]

    if not groups and not more:
        lines += ["Nothing new matched since the last digest.", ""]
    for i, g in enumerate(groups, 1):
        p = g["lead"]
        if g["header"]:
            lines.append(fill(g["header"], "   ", f"{i}. "))
            if p:
                lines.append(fill(p["title"]))
        elif p:
            lines.append(fill(p["title"], "   ", f"{i}. "))
        if p:
            lines.append(fill(" · ".join(p["meta"])))
            lines.append(url_line(p))
            snippet = "".join(f"*{s}*" if hit else s for s, hit in p["snippet"]).strip()
            if snippet:
                lines.append(fill(snippet))
            if p["matched_as"]:
                lines.append(fill("Matched as: " + ", ".join(p["matched_as"])))
            if p["also"]:
                lines.append(fill("Also in: " + ", ".join(p["also"])))
        if g["later"]:
            lines.append("   Later reports:")
            for q in g["later"]:
                lines += brief(q)
        if g["coverage"]:
            lines.append("   More coverage (also reported by):")
            for q in g["coverage"]:
                lines += brief(q)
        lines.append("")
    if more:
        lines += [f"... and {more} more. To see them all, run:", fill(search_line, "    "), ""]
    lines += ["-- ", fill(f"Sent by newswatch for the watch \"{name}\".", ""),
              fill(f"Query: {query_text}", "  ", "")]
    return "\n".join(lines) + "\n"


def breakable(text: str) -> Markup:
    """Escaped HTML for cleaned text, with <wbr> so words longer than WORD_BREAK can wrap.
    Markup.join escapes every piece: only the <wbr> tags themselves are trusted."""
    return Markup("").join(
        Markup("<wbr>").join(chunks(piece, WORD_BREAK)) if _LONG_WORD.fullmatch(piece)
        else piece for piece in _LONG_WORD.split(text))


@functools.cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newswatch.mail", "templates"),
        autoescape=True,  # every template, whatever its name: escaping is never opt-in
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters["breakable"] = breakable
    return env


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
