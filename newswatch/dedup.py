"""Content identity (interim version by the lead; the full one replaces it)."""
from __future__ import annotations
import hashlib
import re
import unicodedata


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(re.findall(r"\w+", text))


def content_hash(text: str) -> str:
    return hashlib.sha1(normalise_text(text).encode()).hexdigest()


class DuplicateFinder:
    def __init__(self, db, window_days: int = 30):
        self.db = db

    def find(self, text: str):
        row = self.db.execute("SELECT id, duplicate_of FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1",
                              [content_hash(text)]).fetchone()
        if row:
            return row[1] or row[0]
        return None

    def add(self, article_id: int, text: str) -> None:
        pass
