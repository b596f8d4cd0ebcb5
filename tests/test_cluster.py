"""The cluster with real processes: `newswatch run` queueing passes in PostgreSQL, several
`newswatch worker` processes running them, an SMTP server and generated outlets, all on
127.0.0.1. Each test works in a database of its own on $NEWSWATCH_TEST_POSTGRES, dropped
afterwards, holding both the store and the job queue (`database = "postgresql://..."`, as a
cluster is configured). The harness (processes, the sites' own request log) is
bench/cluster.py's."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

from conftest import run_newswatch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import cluster as harness  # noqa: E402
from outlet_server import Farm  # noqa: E402

SERVER = os.environ.get(harness.POSTGRES_ENV)
needs_postgres = pytest.mark.skipif(
    not SERVER, reason=f"needs a PostgreSQL server: set {harness.POSTGRES_ENV}")


@pytest.fixture
def queue():
    with harness.fresh_database(SERVER) as url:
        yield url


@pytest.fixture
def farm():
    f = Farm(outlets=8, articles=2)
    yield f
    f.stop()


publish = harness.publish


@needs_postgres
@pytest.mark.timeout(600)
def test_three_workers_one_scheduler_every_alert_once(tmp_path, queue, smtp):
    """50 generated outlets, each with a story the watch matches, then one more each."""
    farm = Farm(outlets=50, articles=1)
    log = harness.PassLog()
    log.install(farm)
    expected = publish(farm)
    cluster = harness.Cluster(tmp_path, harness.config_text(
        farm.urls, queue, schedule="*/5 * * * *", smtp=smtp),
        env={"NEWSWATCH_SCHEDULE_SECONDS": "1"})
    try:
        for _ in range(3):
            cluster.start_worker()
        cluster.start_scheduler()
        assert harness.wait_for(lambda: set(expected) <= set(harness.emailed_urls(
            smtp.messages)), 240, interval=0.5), cluster.output()
        expected += publish(farm)  # a second round, found by later passes
        assert harness.wait_for(lambda: set(expected) <= set(harness.emailed_urls(
            smtp.messages)), 240, interval=0.5), cluster.output()
        time.sleep(4)  # passes go on: a doubled alert would be sent now
    finally:
        cluster.stop()
        farm.stop()
    sent = harness.emailed_urls(smtp.messages)
    assert sorted(u for u in sent if u in expected) == sorted(expected)  # each exactly once
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == len(set(ids))
    db = queue  # the store is the queue's database
    assert harness.store_problems(db) == []
    # The work was shared: more than one worker ran passes (by the sites' log).
    assert len({pid for spans in log.passes().values() for pid, _, _ in spans}) > 1
    assert log.overlaps() == []


@needs_postgres
@pytest.mark.timeout(900)
def test_sigkilled_workers_lose_and_double_nothing(tmp_path, queue, smtp):
    """SIGKILL a worker mid-pass at random points, replacing it each time: every story is
    stored and alerted once, the killed outlet's pass completes on another worker, and no
    outlet was ever crawled by two processes at once."""
    farm = Farm(outlets=4, articles=2)
    log = harness.PassLog()
    log.install(farm)
    for s in farm.servers:
        s.outlet.slow = 0.4
    rng = random.Random(5)
    expected = publish(farm)
    cluster = harness.Cluster(tmp_path, harness.config_text(
        farm.urls, queue, schedule="*/3 * * * *", smtp=smtp, stalled_after=3),
        env={"NEWSWATCH_SCHEDULE_SECONDS": "1", "NEWSWATCH_FLUSH_SECONDS": "5"})
    db = queue  # the store is the queue's database
    try:
        for _ in range(3):
            cluster.start_worker()
        cluster.start_scheduler()
        for _ in range(3):
            expected += publish(farm)
            outlet = cluster.kill_worker_mid_pass(rng)
            assert outlet, "no pass started\n" + cluster.output()
            cluster.start_worker()
            # Its pass completes on another worker (the stalled job is queued again).
            newest = harness.store_rows(db, "SELECT max(id) FROM runs")[0][0] or 0
            assert harness.wait_for(lambda: harness.store_rows(
                db, "SELECT 1 FROM runs WHERE outlet = ? AND id > ? AND status = 'ok'",
                (outlet, newest)), 180), cluster.output()
        assert harness.wait_for(lambda: set(expected) <= set(harness.emailed_urls(
            smtp.messages)), 300, interval=0.5), cluster.output()
        time.sleep(4)
    finally:
        cluster.stop()
        farm.stop()
    sent = harness.emailed_urls(smtp.messages)
    assert sorted(u for u in sent if u in expected) == sorted(expected)
    stored = {u for (u,) in harness.store_rows(db, "SELECT url FROM articles")}
    assert set(expected) <= stored
    assert harness.store_problems(db) == []
    assert log.overlaps() == []
    # A run left 'running' (its worker was killed) is always its outlet's newest: the
    # outlet's next pass records it as interrupted, as in the single-machine daemon.
    assert harness.store_rows(db, "SELECT count(*) FROM runs r WHERE status = 'running' "
                               "AND EXISTS (SELECT 1 FROM runs n WHERE n.outlet = r.outlet "
                               "AND n.id > r.id)")[0][0] == 0


@needs_postgres
def test_two_schedulers_never_double_a_pass(tmp_path, farm, queue):
    """Both schedulers queue every outlet's overdue pass at start; the queueing lock keeps
    one: a worker started afterwards runs exactly one pass per outlet."""
    log = harness.PassLog()
    log.install(farm)
    cluster = harness.Cluster(tmp_path, harness.config_text(
        farm.urls, queue, schedule="0 0 1 1 *"))
    db = queue  # the store is the queue's database
    try:
        cluster.start_scheduler("--verbose")
        cluster.start_scheduler("--verbose")
        n = len(farm.urls)
        # Each outlet was queued by one scheduler and refused to the other.
        assert harness.wait_for(lambda: cluster.output().count("already queued") >= n, 120), \
            cluster.output()
        assert harness.queue_rows(queue, "SELECT count(*) FROM procrastinate_jobs "
                                         "WHERE status = 'todo'")[0][0] == n
        cluster.start_worker("--concurrency", "2")
        assert harness.wait_for(lambda: harness.queue_rows(
            queue, "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        )[0][0] == 0, 240), cluster.output()
    finally:
        cluster.stop()
    runs = harness.store_rows(db, "SELECT outlet, count(*) FROM runs GROUP BY outlet")
    assert dict(runs) == {oid: 1 for oid in farm.urls}
    assert {o: len(spans) for o, spans in log.passes().items()} == {o: 1 for o in farm.urls}


@needs_postgres
@pytest.mark.timeout(600)
def test_run_alone_on_postgresql_delivers_every_alert_once(tmp_path, farm, queue, smtp):
    """A single machine switched to PostgreSQL keeps its one command: `newswatch run`
    queues the passes and its own worker runs them; every story is emailed once."""
    expected = publish(farm)
    cluster = harness.Cluster(tmp_path, harness.config_text(
        farm.urls, queue, schedule="*/2 * * * *", smtp=smtp),
        env={"NEWSWATCH_SCHEDULE_SECONDS": "1"})
    try:
        scheduler = cluster.start_scheduler(workers=1)
        assert harness.wait_for(lambda: set(expected) <= set(harness.emailed_urls(
            smtp.messages)), 240, interval=0.5), cluster.output()
        time.sleep(4)  # passes go on: a doubled alert would be sent now
    finally:
        cluster.stop()
    assert scheduler.returncode == 0, cluster.output()  # SIGTERM stopped it and its worker
    sent = harness.emailed_urls(smtp.messages)
    assert sorted(u for u in sent if u in expected) == sorted(expected)
    assert harness.store_problems(queue) == []
    assert "worker started" in cluster.output()


@needs_postgres
def test_a_worker_stopped_right_after_it_starts_exits_cleanly(tmp_path, queue):
    """systemd may stop a worker that has just said it is up: SIGTERM at any moment after
    its start line ends it with exit 0 (procrastinate's own handlers come later: a SIGTERM
    before them used to kill the worker outright)."""
    cluster = harness.Cluster(tmp_path, harness.config_text({}, queue, schedule="0 0 1 1 *"))
    codes = []
    for delay in (0.0,) * 8 + (0.005, 0.02, 0.1, 0.4):
        worker = cluster.start_worker()
        log = cluster.logs[-1]
        assert harness.wait_for(lambda: "newswatch worker:" in log.read_text(), 60, 0.001), \
            cluster.output()
        time.sleep(delay)
        worker.terminate()
        codes.append(worker.wait(60))
    assert codes == [0] * len(codes), cluster.output()


def test_worker_without_a_queue_says_what_to_set(tmp_path):
    config = tmp_path / "newswatch.toml"
    config.write_text('database = "newswatch.db"\n', encoding="utf-8")
    result = run_newswatch("worker", config=config, timeout=60)
    assert result.returncode == 2
    assert "postgresql://" in result.stderr and "Traceback" not in result.stderr
