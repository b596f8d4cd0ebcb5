"""Storage faults (issue 7): the database is shared with readers, fills up, or turns
read-only under a pass. The pass either succeeds with nothing lost, or fails loudly
(`database error: ...`, exit 3) leaving whole batches only; the next pass recovers, and every
match still yields exactly one alert and one email.

Each scenario crawls the fixture site (newswatch.demosite) with the real CLI and compares
with a clean reference pass of the same site.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT, write_config

pytestmark = pytest.mark.slow

WATCHES = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'

[[watches]]
name = "Korea"
query = 'Pyongyang OR "North Korea"'
"""


def newswatch(*args: str, config: Path, limit_file_size: int | None = None,
              timeout: float = 240) -> subprocess.CompletedProcess:
    """The real CLI in a child process; `limit_file_size` caps every file it writes
    (RLIMIT_FSIZE), which is how a full disk looks to SQLite."""
    def cap():
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "newswatch", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=config.parent, preexec_fn=cap)


def snapshot(config: Path) -> dict:
    """What a user can see in the database: stories, alerts, and messages."""
    db = sqlite3.connect(config.parent / "newswatch.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        urls = [r[0] for r in db.execute("SELECT url FROM articles")]
        alerts = [tuple(r) for r in db.execute(
            "SELECT x.watch, a.url FROM alerts x JOIN articles a ON a.id = x.article_id")]
        pending = db.execute("SELECT count(*) FROM articles WHERE matched = 0").fetchone()[0]
    finally:
        db.close()
    return {"urls": urls, "alerts": alerts, "pending": pending}


def path_of(url: str) -> str:
    return url.split("/", 3)[-1]


@pytest.fixture
def reference(tmp_path, site, smtp):
    """A clean pass of the fixture site: what every faulty scenario must end up with."""
    folder = tmp_path / "reference"
    folder.mkdir()
    config = write_config(folder, site, smtp=smtp, watches=WATCHES)
    result = newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    ref = snapshot(config)
    ref["subjects"] = sorted(str(m["Subject"]) for m in smtp.messages)
    assert ref["urls"] and ref["alerts"] and ref["subjects"]
    smtp.handler.received.clear()
    return ref


def same_outcome(config: Path, ref: dict, smtp) -> None:
    now = snapshot(config)
    assert len(now["urls"]) == len(set(now["urls"])), "an article stored twice"
    assert sorted(map(path_of, now["urls"])) == sorted(map(path_of, ref["urls"]))
    assert sorted((w, path_of(u)) for w, u in now["alerts"]) == \
        sorted((w, path_of(u)) for w, u in ref["alerts"])
    assert now["pending"] == 0
    assert sorted(str(m["Subject"]) for m in smtp.messages) == ref["subjects"]


def test_long_reader_and_a_held_write_lock_cost_nothing(tmp_path, site, smtp, reference):
    config = write_config(tmp_path, site, smtp=smtp, watches=WATCHES)
    assert newswatch("status", config=config).returncode == 0  # creates the schema
    database = config.parent / "newswatch.db"

    # A reader (datasette, `newswatch search`) holds one snapshot for the whole pass...
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    before = reader.execute("SELECT count(*) FROM articles").fetchone()[0]
    # ...and another process holds the write lock for the first seconds of it.
    locker = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(3.0, lambda: locker.execute("COMMIT"))
    release.start()
    try:
        result = newswatch("crawl", config=config)
    finally:
        release.join()
        locker.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "locked" not in result.stderr
    # The reader's snapshot never moved; it sees everything once it starts again.
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == before == 0
    reader.execute("COMMIT")
    reader.close()
    same_outcome(config, reference, smtp)


def prepare(tmp_path, site, smtp) -> tuple[Path, Path]:
    config = write_config(tmp_path, site, smtp=smtp, watches=WATCHES)
    assert newswatch("status", config=config).returncode == 0  # schema, then closed cleanly
    database = config.parent / "newswatch.db"
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
    return config, database


def assert_failed_loudly(result, *words: str) -> None:
    assert result.returncode == 3, (result.returncode, result.stderr[-3000:])
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("database error:"), result.stderr[-3000:]
    assert any(w in last for w in words), last
    assert "Traceback" not in result.stderr


def test_disk_full_fails_loudly_and_the_next_pass_recovers(tmp_path, site, smtp, reference):
    config, database = prepare(tmp_path, site, smtp)
    # Room for the first few small transactions, not for a batch of articles with their
    # full-text index: every file the pass writes is capped just above the schema's size.
    cap = database.stat().st_size + 64 * 1024
    result = newswatch("crawl", config=config, limit_file_size=cap)
    assert_failed_loudly(result, "full", "disk")
    assert smtp.messages == []  # nothing sent from a pass that failed
    half = snapshot(config)  # integrity ok, and no article stored without its matching
    assert half["pending"] == 0 or half["urls"] == []

    result = newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    same_outcome(config, reference, smtp)


def chattr(path: Path, flag: str) -> bool:
    return shutil.which("chattr") is not None and subprocess.run(
        ["chattr", flag, str(path)], capture_output=True).returncode == 0


def test_read_only_database_fails_loudly_and_the_next_pass_recovers(tmp_path, site, smtp,
                                                                     reference):
    config, database = prepare(tmp_path, site, smtp)
    if os.geteuid() == 0:
        # root ignores file modes: make the file immutable instead.
        if not chattr(database, "+i"):
            pytest.skip("running as root and chattr +i is not available here")
    else:
        database.chmod(0o444)
    try:
        result = newswatch("crawl", config=config)
    finally:
        if os.geteuid() == 0:
            chattr(database, "-i")
        database.chmod(0o644)
    assert_failed_loudly(result, "readonly", "read-only", "read only", "unable to open")
    assert smtp.messages == []

    result = newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    same_outcome(config, reference, smtp)
