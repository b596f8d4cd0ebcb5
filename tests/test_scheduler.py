"""The daemon's scheduling rules, with a fake clock where time matters (fire-time
arithmetic) and real APScheduler timing where it is cheap (seconds-long schedules)."""

from __future__ import annotations

import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scheduler  # noqa: E402
from newswatch import clock, health  # noqa: E402
from newswatch.config import cron_trigger, load_config  # noqa: E402
from newswatch.store import open_db  # noqa: E402
from newswatch.store.status import error_streak  # noqa: E402

UTC = timezone.utc


def fires(trigger, start: datetime, end: datetime) -> list[datetime]:
    """Fire times the way APScheduler walks them, one after the other."""
    out, nxt = [], trigger.get_next_fire_time(None, start)
    while nxt is not None and nxt < end:
        out.append(nxt)
        nxt = trigger.get_next_fire_time(nxt, nxt)
    return out


def write(tmp_path: Path, outlets: dict[str, str], extra: str = "") -> Path:
    text = 'database = "newswatch.db"\ntimezone = "UTC"\n' + extra + "\n"
    for oid, schedule in outlets.items():
        text += textwrap.dedent(f"""
            [[outlets]]
            id = "{oid}"
            feeds = ["http://127.0.0.1:9/{oid}.xml"]
            allow_private = true
            schedule = "{schedule}"
            """)
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_dst_end_runs_a_fixed_time_once():
    start = datetime(2025, 10, 25, 12, tzinfo=UTC)
    end = datetime(2025, 10, 27, 12, tzinfo=UTC)
    raw = cron_trigger("30 2 * * *", "Europe/Berlin")
    # APScheduler 3 on its own fires 02:30 twice on the night clocks go back ...
    assert len([f for f in fires(raw, start, end) if f.day == 26]) == 2
    guarded = scheduler.GuardedTrigger(raw)
    once = [f for f in fires(guarded, start, end) if f.day == 26]
    # ... the daemon once, at the first 02:30 (CEST).
    assert [f.astimezone(UTC).hour for f in once] == [0]


def test_dst_end_keeps_wildcard_schedules_running_through_the_repeated_hour():
    guarded = scheduler.GuardedTrigger(cron_trigger("*/15 * * * *", "Europe/Berlin"))
    start = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)  # 02:00 CEST
    got = fires(guarded, start, start + timedelta(hours=2))
    # Every 15 minutes of real time, the repeated hour included.
    assert len(got) == 8
    utc = [f.astimezone(UTC) for f in got]  # same-zone subtraction would be wall-clock
    assert all(b - a == timedelta(minutes=15) for a, b in zip(utc, utc[1:]))


def test_clock_jump_coalesces_into_one_run_without_enumerating_the_gap():
    class Counted(scheduler.GuardedTrigger):
        calls = 0

        def get_next_fire_time(self, previous_fire_time, now):
            Counted.calls += 1
            return super().get_next_fire_time(previous_fire_time, now)

    sched = BackgroundScheduler(timezone="UTC")
    trigger = Counted(cron_trigger("* * * * *", "UTC"))
    last = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    job = sched.add_job(print, trigger, next_run_time=last, coalesce=True,
                        misfire_grace_time=None)
    now = last + timedelta(days=90, seconds=20)  # 129,600 missed minutes
    # The scheduler's own catch-up path (private API, the code that would loop).
    run_times = job._get_run_times(now)
    assert run_times == [last]  # the overdue run, once
    assert Counted.calls == 1, "the gap was walked minute by minute"
    nxt = trigger.get_next_fire_time(last, now)
    assert now < nxt <= now + timedelta(minutes=1)


def test_overdue_after_a_restart():
    trigger = scheduler.schedule_trigger("0 * * * *", "UTC")  # hourly
    now = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert scheduler.is_overdue(trigger, None, now)  # never ran
    assert scheduler.is_overdue(trigger, datetime(2026, 3, 1, 8, 59, tzinfo=UTC), now)
    # Ran at 10:00:02 for the 10:00 fire: the next is 11:00, nothing missed.
    assert not scheduler.is_overdue(trigger, datetime(2026, 3, 1, 10, 0, 2, tzinfo=UTC), now)


