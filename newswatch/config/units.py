"""Durations ("2d", "48h") and sizes ("10MB") as users write them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"(?:\d+[wdhms])+")
_DURATION_PART = re.compile(r"(\d+)([wdhms])")
_DURATION_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2,
               "gb": 1024**3, "gib": 1024**3}


def parse_duration(text: str) -> timedelta | None:
    """"2d", "48h", "30m", "90s", "1w", or combinations like "1d12h"; None if malformed."""
    compact = text.replace(" ", "").lower()
    if not _DURATION.fullmatch(compact):
        return None
    parts = {}
    for number, unit in _DURATION_PART.findall(compact):
        key = _DURATION_UNITS[unit]
        parts[key] = parts.get(key, 0) + int(number)
    return timedelta(**parts)


def parse_size(value: Any) -> int | None:
    """Bytes from an integer or "10MB" / "512KB" (binary multiples); None if malformed."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    m = _SIZE.fullmatch(value.strip())
    if not m:
        return None
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])

