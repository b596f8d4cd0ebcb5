"""Conformance: every case of tests/test_query.py that says which documents a query finds
(`hits`), run against archive search on both backends (`Store.search_articles`), so
`newswatch search` on PostgreSQL (tsvector/tsquery) finds what SQLite (FTS5) finds.
Documented differences (README, "PostgreSQL store") are listed in DIFFERENCES."""

from __future__ import annotations

import inspect

import pytest

import test_query
from newswatch.query import compile_query
from newswatch.store import open_db

NOW = "2026-03-02T06:00:00+00:00"

# test name -> why PostgreSQL differs (none so far: each entry would be documented).
DIFFERENCES: dict[str, str] = {}


def _cases() -> list[tuple[str, tuple]]:
    out = []
    for name, fn in inspect.getmembers(test_query, inspect.isfunction):
        if not name.startswith("test_") or "hits(" not in inspect.getsource(fn):
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            out.append((name, ()))
            continue
        for values in marks[0].args[1]:
            out.append((f"{name}[{values[0]}]", tuple(values)))
    return out


CASES = _cases()


class SearchHits:
    """`hits(query, docs)` answered by archive search on a real store."""

    def __init__(self, store):
        self.store = store
        self.loaded: int | None = None

    def load(self, docs: dict) -> None:
        if self.loaded == id(docs):
            return
        with self.store.transaction():
            self.store._run("DELETE FROM articles")
            for doc_id, (title, text) in docs.items():
                self.store._insert("articles", {
                    "id": doc_id, "url": f"https://x.example/{doc_id}", "outlet": "x",
                    "title": title, "text": text, "first_seen": NOW, "last_seen": NOW})
        self.loaded = id(docs)

    def __call__(self, query: str, docs: dict = test_query.DOCS) -> set[int]:
        self.load(docs)
        return {r["id"] for r in self.store.search_articles(
            compile_query(query).fts, limit=10_000, include_duplicates=True)}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def search_hits(request, tmp_path_factory):
    if request.param == "sqlite":
        store = open_db(tmp_path_factory.mktemp("conf") / "nw.db")
    else:
        server = request.getfixturevalue("pg_server")
        url, schema = server.new_url()
        store = open_db(url)
    yield SearchHits(store)
    store.close()
    if request.param == "postgres":
        server.drop(schema)


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_query_case_on_archive_search(search_hits, monkeypatch, name, args):
    if name in DIFFERENCES and search_hits.store.backend == "postgresql":
        pytest.xfail(DIFFERENCES[name])
    monkeypatch.setattr(test_query, "hits", search_hits)
    getattr(test_query, name.split("[")[0])(*args)