def test_backoff_grows_and_is_capped():
    delays = [scheduler.backoff_delay(n, base=60, cap=3600) for n in range(1, 12)]
    assert delays[0] == 0  # one failure is not a pattern
    assert delays[1:5] == [60, 120, 240, 480]
    assert max(delays) == 3600 and delays[-1] == 3600


def test_error_streak_counts_failures_since_the_last_success(tmp_path):
    db = open_db(tmp_path / "n.db")
    for status in ("error", "ok", "error", "interrupted", "error", "error", "running"):
        db["runs"].insert({"outlet": "a", "started": clock.now_iso(), "status": status})
    assert error_streak(db, "a") == 3
    assert error_streak(db, "b") == 0
    # A long outage counts in full: `status` and the daemon's backoff read the same number.
    for _ in range(120):
        db["runs"].insert({"outlet": "c", "started": clock.now_iso(), "status": "error"})
    assert error_streak(db, "c") == 120


def test_the_daemon_starts_with_the_streak_status_shows(tmp_path):
    config = load_config(write(tmp_path, {"broken": "0 * * * *", "fine": "0 * * * *"}))
    db = open_db(config.database)
    for status in ("ok", *["error"] * 60):
        db["runs"].insert({"outlet": "broken", "started": clock.now_iso(), "status": status})
    db["runs"].insert({"outlet": "fine", "started": clock.now_iso(), "status": "ok"})
    daemon = scheduler.Daemon(config)
    daemon.setup()
    assert daemon.streak == {"broken": 60, "fine": 0}


def test_two_outlets_on_different_schedules_fire_on_time(tmp_path, monkeypatch):
    from apscheduler.events import EVENT_JOB_SUBMITTED

    monkeypatch.setenv(scheduler.SECONDS_ENV, "1")  # minute field read as seconds
    config = load_config(write(tmp_path, {"every2": "*/2 * * * *", "every3": "*/3 * * * *"}))
    daemon = scheduler.Daemon(config)
    for oid in ("every2", "every3"):  # ran just now: not overdue
        daemon.db["runs"].insert({"outlet": oid, "started": clock.now_iso(), "status": "ok"})
    daemon.setup()
    assert not daemon.due
    scheduled: dict[str, list[datetime]] = {"every2": [], "every3": []}

    def submitted(event):
        if event.job_id.startswith("outlet:"):
            scheduled[event.job_id.split(":", 1)[1]] += event.scheduled_run_times

    daemon.scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)
    daemon.scheduler.start()
    try:
        # Wait for fires, however slow the machine, instead of sleeping a fixed time.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
                len(scheduled["every2"]) >= 3 and len(scheduled["every3"]) >= 2):
            time.sleep(0.05)
    finally:
        daemon.scheduler.shutdown(wait=True)
    assert len(scheduled["every2"]) >= 3 and len(scheduled["every3"]) >= 2, scheduled
    for oid, period in (("every2", 2), ("every3", 3)):
        times = scheduled[oid]
        # Each on its own schedule: whole multiples of its period, in order, none twice.
        assert times == sorted(set(times)), (oid, times)
        assert all(t.second % period == 0 and t.microsecond == 0 for t in times), (oid, times)
        # Each fire marked the outlet due, once (missed fires coalesce into one).
        assert len([o for o, _ in daemon.fires if o == oid]) == len(times), \
            (oid, times, daemon.fires)


def test_restart_marks_an_overdue_outlet_due_once(tmp_path):
    config = load_config(write(tmp_path, {"missed": "0 * * * *", "fresh": "0 * * * *"}))
    db = open_db(config.database)
    db["runs"].insert({"outlet": "missed", "status": "ok",
                       "started": clock.to_iso(clock.now() - timedelta(hours=3))})
    db["runs"].insert({"outlet": "fresh", "status": "ok", "started": clock.now_iso()})
    db["runs"].insert({"outlet": "fresh", "status": "running", "started": clock.now_iso()})
    daemon = scheduler.Daemon(config)
    daemon.setup()
    assert set(daemon.due) == {"missed"}
    # The stale 'running' row of a pass nobody holds a lock for is closed.
    assert db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0


