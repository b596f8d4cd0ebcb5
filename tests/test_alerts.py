"""Alerts end to end against a real store (a SQLite file, and PostgreSQL when
NEWSWATCH_TEST_POSTGRES names a server) and a real aiosmtpd server on 127.0.0.1: matching
rules, the outbox, failures, crashes, digests, and the commands built on them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from newswatch import alerts, clock
from newswatch.explain import explain
from newswatch.store import open_db
import smtp as smtp_helpers
from conftest import StoreView
from smtp import DripServer, SmtpServer, add_article, free_port

ROOT = Path(__file__).resolve().parent.parent
T0 = "2026-03-02T06:00:00+00:00"  # a Monday


_DATABASE: list[str] = []  # what `database = ...` says in this test (see `backend`)


@pytest.fixture(autouse=True)
def backend(store_url):
    """Every test here once per backend."""
    _DATABASE[:] = [store_url]
    yield store_url
    _DATABASE.clear()


def write_config(tmp_path, **kw):
    """tests/smtp.py's config, with `database` pointing at this test's store."""
    return smtp_helpers.write_config(tmp_path, database=_DATABASE[0], **kw)


@pytest.fixture(autouse=True)
def fake_now(monkeypatch):
    """The clock, moved by tests with `set_now`."""
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", T0)
    return monkeypatch


def set_now(monkeypatch, iso: str) -> None:
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", iso)


def later(minutes: float) -> str:
    return clock.to_iso(clock.now() + timedelta(minutes=minutes))


@pytest.fixture
def server():
    s = SmtpServer().start()
    yield s
    s.stop()


def setup(tmp_path, **kw):
    config = write_config(tmp_path, **kw)
    db = StoreView(open_db(config.database))
    alerts.sync_watches(db, config)
    return config, db


def lavrov(db, n: int = 1, **kw) -> list[int]:
    return [add_article(db, title=f"Lavrov in Pyongyang, day {i}",
                        text=f"Sergei Lavrov met officials in Pyongyang for talks ({i}).", **kw)
            for i in range(n)]


def outbox(db) -> list[dict]:
    return list(db["outbox"].rows_where(order_by="id"))


def alert_states(db) -> dict[int, str]:
    return {r["article_id"]: r["state"] for r in db["alerts"].rows}


# ------------------------------------------------------------------ matching rules


def test_one_email_per_watch_listing_its_stories_and_nothing_twice(tmp_path, server):
    config, db = setup(tmp_path, server=server)
    lavrov(db, 2)
    kim = add_article(db, title="Kim Jong-un in Pyongyang with Lavrov",
                      text="Kim Jong-un greeted Sergei Lavrov in Pyongyang.")
    assert alerts.match_pending(db, config) == 4
    report = alerts.flush(db, config)
    assert (report.queued, report.sent) == (2, 2)
    subjects = sorted(m["Subject"] for m in server.messages)
    assert subjects == ["[newswatch] Kim Jong Un: 1 new story",
                        "[newswatch] Lavrov in Korea: 3 new stories"]
    assert {r.rcpt_tos[0] for r in server.received} == {"desk@example.org"}
    assert set(alert_states(db).values()) == {"sent"}
    assert db.execute("SELECT matched FROM articles WHERE id = ?", [kim]).fetchone()[0] == 1
    # Matching again and flushing again sends nothing.
    assert alerts.match_pending(db, config) == 0
    assert alerts.flush(db, config).queued == 0
    assert len(server.received) == 2


def test_old_stories_skipped_unknown_date_alerted(tmp_path, server):
    config, db = setup(tmp_path, server=server)
    old = lavrov(db, published="2026-02-20T10:00:00+00:00")[0]
    undated = lavrov(db, published=None)[0]
    fresh = lavrov(db, published="2026-03-01T10:00:00+00:00")[0]
    alerts.match_pending(db, config)
    states = alert_states(db)
    assert states[old] == "skipped" and states[undated] == "pending" and states[fresh] == "pending"
    reason = db.execute("SELECT reason FROM alerts WHERE article_id = ?", [old]).fetchone()[0]
    assert "alert_max_age" in reason
    alerts.flush(db, config)
    (msg,) = server.messages
    assert "2 new stories" in msg["Subject"]


def test_new_or_edited_watch_never_mails_older_stories_until_backfill(tmp_path, server,
                                                                       fake_now):
    config, db = setup(tmp_path, server=server, watches="")
    # Stored while no watch existed and not matched yet (as after a killed pass).
    before = lavrov(db)[0]
    set_now(fake_now, later(5))
    config = write_config(tmp_path, server=server)
    alerts.match_pending(db, config)
    assert alert_states(db)[before] == "skipped"
    alerts.flush(db, config)
    assert server.received == []
    # Editing the query: stories stored before the edit stay quiet too.
    set_now(fake_now, later(5))
    stored_then = lavrov(db)[0]
    set_now(fake_now, later(1))
    config = write_config(tmp_path, server=server, watches="""
        [[watches]]
        name = "Lavrov in Korea"
        query = 'Lavrov AND Pyongyang'
        """)
    alerts.sync_watches(db, config)
    alerts.match_pending(db, config)
    assert alert_states(db)[stored_then] == "skipped"
    # watch test shows them; backfill sends them once.
    assert {r["id"] for r in alerts.watch_test(db, "Lavrov AND Pyongyang", 10)} == {
        before, stored_then}
    assert alerts.backfill(db, config, "Lavrov in Korea", 1) == 2
    alerts.flush(db, config)
    (msg,) = server.messages
    assert msg["Subject"] == "[newswatch] Lavrov in Korea: 2 stories from the archive"
    assert alerts.backfill(db, config, "Lavrov in Korea", 1) == 0
    alerts.flush(db, config)
    assert len(server.received) == 1


def test_duplicates_get_no_alert_and_show_as_also_in(tmp_path, server):
    config, db = setup(tmp_path, server=server)
    original = lavrov(db)[0]
    copy = lavrov(db, outlet="beta", duplicate_of=original)[0]
    alerts.match_pending(db, config)
    assert alert_states(db) == {original: "pending", copy: "skipped"}
    alerts.flush(db, config)
    (msg,) = server.messages
    assert "1 new story" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "Also in: Beta Times" in text


def test_outlets_restriction(tmp_path, server):
    config, db = setup(tmp_path, server=server, watches="""
        [[watches]]
        name = "Beta only"
        query = 'Lavrov'
        outlets = ["beta"]
        to = ["beta-desk@example.org"]
        """)
    lavrov(db, outlet="alpha")
    in_beta = lavrov(db, outlet="beta")[0]
    alerts.match_pending(db, config)
    assert alert_states(db) == {in_beta: "pending"}
    alerts.flush(db, config)
    (received,) = server.received
    assert received.rcpt_tos == ["beta-desk@example.org"]


# ------------------------------------------------------------------------ delivery


def test_smtp_down_for_two_flushes_then_up_delivers_every_alert_once(tmp_path, fake_now):
    port = free_port()
    config, db = setup(tmp_path, port=port)
    lavrov(db, 3)
    alerts.match_pending(db, config)
    for _ in range(2):
        report = alerts.flush(db, config)
        assert report.retrying == 1 and report.sent == 0
        (row,) = outbox(db)
        assert row["state"] == "pending" and "refused" in row["last_error"]
        set_now(fake_now, later(90))
    assert alerts.status_counts(db)["pending"] == 3
    lavrov(db, 1)  # a story arriving while the server is down is not lost either
    alerts.match_pending(db, config)
    server = SmtpServer(port).start()
    try:
        report = alerts.flush(db, config)
        assert report.sent == 2
        stories = sorted(m["Subject"] for m in server.messages)
        assert stories == ["[newswatch] Lavrov in Korea: 1 new story",
                           "[newswatch] Lavrov in Korea: 3 new stories"]
        set_now(fake_now, later(600))
        alerts.flush(db, config)
        assert len(server.received) == 2
        assert alerts.status_counts(db) == {"pending": 0, "failed": 0, "sent": 4, "skipped": 0}
    finally:
        server.stop()


def test_backoff_grows_and_waits(tmp_path, fake_now):
    config, db = setup(tmp_path, port=free_port())
    lavrov(db)
    alerts.match_pending(db, config)
    alerts.flush(db, config)
    first = outbox(db)[0]["next_attempt"]
    assert alerts.flush(db, config).retrying == 0  # not due yet: no attempt
    set_now(fake_now, first)
    alerts.flush(db, config)
    row = outbox(db)[0]
    assert row["attempts"] == 2
    gap1 = clock.parse_iso(first) - clock.parse_iso(T0)
    gap2 = clock.parse_iso(row["next_attempt"]) - clock.parse_iso(first)
    assert gap2 == 2 * gap1


def test_4xx_then_success(tmp_path, server, fake_now):
    config, db = setup(tmp_path, server=server)
    lavrov(db)
    alerts.match_pending(db, config)
    server.handler.data_replies = ["451 4.3.0 Try again later"]
    assert alerts.flush(db, config).retrying == 1
    row = outbox(db)[0]
    assert row["state"] == "pending" and row["last_error"].startswith("451")
    set_now(fake_now, later(10))
    assert alerts.flush(db, config).sent == 1
    assert len(server.received) == 1
    assert alert_states(db) == {1: "sent"}


def test_5xx_fails_visibly_and_retry_sends_it(tmp_path, server):
    config, db = setup(tmp_path, server=server)
    lavrov(db, 2)
    alerts.match_pending(db, config)
    server.handler.data_replies = ["554 5.7.1 Message rejected as spam"]
    report = alerts.flush(db, config)
    assert report.failed == 1
    row = outbox(db)[0]
    assert row["state"] == "failed" and "554 5.7.1 Message rejected as spam" in row["last_error"]
    assert alerts.status_counts(db)["failed"] == 2
    assert any("554" in line for line in alerts.status_problems(db))
    assert any(r["state"] == "failed" for r in alerts.list_alerts(db, 10))
    assert alerts.flush(db, config).sent == 0  # failed stays failed until asked
    assert alerts.retry_failed(db) == 1
    assert alerts.flush(db, config).sent == 1
    (msg,) = server.messages
    assert msg["Message-ID"] == row["message_id"]
    assert alerts.status_counts(db)["failed"] == 0


def test_one_recipient_of_two_refused(tmp_path, server):
    config, db = setup(tmp_path, server=server, watches="""
        [[watches]]
        name = "Lavrov"
        query = 'Lavrov'
        to = ["good@example.org", "gone@example.org"]
        """)
    server.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    lavrov(db)
    alerts.match_pending(db, config)
    assert alerts.flush(db, config).sent == 1
    (received,) = server.received
    assert received.rcpt_tos == ["good@example.org"]
    row = outbox(db)[0]
    assert row["state"] == "sent"
    assert json.loads(row["refused"]) == {"gone@example.org": "550 5.1.1 No such user"}
    assert any("gone@example.org" in line for line in alerts.status_problems(db))


@pytest.mark.slow
def test_silent_server_overall_deadline(tmp_path):
    drip = DripServer(interval=0.2)
    try:
        config, db = setup(tmp_path, port=drip.port, timeout=1)
        lavrov(db)
        alerts.match_pending(db, config)
        report = alerts.flush(db, config)
        # Without an overall deadline the 500-byte banner would hold the flush ~100 s.
        assert drip.sent < len(drip.BANNER), "the flush waited for the whole banner"
        assert report.retrying == 1
        row = outbox(db)[0]
        assert row["state"] == "pending" and "deadline" in row["last_error"]
    finally:
        drip.stop()


def test_eml_fallback_files_parse_back(tmp_path):
    config, db = setup(tmp_path)
    lavrov(db, 2)
    add_article(db, title="Ким Чен Ын встретился с Лавровым в Пхеньяне",
                text="Лавров прибыл в Пхеньян, North Korea, Lavrov said.")
    alerts.match_pending(db, config)
    report = alerts.flush(db, config)
    assert report.sent == 1
    files = list((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml"], "one file per email, no temp files left"
    import email
    import email.policy

    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "[newswatch] Lavrov in Korea: 3 new stories"
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "Ким Чен Ын встретился с Лавровым в Пхеньяне" in html
    assert "Ким Чен Ын встретился с Лавровым в Пхеньяне" in text
    assert outbox(db)[0]["state"] == "sent"


# --------------------------------------------------------------- crash and resend

FLUSH = ("import sys; from newswatch.config import load_config; from newswatch.store import "
         "open_db; from newswatch.alerts import flush; c = load_config(sys.argv[1]); "
         "print(flush(open_db(c.database), c))")


def run_flush(config_path: Path, pause: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NEWSWATCH_PAUSE_AT", None)
    if pause:
        env["NEWSWATCH_PAUSE_AT"] = pause
    return subprocess.Popen([sys.executable, "-c", FLUSH, str(config_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["queued", "claimed", "in DATA", "accepted", "marked"])
def test_sender_killed_at_each_step_never_loses_and_resends_at_most_once(tmp_path, server,
                                                                         step):
    config, db = setup(tmp_path, server=server)
    lavrov(db, 2)
    alerts.match_pending(db, config)
    if step == "in DATA":
        server.handler.hold = True
        proc = run_flush(config.path)
        # The client has sent the whole message and waits for the reply.
        wait_for(lambda: server.handler.data_started == 1)
    else:
        proc = run_flush(config.path, pause=step)
        line = proc.stderr.readline()
        assert line.strip() == f"paused at {step}", line + proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    if step == "in DATA":
        server.handler.drop_held = True  # the server never took it
        server.handler.hold = False
        time.sleep(0.2)
    killed_with = len(server.received)
    # The next flush (another process) finishes the job.
    done = run_flush(config.path)
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    done = run_flush(config.path)
    assert done.wait(60) == 0
    ids = [m["Message-ID"] for m in server.messages]
    assert ids, "the alert was lost"
    assert len(set(ids)) == 1, "two different emails for one batch of alerts"
    if step == "accepted":
        # The documented duplicate: accepted, then killed before the mark: sent again once,
        # with the same Message-ID.
        assert killed_with == 1 and len(ids) == 2
    else:
        assert len(ids) == 1
    assert [r["state"] for r in outbox(db)] == ["sent"]
    assert set(alert_states(db).values()) == {"sent"}
    assert "2 new stories" in server.messages[0]["Subject"]


# ------------------------------------------------------------------------- digests

DIGEST = """
[[watches]]
name = "Morning Lavrov"
query = 'Lavrov'
mode = "digest"
digest = "0 8 * * *"
"""


def test_digest_over_several_passes_sends_one_email_with_every_story(tmp_path, server,
                                                                      fake_now):
    config, db = setup(tmp_path, server=server, watches=DIGEST)
    titles = []
    for hour in ("06:10", "06:40", "07:20", "07:50"):
        set_now(fake_now, f"2026-03-02T{hour}:00+00:00")
        titles += [f"Lavrov item at {hour}"]
        add_article(db, title=titles[-1], text="Lavrov spoke.")
        alerts.match_pending(db, config)
        assert alerts.flush(db, config).queued == 0
    assert server.received == []
    set_now(fake_now, "2026-03-02T08:00:30+00:00")
    assert alerts.flush(db, config).sent == 1
    set_now(fake_now, "2026-03-02T08:20:00+00:00")
    add_article(db, title="Lavrov after the digest", text="Lavrov again.")
    alerts.match_pending(db, config)
    alerts.flush(db, config)
    (msg,) = server.messages
    assert msg["Subject"] == "[newswatch] Morning Lavrov: 4 new stories"
    text = msg.get_body(("plain",)).get_content()
    positions = [text.index(t) for t in titles]
    assert positions == sorted(positions, reverse=True), "not newest first"
    assert "after the digest" not in text
    # The next morning's digest carries the late story, once.
    set_now(fake_now, "2026-03-03T08:01:00+00:00")
    alerts.flush(db, config)
    set_now(fake_now, "2026-03-03T09:00:00+00:00")
    alerts.flush(db, config)
    assert [m["Subject"] for m in server.messages][1:] == [
        "[newswatch] Morning Lavrov: 1 new story"]


def test_digest_empty_sent_only_when_asked(tmp_path, server, fake_now):
    config, db = setup(tmp_path, server=server, watches=DIGEST + """
        [[watches]]
        name = "Quiet but alive"
        query = 'Pyongyang'
        digest = "0 8 * * *"
        send_empty = true
        """)
    set_now(fake_now, "2026-03-02T08:05:00+00:00")
    alerts.flush(db, config)
    (msg,) = server.messages
    assert msg["Subject"] == "[newswatch] Quiet but alive: 0 new stories"
    assert "Nothing new matched" in msg.get_body(("plain",)).get_content()


# ------------------------------------------------------------------------ explain


def test_explain_says_why(tmp_path, server):
    config, db = setup(tmp_path, server=server)
    sent = lavrov(db)[0]
    old = add_article(db, title="Old Lavrov story", text="Lavrov in Pyongyang years ago.",
                      published="2020-01-01T00:00:00+00:00")
    alerts.match_pending(db, config)
    alerts.flush(db, config)
    url = db["articles"].get(sent)["url"]
    text = "\n".join(explain(db, config, url))
    assert f"article {sent} of Alpha News" in text
    assert "watch 'Lavrov in Korea': match; alert sent" in text
    assert "watch 'Kim Jong Un': no match" in text
    text = "\n".join(explain(db, config, db["articles"].get(old)["url"]))
    assert "published:  2020-01-01T00:00:00+00:00 (from meta)" in text
    assert "alert skipped (published 2020-01-01" in text
    text = "\n".join(explain(db, config, "https://nowhere.example/x"))
    assert "stored:     no; no configured outlet fetches from nowhere.example" in text
