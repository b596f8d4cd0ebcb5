"""The store's interface, through its public methods only, on both backends (the `store`
fixture: SQLite, and PostgreSQL when NEWSWATCH_TEST_POSTGRES names a server)."""

from __future__ import annotations

import pytest

from conftest import fold_as_older_rules_did
from newswatch.store import Store, open_db

NOW = "2026-03-02T06:00:00+00:00"
LATER = "2026-03-02T07:00:00+00:00"


def _sqlite(tmp_path) -> Store:
    return open_db(tmp_path / "nw.db")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = _sqlite(tmp_path)
    else:
        s = open_db(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def article(store, url: str, *, outlet: str = "alpha", text: str = "Some words here.",
            content_hash: str = "h1", first_seen: str = NOW, **extra) -> int:
    return store.insert_article({"url": url, "outlet": outlet, "title": "A title",
                                 "text": text, "content_hash": content_hash,
                                 "first_seen": first_seen, "last_seen": first_seen,
                                 "matched": 0, "changes": 0, **extra})


def test_migrations_are_applied_in_order(store):
    expected = {"sqlite": ["m001_core", "m002_alert_delivery", "m003_runs_found",
                           "m004_fts_on_text_updates"],
                "postgresql": ["m001_core", "m002_search"]}[store.backend]
    assert store.applied_migrations()[:len(expected)] == expected


def test_article_found_by_url_and_alias_and_corrected_in_place(store):
    aid = article(store, "https://a.example/1")
    store.add_aliases(aid, ["https://a.example/1?utm=x"])
    assert store.article_identity("https://a.example/1") == {"id": aid, "content_hash": "h1"}
    assert store.article_identity("https://a.example/1?utm=x")["id"] == aid
    assert store.article_by_url("https://a.example/1?utm=x") is None  # aliases not here
    assert store.article_identity("https://a.example/2") is None
    row = {"title": "New", "author": None, "published": None, "date_source": None,
           "language": "en", "text": "Corrected words.", "content_hash": "h2",
           "fetched_url": "https://a.example/1", "status": 200}
    store.correct_article(aid, row, LATER)
    stored = store.article(aid)
    assert (stored["text"], stored["changes"], stored["changed"], stored["first_seen"]) == (
        "Corrected words.", 1, LATER, NOW)
    assert store.article_seen("https://a.example/1?utm=x") == {"first_seen": NOW,
                                                              "last_seen": LATER}


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.transaction():
        article(store, "https://a.example/1")
        raise RuntimeError("boom")
    assert store.article_identity("https://a.example/1") is None
    with pytest.raises(store.errors), store.write_transaction():
        article(store, "https://a.example/2")
        article(store, "https://a.example/2")  # one row per canonical URL
    assert store.article_identity("https://a.example/2") is None


def test_runs_start_finish_and_recover(store):
    ok = store.start_run("alpha", "Alpha", NOW)
    store.finish_run(ok, "alpha", {"finished": LATER, "status": "ok", "pages": 3,
                                   "new_articles": 1, "duplicates": 0, "errors": 0,
                                   "ms": 5, "message": "", "found": 2}, LATER)
    assert store.first_pass_done("alpha") == LATER
    assert store.recent_ok_runs_found("alpha", 3) == [2]
    store.start_run("alpha", "Alpha", LATER)
    assert store.recover_stale_runs(["alpha"], LATER) == 1
    assert store.recover_stale_runs(["alpha"], LATER) == 0
    assert store.ok_runs_since("alpha", "2026-03-01T00:00:00+00:00") == 1  # after, strictly
    assert store.ok_runs_since("alpha", NOW) == 0


def test_validators_kept_only_after_a_clean_pass(store):
    url = "https://a.example/rss"
    row = {"url": url, "etag": '"v1"', "last_modified": None, "checked": NOW, "status": 200}
    store.save_validators([row], clean=True)
    assert store.validators(url) == {"etag": '"v1"', "last_modified": None}
    store.save_validators([{"url": url, "checked": LATER, "status": 304, "touch": True}],
                          clean=False)
    assert store.validators(url)["etag"] == '"v1"'  # a 304 keeps them
    store.save_validators([{**row, "etag": '"v2"'}], clean=False)
    assert store.validators(url) is None  # something failed: parse it in full next time


def test_template_pages_count_once(store):
    blocks = {"fp1": "Support us", "fp2": "Subscribe"}
    store.learn_template_page("alpha", "https://a.example/1", blocks, NOW)
    store.learn_template_page("alpha", "https://a.example/1", blocks, NOW)  # counted once
    store.learn_template_page("alpha", "https://a.example/2", {"fp1": "x"}, NOW)
    assert store.template_page_count("alpha") == 2
    assert store.template_block_pages("alpha", "fp1") == 2
    assert store.template_block_pages("alpha", "fp2") == 1
    assert store.template_model("alpha", 2, 0.0) == (2, ["fp1"])
    assert store.template_model("alpha", 1, 0.75) == (2, ["fp1"])  # on 1 of 2 pages: not fp2
    assert sorted(store.template_model("alpha", 1, 0.5)[1]) == ["fp1", "fp2"]
    assert store.template_model("nobody", 1, 0.5) == (0, [])
    assert store.prune_template_blocks(LATER) == 1  # fp2: one page, not seen since
    assert store.template_block_pages("alpha", "fp2") is None


def test_bands_find_candidates_within_the_window(store):
    aid = article(store, "https://a.example/1")
    buckets = [bytes([i]) * 8 for i in range(3)]
    store.add_bands(aid, buckets, "2026-03-01")
    assert store.band_candidates([b"x" * 8, buckets[1], b"y" * 8], "2026-02-01") == {aid}
    assert store.band_candidates(buckets, "2026-03-02") == set()
    assert store.first_with_hash("h1", "2026-01-01T00:00:00+00:00") == aid
    assert store.prune_bands("2026-03-02") == 3


def test_one_alert_per_watch_and_story_and_its_email(store):
    aid = article(store, "https://a.example/1")
    store.sync_watches([("Lavrov", "lavrov")], NOW)
    row = {"watch": "Lavrov", "article_id": aid, "created": NOW, "state": "pending",
           "reason": None}
    store.insert_alerts([row, {**row, "state": "skipped"}])
    store.mark_matched([aid])
    assert store.unmatched_articles(0, 10) == []
    assert store.alert_keys([aid]) == {("Lavrov", aid)}
    (pending,) = store.pending_alerts("Lavrov")
    with store.write_transaction():
        outbox_id = store.enqueue_email(message_id="<m1@x>", watch="Lavrov",
                                        recipients='["a@example.org"]', subject="s",
                                        raw=b"raw", now=NOW, alert_ids=[pending["id"]])
    assert [r["id"] for r in store.outbox_due(NOW)] == [outbox_id]
    store.claim_outbox(outbox_id, "host:1", NOW)
    assert store.outbox_row(outbox_id)["state"] == "sending"
    store.mark_failed(outbox_id, "550 no", None)
    assert store.alert_state_counts() == {"failed": 1}
    assert store.requeue_failed(LATER) == 1
    store.mark_sent(outbox_id, LATER, None, None)
    assert store.alert_state_counts() == {"sent": 1}
    assert store.recent_alerts()[0]["email_state"] == "sent"


def test_search_ranks_and_filters(store):
    one = article(store, "https://a.example/1", text="Lavrov arrived in Pyongyang.")
    article(store, "https://b.example/1", outlet="beta", text="Lavrov again.",
            content_hash="h2", duplicate_of=one)
    rows = store.search_articles('"lavrov"')
    assert [r["id"] for r in rows] == [one]
    assert len(store.search_articles('"lavrov"', include_duplicates=True)) == 2
    assert store.search_articles('"lavrov"', outlets=["beta"]) == []
    assert store.backfill_candidates('"pyongyang"', "2026-01-01") == [one]


def _open_at(target: str, barrier) -> None:
    barrier.wait()
    open_db(target).close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_starting_together_migrate_a_new_database_once(backend, tmp_path, request):
    """Two schedulers, a worker and `serve` started by one systemd target open a database
    nobody has created yet: every one starts, and each migration is applied once."""
    import multiprocessing

    target = (str(tmp_path / "new.db") if backend == "sqlite"
              else request.getfixturevalue("pg_url"))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(6)
    procs = [ctx.Process(target=_open_at, args=(target, barrier)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 6
    s = open_db(target)
    try:
        names = s.applied_migrations()
    finally:
        s.close()
    assert len(names) == len(set(names)) and names[0] == "m001_core"


# -- re-folding (newswatch store refold) ------------------------------------------------

def _cli(tmp_path, store_url):
    """`invoke(*args)`: the CLI in-process (CliRunner) on a config whose database is
    `store_url`; asserts exit 0."""
    from click.testing import CliRunner
    from smtp import write_config

    from newswatch.cli.main import cli

    config = write_config(tmp_path, database=store_url)

    def invoke(*args):
        result = CliRunner().invoke(cli, ["--config", str(config.path), *args],
                                    prog_name="newswatch", catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result
    return invoke


def test_refold_rebuilds_what_older_folding_rules_indexed_and_status_says_so(tmp_path,
                                                                           store_url):
    """An article folded by older rules is missed by `Lavrov` (its Cyrillic forms were never
    folded); `status` names `newswatch store refold`, which folds it again: then `Lavrov`
    finds it and `status` no longer warns. The article folded by the current rules is left
    alone."""
    invoke = _cli(tmp_path, store_url)
    db = open_db(store_url)
    old = article(db, "https://alpha.example/1", title="Визит в Пхеньян",
                  text="Переговоры Сергея Лаврова в Пхеньяне.")
    article(db, "https://alpha.example/2", title="Lavrov in Pyongyang",
            text="Sergei Lavrov met officials.", content_hash="h2")
    with db.write_transaction():
        db.fold_pending()
    db.close()

    def found() -> set[str]:
        import json

        return {r["title"] for r in json.loads(invoke("search", "Lavrov", "--json").stdout)}

    assert found() == {"Lavrov in Pyongyang", "Визит в Пхеньян"}  # folded by these rules
    assert "refold" not in invoke("status").stdout
    fold_as_older_rules_did(store_url, old)
    status = invoke("status").stdout
    assert "warning: 1 article is indexed by older folding rules" in status
    assert "run `newswatch store refold`" in status
    assert found() == {"Lavrov in Pyongyang"}

    result = invoke("store", "refold", "--batch", "1")
    assert result.stdout.strip() == "refolded 1 article with fold version 1"
    assert "refolded 1/1 articles" in result.stderr
    assert found() == {"Lavrov in Pyongyang", "Визит в Пхеньян"}
    assert "refold" not in invoke("status").stdout
    # nothing left: a second run has nothing to do
    assert invoke("store", "refold").stdout.strip() == "refolded 0 articles with fold version 1"


def test_refold_json_is_one_object_with_the_result_and_progress_on_stderr(tmp_path, store_url):
    """`store refold --json`: what the text line says (refolded, fold version, left), as one
    JSON object on stdout, for a script that upgrades and checks; progress stays on stderr."""
    import json

    from newswatch.names import FOLD_VERSION

    invoke = _cli(tmp_path, store_url)
    db = open_db(store_url)
    ids = [article(db, f"https://alpha.example/{n}", text="Сергей Лавров прибыл.",
                   content_hash=f"h{n}") for n in (1, 2)]
    with db.write_transaction():
        db.fold_pending()
    db.close()
    for aid in ids:
        fold_as_older_rules_did(store_url, aid)

    result = invoke("store", "refold", "--json", "--batch", "1")
    assert json.loads(result.stdout) == {"refolded": 2, "version": FOLD_VERSION, "left": 0}
    assert result.stderr.splitlines() == ["refolded 1/2 articles", "refolded 2/2 articles"]
    assert json.loads(invoke("store", "refold", "--json").stdout)["refolded"] == 0


def test_new_articles_are_folded_by_the_current_rules(store):
    article(store, "https://alpha.example/1", text="Сергей Лавров прибыл.")
    with store.write_transaction():
        store.fold_pending()
    assert store.fold_stale() == 0
    assert store.refold_batch(10) == 0


def test_folded_entries_built_beforehand_are_used_only_for_their_own_text(store):
    """An extraction worker builds each page's folded entry; the batch may then remove
    learned boilerplate from the text: the index must hold the text as stored."""
    from newswatch.query import compile_query, search
    from newswatch.query.entry import archive_entry

    kept = "Сергей Лавров прибыл в Пхеньян на переговоры."
    first = article(store, "https://alpha.example/1", text=kept)
    cut = article(store, "https://alpha.example/2", text=kept, content_hash="h2")
    ready = {first: archive_entry("A title", kept, store.backend),
             # built before an appeal was cut from the text: not what is stored any more
             cut: archive_entry("A title", kept + " Support our newsroom today.", store.backend)}
    wrong = article(store, "https://alpha.example/3", text=kept, content_hash="h3")
    # built for the other backend (its value is of another kind): not used either
    ready[wrong] = archive_entry("A title", kept,
                                 "sqlite" if store.backend == "postgresql" else "postgresql")
    with store.write_transaction():
        assert store.fold_pending(ready) == 3

    def found(q: str) -> set[int]:
        return {r["id"] for r in search(store, compile_query(q), limit=10)}

    assert found("Lavrov") == {first, cut, wrong}  # across scripts, whoever built the entry
    assert found("newsroom") == set()  # the cut appeal is not indexed
