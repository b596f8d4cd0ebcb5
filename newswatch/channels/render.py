"""The short Markdown message every chat channel gets: title as a link, outlet, time, a
one-line snippet, "also in"; cut to the service's own length limits with "and N more"."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

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


def story_lines(s: Mapping[str, Any]) -> str:
    title = escape(plain(s.get("title") or s.get("url") or "(untitled)", 200))
    link = _link(s.get("url"))
    head = f"[{title}]({link})" if link else title
    meta = [escape(plain(s.get("outlet"))) if s.get("outlet") else "", plain(s.get("when"))]
    lines = [f"- **{head}**" + (" — " + ", ".join(m for m in meta if m) if any(meta) else "")]
    snippet = plain(s.get("snippet"), 200)
    if snippet:
        lines.append(f"  {escape(snippet)}")
    also = [plain(o) for o in s.get("also_in") or () if plain(o)]
    if also:
        lines.append("  also in: " + escape(", ".join(also)))
    return "\n".join(lines)


def render_markdown(watch: str, stories: Sequence[Mapping[str, Any]], *, more: int = 0,
                    search_hint: str | None = None, body_maxlen: int = 4000,
                    title_maxlen: int = 250, digest: bool = False) -> tuple[str, str]:
    """(title, body) within the limits; stories beyond what fits are counted in the last
    line, which points at the rest (`search_hint`: a search URL or command)."""
    total = len(stories) + more
    noun = "story" if total == 1 else "stories"
    title = plain(f"newswatch: {watch}: {total} {'' if digest else 'new '}{noun}", title_maxlen
                  or None)
    if total == 0:
        return title, "No new stories."
    blocks: list[str] = []
    used = 0
    hint = f" — {search_hint}" if search_hint else ""
    for i, s in enumerate(stories):
        block = story_lines(s)
        rest = total - i - 1
        tail = len(f"\n\n…and {rest} more{hint}") if rest else 0
        if used + len(block) + 2 + tail > body_maxlen and blocks:
            break
        blocks.append(block)
        used += len(block) + 2
    shown = len(blocks)
    if total > shown:
        blocks.append(f"…and {total - shown} more{hint}")  # the hint is ours, not an article's
    body = "\n\n".join(blocks)
    if len(body) > body_maxlen:  # one story alone longer than the service allows
        body = body[: body_maxlen - 1] + "…"
    return title, body
