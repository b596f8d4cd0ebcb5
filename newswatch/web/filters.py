"""Jinja2 filters: every piece of article-derived text passes `text` (no control or bidi
characters; autoescape does the HTML), every link passes `href` (http and https only)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..mail import clean_text


def text(value) -> str:
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    if value.isascii() and value.isprintable() and "  " not in value \
            and value[:1] != " " and value[-1:] != " ":
        return value  # nothing to remove or squash: the common case, kept cheap
    return clean_text(value)


def segment(value) -> str:
    """A piece of a snippet: cleaned like `text`, its edge spaces kept."""
    return clean_text(value, strip=False) if isinstance(value, str) else ""


def href(value) -> str | None:
    """The URL when it is http(s) with a host, else None (the template shows no link)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if any(ord(ch) < 33 or ch in "\"'<>\\`" for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def when(value) -> str:
    """An ISO 8601 UTC timestamp as `2026-11-24 16:18 UTC`."""
    if not value:
        return ""
    value = str(value)
    if len(value) >= 16 and value[10] == "T":
        zone = " UTC" if value.endswith(("+00:00", "Z")) else " " + value[19:].lstrip(".0123456789")
        return f"{value[:10]} {value[11:16]}{zone}".rstrip()
    return value


def install(env, config) -> None:
    def outlet_name(outlet_id) -> str:
        outlet = config.outlet(outlet_id) if outlet_id else None
        return text(outlet.name if outlet else outlet_id)

    env.filters.update(text=text, seg=segment, href=href, when=when, outlet=outlet_name)
