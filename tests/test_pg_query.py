"""Conformance: every case of tests/test_query.py that says which documents a query finds
(`hits`, answered there by the alerts' in-batch matcher), run against archive search on
both backends (`newswatch.query.search`, the folded index), so `newswatch search` finds
what a watch finds, on SQLite (FTS5) and on PostgreSQL (tsvector/tsquery) alike.
Documented differences (README, "PostgreSQL store") are listed in DIFFERENCES."""

from __future__ import annotations

import inspect

import pytest

import test_query
from newswatch.query import compile_query, search
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
        return {r["id"] for r in search(self.store, compile_query(query), limit=10_000,
                                        include_duplicates=True)}


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


# --- the folded index follows the archive (both backends) -------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        db = open_db(tmp_path / "nw.db")
        yield db
        db.close()
        return
    server = request.getfixturevalue("pg_server")
    url, schema = server.new_url()
    db = open_db(url)
    yield db
    db.close()
    server.drop(schema)


def _ids(store, query: str) -> list[int]:
    return sorted(r["id"] for r in search(store, compile_query(query), include_duplicates=True))


def _article(store, title: str, text: str) -> int:
    with store.transaction():
        return store.insert_article({"url": f"https://x.example/{title}", "outlet": "x",
                                     "title": title, "text": text, "first_seen": NOW,
                                     "last_seen": NOW})


def test_folded_index_follows_corrections_deletions_and_ignores_bookkeeping(store):
    one = _article(store, "Визит", "Министр Лавров прилетел в Пхеньян.")
    two = _article(store, "Talks", "Sergey Lavrov met reporters.")
    assert _ids(store, "Lavrov") == [one, two]
    assert _ids(store, "~Sergei") == [two]
    with store.transaction():
        store.correct_article(one, {"title": "Визит", "author": None, "published": None,
                                    "date_source": None, "language": "ru",
                                    "text": "Министр Медведев прилетел в Пхеньян.",
                                    "content_hash": "h", "fetched_url": None, "status": 200},
                              NOW)
        store.fold_pending()
    assert _ids(store, "Lavrov") == [two]
    assert _ids(store, "Medvedev") == [one]
    with store.transaction():
        store.set_article_text(two, "Serguei Lavrov left.", "h2")
        store.fold_pending()
    assert _ids(store, "~Sergei") == [two] and _ids(store, "reporters") == []
    # bookkeeping (matched, last seen) leaves the folded index alone: nothing is queued
    with store.transaction():
        store.mark_matched([one, two])
        store.touch_article(one, NOW, 200)
    assert store._value("SELECT count(*) FROM articles_fts_fold_pending") == 0
    with store.transaction():
        store._run("DELETE FROM articles WHERE id = ?", [two])
    assert _ids(store, "Lavrov") == [] and _ids(store, "Medvedev") == [one]
    if store.backend == "sqlite":
        store.execute("INSERT INTO articles_fts_fold(articles_fts_fold) VALUES ('integrity-check')")


def test_articles_written_without_the_store_are_folded_before_a_search(store):
    # raw SQL (another program, a test, `store copy`) queues the row; a search folds it
    with store.transaction():
        store._insert("articles", {"url": "https://x.example/1", "outlet": "x",
                                   "title": "Речь", "text": "Речь Лаврова.",
                                   "first_seen": NOW, "last_seen": NOW})
    assert store._value("SELECT count(*) FROM articles_fts_fold_pending") == 1
    assert len(_ids(store, "Lavrov")) == 1
    assert store._value("SELECT count(*) FROM articles_fts_fold_pending") == 0


def test_migration_folds_the_articles_already_stored(tmp_path):
    from newswatch.store.migrations import migrations

    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="m009_folded_search")
    db["articles"].insert({"id": 1, "url": "https://x.example/1", "outlet": "x",
                           "title": "Визит", "text": "Визит Сергея Лаврова.",
                           "first_seen": NOW, "last_seen": NOW})
    db.close()
    store = open_db(tmp_path / "old.db")
    assert "m009_folded_search" in store.applied_migrations()
    assert store._value("SELECT count(*) FROM articles_fts_fold_pending") == 0
    assert _ids(store, '"~Sergei Lavrov"') == [1]
    store.close()
