"""The daemon and pass locking with real processes: `newswatch run` and `newswatch crawl`
against generated outlets on 127.0.0.1, signals, and the SQLite file they leave."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from conftest import run_newswatch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from outlet_server import Farm, outlets_toml  # noqa: E402


@pytest.fixture
def farm():
    f = Farm(outlets=2, articles=6)
    yield f
    f.stop()


def config_for(tmp_path: Path, farm: Farm, schedule: str = "0 0 1 1 *",
               only: list[str] | None = None) -> Path:
    urls = {k: v for k, v in farm.urls.items() if only is None or k in only}
    path = tmp_path / "newswatch.toml"
    path.write_text('database = "newswatch.db"\n[crawl]\nworkers = 1\ndownload_timeout = 60\n\n'
                    + outlets_toml(urls, schedule=schedule, feeds_only=True), encoding="utf-8")
    return path


def db_rows(tmp_path: Path, sql: str, args=()) -> list[tuple]:
    path = tmp_path / "newswatch.db"
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=30) as conn:
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []  # schema not created yet


def wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def start(config: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newswatch", "--config", str(config), *args],
                            cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def assert_consistent(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "newswatch.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM runs WHERE status = 'running'"
                            ).fetchone()[0] == 0


def test_a_second_crawl_of_a_busy_outlet_is_refused(tmp_path, farm):
    farm.outlet("gen0").slow = 30
    config = config_for(tmp_path, farm, only=["gen0"])
    first = start(config, "crawl", "gen0")
    try:
        assert wait_for(lambda: farm.outlet("gen0").requests["article_started"], 30)
        second = run_newswatch("crawl", "gen0", config=config, timeout=60)
        assert second.returncode == 5
        assert "busy" in second.stderr and "gen0" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(15)


@pytest.mark.slow
def test_sigterm_during_a_slow_page_stops_within_10_s_and_leaves_a_consistent_db(
        tmp_path, farm):
    farm.outlet("gen0").slow = 60  # article pages never answer in time
    config = config_for(tmp_path, farm)
    daemon = start(config, "run")
    try:
        # Both outlets never ran: overdue, so they run at start.
        assert wait_for(lambda: farm.outlet("gen0").requests["article_started"] >= 1, 40), \
            daemon.stderr.read() if daemon.poll() is not None else "no article request"
        assert wait_for(lambda: db_rows(
            tmp_path, "SELECT status FROM runs WHERE outlet = 'gen1'") == [("ok",)], 30)
        assert db_rows(tmp_path, "SELECT outlet FROM runs WHERE status = 'running'") == \
            [("gen0",)]
        children = psutil.Process(daemon.pid).children(recursive=True)
        assert children
        sent = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(10)
        took = time.monotonic() - sent
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert took < 10, took
    assert daemon.returncode == 0, daemon.stderr.read()
    assert_consistent(tmp_path)
    statuses = dict(db_rows(tmp_path, "SELECT outlet, status FROM runs"))
    assert statuses["gen0"] == "interrupted"
    # The quick outlet finished and kept its articles.
    assert statuses["gen1"] == "ok"
    assert db_rows(tmp_path, "SELECT count(*) FROM articles WHERE outlet = 'gen1'") == [(6,)]
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    # What was in flight is fetched again next time: the slow articles are not "known".
    farm.outlet("gen0").slow = 0
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    assert db_rows(tmp_path, "SELECT count(*) FROM articles WHERE outlet = 'gen0'") == [(6,)]


@pytest.mark.slow
def test_a_restart_after_a_missed_run_runs_it_once(tmp_path, farm):
    config = config_for(tmp_path, farm, schedule="0 0 1 1 *")  # yearly: no fire meanwhile
    result = run_newswatch("crawl", config=config)  # creates the schema and first runs
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "newswatch.db") as conn:
        # gen0's last pass was before its previous fire time (Jan 1): it missed a run.
        conn.execute("UPDATE runs SET started = '2020-06-01T00:00:00+00:00' "
                     "WHERE outlet = 'gen0'")
    daemon = start(config, "run")
    try:
        assert wait_for(lambda: db_rows(
            tmp_path, "SELECT count(*) FROM runs WHERE outlet = 'gen0' AND status = 'ok'"
        ) == [(2,)], 40)
        time.sleep(4)  # nothing more may follow
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(10)
    assert db_rows(tmp_path, "SELECT outlet, count(*) FROM runs GROUP BY outlet") == \
        [("gen0", 2), ("gen1", 1)]


def passes(tmp_path: Path) -> dict[str, int]:
    return dict(db_rows(tmp_path, "SELECT outlet, count(*) FROM runs WHERE status = 'ok' "
                        "GROUP BY outlet"))


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


FIRED = re.compile(r'Running job "(\w+) \(trigger:[^"]*" \(scheduled at ([^)]+)\)')


def fires(log: Path) -> dict[str, list[datetime]]:
    """Each outlet's fire times, as the daemon's APScheduler logged them (--verbose)."""
    out: dict[str, list[datetime]] = {"gen0": [], "gen1": []}
    for outlet, when in FIRED.findall(log.read_text(errors="replace")):
        if outlet in out:
            out[outlet].append(datetime.fromisoformat(when))
    return out


@pytest.mark.slow
def test_two_outlets_on_different_schedules_run_on_their_own(tmp_path, farm):
    path = tmp_path / "newswatch.toml"
    text = outlets_toml({"gen0": farm.urls["gen0"]}, schedule="*/4 * * * *", feeds_only=True)
    text += outlets_toml({"gen1": farm.urls["gen1"]}, schedule="*/10 * * * *", feeds_only=True)
    path.write_text('database = "newswatch.db"\n[crawl]\nworkers = 1\n\n' + text)
    log = tmp_path / "daemon.log"
    with log.open("w") as err:  # a file, not a pipe: --verbose children log a lot
        # --verbose: APScheduler logs each fire with its scheduled time, the events here.
        daemon = subprocess.Popen(
            [sys.executable, "-m", "newswatch", "--config", str(path), "--verbose", "run"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "NEWSWATCH_SCHEDULE_SECONDS": "1"})
        try:
            # However slow the machine: wait for passes and fires, not for a number of
            # seconds; then check what was recorded.
            assert wait_for(lambda: passes(tmp_path).get("gen0", 0) >= 3
                            and passes(tmp_path).get("gen1", 0) >= 1, 240), tail(log)
            # gen1 fired (every 10 s), and gen0 also at a time gen1 did not.
            assert wait_for(lambda: fires(log)["gen1"] and any(
                t.second % 10 for t in fires(log)["gen0"]), 240), tail(log)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    assert daemon.returncode == 0, tail(log)
    assert_consistent(tmp_path)
    fired = fires(log)
    # Each outlet fired on its own schedule, at its own times, in order.
    for outlet, period in (("gen0", 4), ("gen1", 10)):
        assert fired[outlet] == sorted(set(fired[outlet])), (outlet, fired[outlet])
        assert all(t.second % period == 0 and t.microsecond == 0 for t in fired[outlet]), \
            (outlet, fired[outlet])
    # A pass per fire at most (fires during a pass coalesce), plus the one at start; the
    # passes of one outlet never overlap.
    for outlet in fired:
        runs = db_rows(tmp_path, "SELECT started, finished FROM runs WHERE outlet = ? "
                       "ORDER BY id", [outlet])
        assert 1 <= len(runs) <= len(fired[outlet]) + 1, (outlet, runs, fired[outlet])
        for (_, finished), (started, _) in zip(runs, runs[1:]):
            assert finished <= started, (outlet, runs)


def test_status_shows_a_failing_outlets_error_streak(tmp_path, farm):
    farm.outlet("gen1").fail = True  # every response a 500
    config = config_for(tmp_path, farm)
    for _ in range(2):
        result = run_newswatch("crawl", config=config, timeout=120)
        assert result.returncode == 0, result.stderr
    result = run_newswatch("status", "--json", config=config)
    assert result.returncode == 0, result.stderr
    outlets = {o["id"]: o for o in json.loads(result.stdout)["outlets"]}
    assert outlets["gen1"]["error_streak"] == 2 and outlets["gen1"]["last_status"] == "error"
    assert outlets["gen0"]["error_streak"] == 0 and outlets["gen0"]["last_status"] == "ok"
    text = run_newswatch("status", config=config).stdout
    line = next(line for line in text.splitlines() if line.startswith("gen1"))
    assert line.split()[-1] == "2" and "error" in line


def test_the_daemon_warns_at_start_of_an_archive_folded_by_older_rules(tmp_path, farm):
    """A folded entry an older newswatch wrote (fold version 0): the daemon's log says so
    at start, naming `newswatch store refold`."""
    from newswatch.store import open_db

    config = config_for(tmp_path, farm)
    db = open_db(tmp_path / "newswatch.db")
    db.insert_article({"url": "https://alpha.example/1", "outlet": "gen0", "title": "Визит",
                       "text": "Сергей Лавров прибыл.", "first_seen": "2026-03-02T06:00:00Z",
                       "last_seen": "2026-03-02T06:00:00Z", "matched": 1, "changes": 0})
    with db.write_transaction():
        db.fold_pending()
    db.close()
    with sqlite3.connect(tmp_path / "newswatch.db") as conn:
        conn.execute("UPDATE articles_fts_fold_src SET version = 0")
    log = tmp_path / "run.stderr"
    with open(log, "w") as err:
        daemon = subprocess.Popen([sys.executable, "-m", "newswatch", "--config", str(config),
                                   "run"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err)
    try:
        assert wait_for(lambda: "store refold" in log.read_text(errors="replace"), 60), tail(log)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    [line] = [ln for ln in log.read_text(errors="replace").splitlines() if "refold" in ln]
    assert "1 article is indexed by older folding rules" in line
    assert "run `newswatch store refold`" in line
