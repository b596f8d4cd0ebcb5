"""Article-derived text made fit for an email: for display, for a header, for a link."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

MAX_LINE = 998  # RFC 5322 hard limit, without the CRLF
WORD_BREAK = 60  # characters after which a word without spaces is broken for display
# Embedding, override and isolate controls: they can make a headline read backwards
# ("Trojan Source"); plain RTL text never needs them to display right.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


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


def chunks(word: str, size: int) -> list[str]:
    return [word[i:i + size] for i in range(0, len(word), size)]


def shorten(text: str, limit: int) -> str:
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