def test_backing_off_outlet_is_skipped_and_others_still_run(tmp_path):
    config = load_config(write(tmp_path, {"broken": "* * * * *", "fine": "* * * * *"}))
    daemon = scheduler.Daemon(config)
    daemon.backoff_until["broken"] = clock.now() + timedelta(minutes=5)
    daemon.streak["broken"] = 4
    launched = []
    daemon.launch = launched.append  # observe the batch instead of starting a crawl
    daemon.mark_due("broken")
    daemon.mark_due("fine")
    time.sleep(scheduler.GATHER_SECONDS + 0.05)
    daemon.dispatch()
    assert launched == [["fine"]]
    assert not daemon.due


# -------------------------------------------------------------------------- health


def _article(db, outlet, i, first_seen, text):
    import hashlib

    content_hash = lambda t: hashlib.sha1(t.encode()).hexdigest()  # noqa: E731 - equality only
    db["articles"].insert({"url": f"http://x/{outlet}/{i}", "outlet": outlet,
                           "first_seen": clock.to_iso(first_seen),
                           "last_seen": clock.to_iso(first_seen), "text": text,
                           "content_hash": content_hash(text), "matched": 1})


def _health_db(tmp_path):
    config = load_config(write(tmp_path, {"steady": "*/15 * * * *"}))
    db = open_db(config.database)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    db["outlets"].insert({"id": "steady", "name": "Steady", "first_seen": clock.to_iso(start),
                          "first_pass_done": clock.to_iso(start)})
    return config, db, start


def test_health_flags_an_outlet_gone_quiet(tmp_path, monkeypatch):
    config, db, start = _health_db(tmp_path)
    for i in range(20):  # one story an hour
        _article(db, "steady", i, start + timedelta(hours=1 + i), f"story {i} " * 100)
    last = start + timedelta(hours=20)
    for k in range(1, 40):  # passes kept working since
        db["runs"].insert({"outlet": "steady", "status": "ok",
                           "started": clock.to_iso(last + timedelta(minutes=15 * k))})
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", clock.to_iso(last + timedelta(hours=2)))
    assert health.outlet_health(db, config) == []  # two hours: a quiet spell, no more
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", clock.to_iso(last + timedelta(hours=9)))
    (warning,) = health.outlet_health(db, config)
    assert warning["outlet"] == "steady" and "gone quiet" in warning["message"]


def test_health_flags_short_and_identical_extraction(tmp_path, monkeypatch):
    config, db, start = _health_db(tmp_path)
    for i in range(20):
        _article(db, "steady", i, start + timedelta(hours=1 + i), f"long story {i} " * 150)
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", clock.to_iso(start + timedelta(hours=21)))
    assert health.outlet_health(db, config) == []
    for i in range(20, 25):  # a consent wall: every new page the same short text
        _article(db, "steady", i, start + timedelta(hours=1 + i, minutes=30),
                 "Please accept our cookies to continue.")
    messages = " | ".join(w["message"] for w in health.outlet_health(db, config))
    assert "suspiciously short" in messages and "all identical" in messages


def test_operator_message_names_the_outlets(tmp_path):
    config = load_config(write(tmp_path, {"steady": "*/15 * * * *"},
                               extra='[mail]\nfrom = "nw@example.org"\n'
                                     'operator = "ops@example.org"\noutbox_dir = "out"'))
    db = open_db(config.database)
    warnings = [{"outlet": "steady", "message": "gone quiet: no new article for 9 hours"}]
    assert health.notify_operator(db, config, warnings)
    (eml,) = (tmp_path / "out").glob("*.eml")
    text = eml.read_text()
    assert "To: ops@example.org" in text and "gone quiet" in text
