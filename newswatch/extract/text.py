"""Small text helpers shared by the extraction modules: whitespace cleaning, comparison keys
and 4-word shingles."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

_WS = re.compile(r"\s+")


def clean(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def norm(text: str) -> str:
    """Comparison key: case-folded words only."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def shingles(text: str) -> Counter:
    toks = re.findall(r"\w+", text)
    return Counter(tuple(toks[i:i + 4]) for i in range(max(1, len(toks) - 3)))


def contained(part: str, whole: str) -> float:
    """Share of `part`'s 4-word shingles that also occur in `whole`."""
    a = shingles(part)
    if not a:
        return 0.0
    b = shingles(whole)
    return sum(1 for s in a if s in b) / len(a)
