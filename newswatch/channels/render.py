"""The short Markdown message every chat channel gets: one block per story thread (the
grouping the email uses), its first report leading (title as a link, outlet, time, a one-line
snippet, "also in"), "4 reports: The Moscow Times, AP, …", then the thread's later reports
and its more coverage; cut to the service's own length limits with "and N more"."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from .groups import outlets_shown, thread_groups

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: Any, limit: int | None = None) -> str:
    """Untrusted article text on one line: control and bidi characters out, whitespace
    squashed (a title with CR/LF cannot start a new Markdown block)."""
    text = _CONTROL.sub(" ", str(text or ""))
    text = " ".join(text.split())
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _link(url: Any) -> str | None:
    url = plain(url)
    if not re.match(r"https?://", url, re.I):
        return None  # only http(s) links reach a chat client
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _meta(s: Mapping[str, Any]) -> str:
    meta = [escape(plain(s.get("outlet"))) if s.get("outlet") else "", plain(s.get("when"))]
    return " — " + ", ".join(m for m in meta if m) if any(meta) else ""


def _head(s: Mapping[str, Any]) -> str:
    title = escape(plain(s.get("title") or s.get("url") or "(untitled)", 200))
    link = _link(s.get("url"))
    return f"[{title}]({link})" if link else title


def story_lines(s: Mapping[str, Any]) -> str:
    lines = [f"- **{_head(s)}**" + _meta(s)]
    snippet = plain(s.get("snippet"), 200)
    if snippet:
        lines.append(f"  {escape(snippet)}")
    also = [plain(o) for o in s.get("also_in") or () if plain(o)]
    if also:
        lines.append("  also in: " + escape(", ".join(also)))
    return "\n".join(lines)


def _thread(s: Mapping[str, Any]) -> Mapping[str, Any]:
    return s.get("thread") or {}


def _thread_of(s: Mapping[str, Any]) -> tuple:
    t = _thread(s)
    return t.get("id"), bool(t.get("coverage")), plain(s.get("published") or s.get("first_seen"))


def _thread_line(t: Mapping[str, Any]) -> str:
    """"4 reports: The Moscow Times, AP, …" for a thread of more than one report."""
    n = int(t.get("reports") or 0)
    if t.get("id") is None or n < 2:
        return ""
    outlets = outlets_shown([plain(o) for o in t.get("outlets") or ()], "…")
    return f"{n} reports" + (f": {escape(outlets)}" if outlets else "")


def group_lines(g: Mapping[str, Any], later: int | None = None) -> str:
    """One thread's block: its first report in this message leading (as `story_lines`),
    the thread's report count and outlets, then its later reports and the more coverage
    (reports of a thread already alerted, so not new); `later`: at most this many of those
    two kinds (the rest counted in the message's last line)."""
    reports, cover = list(g["reports"]), list(g["coverage"])
    lead = reports[0] if reports else None
    t = _thread(lead or g["thread"])
    line = _thread_line(t)
    if lead is not None:
        lines = [story_lines(lead)] + ([f"  {line}"] if line else [])
    else:  # only more coverage: the thread's alert went out before
        title = escape(plain(t.get("title") or "(untitled)", 200))
        lines = [f"- **More coverage: {title}**" + (f" — {line}" if line else "")]
    rest = [("later report", s) for s in reports[1:]] + [("more coverage", s) for s in cover]
    for kind, s in rest[:len(rest) if later is None else later]:
        lines.append(f"  {kind}: {_head(s)}{_meta(s)}")
    return "\n".join(lines)


def render_markdown(watch: str, stories: Sequence[Mapping[str, Any]], *, more: int = 0,
                    search_hint: str | None = None, body_maxlen: int = 4000,
                    title_maxlen: int = 250, digest: bool = False) -> tuple[str, str]:
    """(title, body) within the limits: one block per story thread (`thread_groups`, as
    the email), its first report leading. The title counts new stories (more coverage of
    a thread already alerted is not new); what does not fit is counted in the last line,
    which points at the rest (`search_hint`: a search URL or command)."""
    groups = thread_groups(stories, _thread_of)
    total_new = sum(len(g["reports"]) for g in groups) + more
    total_cover = sum(len(g["coverage"]) for g in groups)
    noun = "story" if total_new == 1 else "stories"
    title = plain(f"newswatch: {watch}: {total_new} {'' if digest else 'new '}{noun}",
                  title_maxlen or None)
    if total_new + total_cover == 0:
        return title, "No new stories."
    hint = f" — {search_hint}" if search_hint else ""  # the hint is ours, not an article's

    def tail(new: int, cover: int) -> str:
        parts = ([f"{new} more"] if new else []) + ([f"{cover} more coverage"] if cover else [])
        return f"…and {', '.join(parts)}{hint}" if parts else ""

    blocks: list[str] = []
    used, left_new, left_cover = 0, total_new, total_cover
    for g in groups:
        n_new, n_cover = len(g["reports"]), len(g["coverage"])
        lead = 1 if n_new else 0
        # the whole block, else the lead and the thread's line alone (later reports counted)
        for later in (None, 0):
            block = group_lines(g, later)
            shown_new = n_new if later is None else lead
            shown_cover = n_cover if later is None else 0
            rest = tail(left_new - shown_new, left_cover - shown_cover)
            if used + len(block) + (len(rest) + 2 if rest else 0) <= body_maxlen:
                break
        else:
            if blocks:
                break
        blocks.append(block)
        used += len(block) + 2
        left_new -= shown_new
        left_cover -= shown_cover
    rest = tail(left_new, left_cover)
    if rest:
        blocks.append(rest)
    body = "\n\n".join(blocks)
    if len(body) > body_maxlen:  # one story alone longer than the service allows
        body = body[: body_maxlen - 1] + "…"
    return title, body
