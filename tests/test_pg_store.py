"""What only a shared PostgreSQL store has to get right: several processes at once
(migrations, the identity of a wire story, the outbox claim), moving a SQLite store over
(`newswatch store copy`), and the connection lost mid-pass."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from conftest import ROOT, StoredDB, db_rows, run_newswatch, write_config
from newswatch.store import open_db
from newswatch.store.copy import RESHAPED
from newswatch.store.pg import migrations as pg_migrations

TESTS = Path(__file__).resolve().parent

WIRE = ("Foreign Minister Sergei Lavrov arrived in Pyongyang on Tuesday for two days of "
        "talks with North Korean officials about trade, transport links across the border "
        "and a new agreement on scientific exchanges between universities of both "
        "countries, the ministry said in a statement issued late in the evening after the "
        "delegation landed at the airport where it was met by senior officials of the "
        "government and a guard of honour.")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), str(TESTS), os.environ.get("PYTHONPATH")]))}


def race(url: str, *extra: str) -> list[subprocess.CompletedProcess]:
    start = time.time() + 3.0  # both processes imported and connected by then
    texts = [WIRE, WIRE.replace("Tuesday", "Tuesday morning")]  # a near-duplicate copy
    procs = [subprocess.Popen(
        [sys.executable, str(TESTS / "pg_worker.py"), url, f"https://{o}.example/news/1",
         text, str(start), *extra], env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for o, text in zip(("alpha", "beta"), texts)]
    for p in procs:
        p.wait(120)
    return procs


def originals(url: str) -> list[tuple]:
    return db_rows(url, "SELECT outlet, duplicate_of FROM articles ORDER BY id")


def test_two_workers_storing_one_wire_story_at_once_store_one_story(pg_url):
    open_db(pg_url).close()  # migrated before the race
    procs = race(pg_url)
    assert [p.returncode for p in procs] == [0, 0], [p.stderr[-2000:] for p in procs]
    rows = originals(pg_url)
    assert len(rows) == 2
    assert sum(1 for _, dup in rows if dup is None) == 1, rows  # one story, one copy


def test_without_the_identity_lock_the_race_is_real(pg_url):
    """The control of the test above: the same race without the lock stores two stories,
    so the test above would catch the lock going missing."""
    open_db(pg_url).close()
    procs = race(pg_url, "--no-lock")
    assert [p.returncode for p in procs] == [0, 0], [p.stderr[-2000:] for p in procs]
    assert sum(1 for _, dup in originals(pg_url) if dup is None) == 2


def test_processes_starting_together_migrate_once(pg_url):
    code = "import sys; from newswatch.store import open_db; open_db(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], env=_env(),
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    assert [p.wait(120) for p in procs] == [0] * 4, [p.stderr.read() for p in procs]
    names = [r[0] for r in db_rows(pg_url, "SELECT name FROM schema_migrations")]
    # every migration exactly once
    assert sorted(names) == sorted(name for name, _ in pg_migrations.MIGRATIONS)
    assert names.count("m001_core") == 1 and "m008_url_failures" in names


def test_an_email_another_worker_is_claiming_is_not_claimed_twice(pg_url):
    """Worker b's claim, started while a's is open, waits for it and then finds the email
    claimed by a (write transactions run one at a time, as on SQLite)."""
    import threading

    a, b = open_db(pg_url), open_db(pg_url)
    with a.write_transaction():
        outbox_id = a.enqueue_email(message_id="<m@x>", watch="w", recipients="[]",
                                    subject="s", raw=b"raw", now="2026-03-02T06:00:00+00:00",
                                    alert_ids=[])
    seen = {}

    def claim_in_b():
        with b.write_transaction():
            seen["row"] = b.outbox_row(outbox_id)

    with a.write_transaction():
        assert a.outbox_row(outbox_id)["state"] == "pending"
        other = threading.Thread(target=claim_in_b)
        other.start()
        other.join(1.0)
        assert other.is_alive() and "row" not in seen  # b waits: it read nothing yet
        a.claim_outbox(outbox_id, "host-a:1", "2026-03-02T06:00:00+00:00")
    other.join(60)
    assert seen["row"]["claimed_by"] == "host-a:1"  # and then sees a's claim
    a.close()
    b.close()


def test_store_copy_moves_a_crawled_store_and_sends_nothing_twice(tmp_path, site, smtp,
                                                                  pg_url):
    config = write_config(tmp_path, site, smtp=smtp)
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    sent = len(smtp.messages)
    assert sent > 0
    source = tmp_path / "newswatch.db"
    before = open_db(source).table_counts()

    result = run_newswatch("store", "copy", str(source), pg_url, config=config)
    assert result.returncode == 0, result.stderr
    target = open_db(pg_url)
    after = target.table_counts()
    kept = {t: n for t, n in before.items() if t not in RESHAPED}
    assert {t: n for t, n in after.items() if t in before} == kept
    assert set(kept) <= set(after)
    # a thread's terms arrive whole, in PostgreSQL's shape (one row per field): an event
    # followed before the move is still one thread after it
    def terms(store):
        return sorted((t, f, term, round(w, 9)) for t, f, term, w in store.thread_state()["terms"])
    assert terms(target) == terms(open_db(source)) != []
    # ids kept: every alert and email still names its article and its message
    assert db_rows(pg_url, "SELECT count(*) FROM alerts l JOIN articles a ON "
                   "a.id = l.article_id")[0][0] == before["alerts"]
    # the sequences go on after the copied ids
    new = target.start_run("alpha", "Alpha", "2026-12-01T00:00:00+00:00")
    assert new > max(r[0] for r in db_rows(source, "SELECT id FROM runs"))
    target.close()

    again = run_newswatch("store", "copy", str(source), pg_url, config=config)
    assert again.returncode == 3 and "not empty" in again.stderr  # never merged

    (tmp_path / "moved").mkdir()
    moved = write_config(tmp_path / "moved", site, smtp=smtp, database=pg_url)
    result = run_newswatch("crawl", config=moved)
    assert result.returncode == 0, result.stderr
    assert len(smtp.messages) == sent, "an email was sent again after the copy"
    assert StoredDB(pg_url)["articles"].count == before["articles"]
    assert run_newswatch("search", "Lavrov", config=moved).stdout.strip()


def test_connection_cut_mid_pass_fails_with_exit_3_and_the_next_pass_recovers(
        tmp_path, site, smtp, pg_url):
    name = f"nwcut{os.getpid()}"
    url = f"{pg_url}&application_name={name}"
    config = write_config(tmp_path, site, smtp=smtp, database=url)
    admin = psycopg.connect(os.environ["NEWSWATCH_TEST_POSTGRES"], autocommit=True)
    cut = threading.Event()

    def cutter():
        deadline = time.time() + 120
        while time.time() < deadline and not cut.is_set():
            try:
                n = db_rows(pg_url, "SELECT count(*) FROM articles")[0][0]
            except psycopg.Error:
                n = 0
            if n > 0:  # the pass is storing: cut every connection it has
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name = %s", [name])
                cut.set()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=cutter)
    thread.start()
    result = run_newswatch("crawl", config=config)
    thread.join()
    assert cut.is_set(), "the pass ended before its connection could be cut"
    assert result.returncode == 3, (result.returncode, result.stderr[-2000:])
    assert "database error" in result.stderr
    assert len(result.stderr.strip().splitlines()[-1]) < 400  # one line, not a traceback

    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr[-2000:]
    db = StoredDB(pg_url)
    urls = [r["url"] for r in db["articles"].rows]
    assert len(urls) == len(set(urls)) and len(urls) == len({a["slug"] for a in site.articles()})
    assert db.execute("SELECT count(*) FROM articles WHERE matched = 0").fetchone()[0] == 0
    subjects = [str(m["Subject"]) for m in smtp.messages]
    assert len(subjects) == len(set(subjects)), "an email was sent twice"
    admin.close()


def test_two_passes_starting_together_both_record_a_new_watch(pg_url):
    """Two workers' passes start at once on a new store: each finds the watch new; the
    second must not fail its pass on the first one's row (it did: exit 3, pass lost)."""
    import threading

    a, b = open_db(pg_url), open_db(pg_url)
    errors = []

    def sync_in_b():
        try:
            b.sync_watches([("Lavrov", "Lavrov")], "2026-03-02T06:00:01+00:00")
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    with a.transaction():
        a.sync_watches([("Lavrov", "Lavrov")], "2026-03-02T06:00:00+00:00")
        other = threading.Thread(target=sync_in_b)
        other.start()
        other.join(1.0)  # b read no watch and now waits on a's uncommitted row
    other.join(60)
    assert errors == []
    assert [w["created"] for w in b.watches()] == ["2026-03-02T06:00:00+00:00"]
    a.close()
    b.close()


def test_text_arrays_sent_in_binary_keep_every_character(pg_url):
    """Thread slots, reasons, block samples and URLs go as binary `text[]`
    (`pg.base.text_array`): quotes, backslashes, braces, commas, NULL and non-Latin text
    arrive as written, and NULs are dropped as from any text parameter."""
    from newswatch.store.pg.base import text_array

    values = ['{"lavrov":0.5,"visit":1}', 'a\\b "c" {d}, e', "Лавров", None, "", "x\x00y"]
    store = open_db(pg_url)
    try:
        (back,) = store.conn.execute("SELECT %s::text[]", [text_array(values)]).fetchone()
    finally:
        store.close()
    assert back == values[:-1] + ["xy"]
