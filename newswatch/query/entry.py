"""An article's folded index entry built where its text is first known (an extraction
worker, beside its near-duplicate sketch), so that the crawl's one thread only writes it.
The store uses it only if the article's title and text are still those it was built from
(a batch may yet remove learned template blocks from the text)."""

from __future__ import annotations

from typing import Any, NamedTuple

from .archive import archive_columns
from .tsvector import fold_tsvector


class ArchiveEntry(NamedTuple):
    """`value`: `archive_columns(title, text)` for SQLite, the tsvector literal for
    PostgreSQL (`backend`)."""

    backend: str
    title: str | None
    text: str | None
    value: Any

    def fits(self, backend: str, title: str | None, text: str | None) -> bool:
        return self.backend == backend and self.title == title and self.text == text


def archive_entry(title: str | None, text: str | None, backend: str) -> ArchiveEntry:
    columns = archive_columns(title, text)
    if backend == "postgresql":
        return ArchiveEntry(backend, title, text, fold_tsvector(title, text, columns))
    return ArchiveEntry(backend, title, text, columns)


def entry_value(ready, article_id: int, title: str | None, text: str | None,
                backend: str) -> Any:
    """What the `backend` store indexes for this row: the entry of `ready` (article id ->
    ArchiveEntry) if it was built from this very title and text, else one built now."""
    entry = ready.get(article_id) if ready else None
    if entry is not None and entry.fits(backend, title, text):
        return entry.value
    return archive_entry(title, text, backend).value
