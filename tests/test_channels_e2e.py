"""Channels end to end: crawls of the fixture site (real Scrapy, SQLite, aiosmtpd) with a
watch that emails, notifies an apprise json:// receiver and posts to a signed webhook, both
real HTTP servers on 127.0.0.1 that a test takes down, breaks, stalls or brings back."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import feedparser
import jsonschema
import pytest
import sqlite_utils

from conftest import run_newswatch, write_config
from newswatch import clock
from smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "hook-secret-0123456789"
WATCH = "Lavrov in Korea"
SCHEMA = json.loads(resources.files("newswatch.channels").joinpath(
    "alert.schema.json").read_text())


class Receiver:
    """An HTTP receiver on a fixed loopback port that can be down (not listening), answer
    queued statuses (then 200), or hold every request until released."""

    def __init__(self):
        self.port = free_port()
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.accepted: list[dict] = []  # requests answered 2xx
        self.hold = threading.Event()  # set: requests wait for `release`
        self.release = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = {"path": self.path, "headers": dict(self.headers), "body": body}
                receiver.requests.append(req)
                if receiver.hold.is_set():
                    receiver.release.wait(120)
                status = receiver.answers.pop(0) if receiver.answers else 200
                if 200 <= status < 300:
                    receiver.accepted.append(req)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def payloads(self, accepted: bool = True) -> list[dict]:
        return [json.loads(r["body"]) for r in (self.accepted if accepted else self.requests)]


@pytest.fixture
def hook():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def apprise_rx():
    r = Receiver()
    yield r
    r.stop()


def watches(hook: Receiver, apprise_rx: Receiver, timeout: float = 5) -> str:
    return f"""
[[watches]]
name = "{WATCH}"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
notify = ["json://127.0.0.1:{apprise_rx.port}/notify/${{NOTIFY_TOKEN}}?rto={timeout:g}&cto=2"]
webhooks = [{{url = "http://127.0.0.1:{hook.port}/hook/${{HOOK_PATH}}", secret = "${{HOOK_SECRET}}", timeout = {timeout:g}}}]
"""


ENV = {"HOOK_SECRET": SECRET, "HOOK_PATH": "path-token-abcdef12", "NOTIFY_TOKEN": "tok-98765432"}
SECRETS = list(ENV.values())


def run(config: Path, *args: str, at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(ENV)
    if at:
        env["NEWSWATCH_FAKE_NOW"] = at
    result = run_newswatch(*args, config=config, env=env)
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr, f"{args}: a secret was shown"
    return result


def crawl(config: Path, at: str | None = None) -> subprocess.CompletedProcess:
    result = run(config, "crawl", at=at)
    # 4: the pass ran but some channel's message is still undelivered (a receiver down)
    assert result.returncode in (0, 4), result.stderr
    assert (result.returncode == 4) == ("not delivered" in result.stderr), result.stderr
    return result


def stamps(n: int) -> list[str]:
    """n pass times, each well past the previous one's backoff."""
    start = clock.now().replace(microsecond=0)
    return [clock.to_iso(start + timedelta(minutes=30 * i)) for i in range(n)]


def outbox(config: Path) -> list[dict]:
    db = sqlite_utils.Database(config.parent / "newswatch.db")
    return list(db.query("SELECT id, message_id, channel, label, state, attempts, "
                         "last_error, idem_key FROM outbox ORDER BY id"))


def lavrov_emails(smtp) -> list:
    return [m for m in smtp.messages if WATCH in m["Subject"]]


def verify(request: dict) -> dict:
    """What a receiver does: check the signature over the exact body, then the schema."""
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Newswatch-Signature"], expected)
    payload = json.loads(request["body"])
    jsonschema.validate(payload, SCHEMA)
    assert request["headers"]["Idempotency-Key"] == payload["id"]
    return payload


def test_receivers_down_for_two_passes_then_up_get_each_message_once(tmp_path, site, smtp,
                                                                     hook, apprise_rx):
    config = write_config(tmp_path, site, smtp=smtp, watches=watches(hook, apprise_rx))
    t = stamps(4)
    crawl(config, t[0])
    crawl(config, t[1])
    # Both receivers down: email went at once; each channel row waits for its retry.
    assert len(lavrov_emails(smtp)) == 1
    rows = {r["channel"].partition(":")[0]: r for r in outbox(config)}
    assert set(rows) == {"email", "apprise", "webhook"}
    assert rows["email"]["state"] == "sent"
    for kind in ("apprise", "webhook"):
        assert rows[kind]["state"] == "pending" and rows[kind]["attempts"] == 2, rows[kind]
        assert rows[kind]["last_error"]
    status = run(config, "status", at=t[1]).stdout
    assert "webhook http://127.0.0.1" in status and "not sent after 2 attempt(s)" in status
    hook.start()
    apprise_rx.start()
    crawl(config, t[2])
    crawl(config, t[3])  # nothing left: nothing sent again
    assert len(hook.requests) == 1 and len(apprise_rx.requests) == 1
    assert len(lavrov_emails(smtp)) == 1
    payload = verify(hook.requests[0])
    assert payload["watch"] == WATCH and payload["kind"] == "alert" and payload["stories"]
    assert payload["message_id"] == rows["email"]["message_id"]
    assert all(s["url"].startswith("http://127.0.0.1") and s["outlet"] and s["snippet"]
               for s in payload["stories"])
    note = json.loads(apprise_rx.requests[0]["body"])
    assert WATCH in note["title"] and "Lavrov" in note["message"]
    assert {r["state"] for r in outbox(config)} == {"sent"}
    listing = run(config, "alerts", "list", at=t[3]).stdout
    assert "webhook http://127.0.0.1" in listing and "JSON" in listing


def test_500_then_200_delivers_once_with_one_key(tmp_path, site, smtp, hook, apprise_rx):
    hook.start().answers = [500]
    apprise_rx.start().answers = [503]
    config = write_config(tmp_path, site, smtp=smtp, watches=watches(hook, apprise_rx))
    t = stamps(3)
    for at in t:
        crawl(config, at)
    assert [r["headers"]["Idempotency-Key"] for r in hook.requests] == \
        [verify(hook.requests[0])["id"]] * 2
    assert len(hook.accepted) == 1 and len(apprise_rx.accepted) == 1
    assert len(apprise_rx.requests) == 2
    assert {r["state"] for r in outbox(config)} == {"sent"}


def test_400_fails_visibly_while_email_and_the_other_channel_succeed_and_retry_resends(
        tmp_path, site, smtp, hook, apprise_rx):
    hook.start().answers = [400]
    apprise_rx.start()
    config = write_config(tmp_path, site, smtp=smtp, watches=watches(hook, apprise_rx))
    t = stamps(3)
    crawl(config, t[0])
    crawl(config, t[1])  # a permanent failure is not retried by itself
    assert len(hook.requests) == 1 and len(apprise_rx.accepted) == 1
    assert len(lavrov_emails(smtp)) == 1
    (failed,) = [r for r in outbox(config) if r["state"] == "failed"]
    assert failed["channel"].startswith("webhook:") and "HTTP 400" in failed["last_error"]
    listing = run(config, "alerts", "list", at=t[1]).stdout
    assert f"[{failed['channel']}]: failed: HTTP 400" in listing
    heads = [ln for ln in listing.splitlines() if not ln.startswith(" ")]
    assert any("  failed  " in ln for ln in heads) and not any("  sent  " in ln for ln in heads)
    assert "    skipped: " in listing  # the reason of a skipped alert is shown too
    status = run(config, "status", at=t[1]).stdout
    assert "failed: HTTP 400" in status and f"--channel {failed['channel']}" in status
    retried = run(config, "alerts", "retry", "--channel", failed["label"], at=t[2])
    assert retried.returncode == 0, retried.stderr
    assert "1 failed message queued again" in retried.stdout
    assert len(hook.accepted) == 1 and verify(hook.accepted[0])["id"] == failed["idem_key"]
    assert {r["state"] for r in outbox(config)} == {"sent"}
    assert len(lavrov_emails(smtp)) == 1 and len(apprise_rx.requests) == 1
    unknown = run(config, "alerts", "retry", "--channel", "nope", at=t[2])
    assert unknown.returncode == 2 and "no channel 'nope'" in unknown.stderr


def test_a_stalled_receiver_is_bounded_by_the_timeout_and_delays_no_other_channel(
        tmp_path, site, smtp, hook, apprise_rx):
    hook.start().hold.set()  # answers nothing until released
    apprise_rx.start()
    config = write_config(tmp_path, site, smtp=smtp, watches=watches(hook, apprise_rx, 1))
    t = stamps(2)
    crawl(config, t[0])
    # The pass ended while the receiver still held the request: the timeout ended it.
    assert not hook.release.is_set() and len(hook.requests) == 1 and not hook.accepted
    (row,) = [r for r in outbox(config) if r["channel"].startswith("webhook:")]
    assert row["state"] == "pending" and "no answer within 1 s" in row["last_error"]
    assert len(lavrov_emails(smtp)) == 1 and len(apprise_rx.accepted) == 1
    hook.hold.clear()
    hook.release.set()
    crawl(config, t[1])
    # The retry carries the key of the try that timed out (that one may have been
    # processed late: the receiver tells the two apart by the key).
    assert len(hook.requests) == 2
    assert len({r["headers"]["Idempotency-Key"] for r in hook.requests}) == 1
    assert {r["state"] for r in outbox(config)} == {"sent"}


FLUSH = ("import sys; from newswatch.config import load_config; from newswatch.store import "
         "open_db; from newswatch.alerts import flush; c = load_config(sys.argv[1]); "
         "print(flush(open_db(c.database), c))")


def flush(config: Path, pause: str | None = None) -> subprocess.Popen:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    env.pop("NEWSWATCH_PAUSE_AT", None)
    if pause:
        env["NEWSWATCH_PAUSE_AT"] = pause
    return subprocess.Popen([sys.executable, "-c", FLUSH, str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_killed_after_the_webhook_accepted_repeats_at_most_once_with_the_same_key(
        tmp_path, site, smtp, hook, apprise_rx):
    hook.start()
    apprise_rx.start()
    config = write_config(tmp_path, site, smtp=smtp, watches=watches(hook, apprise_rx))
    result = run(config, "crawl", "--no-mail")
    assert result.returncode == 0, result.stderr
    proc = flush(config, pause="accepted:webhook")
    line = proc.stderr.readline()
    assert line.strip() == "paused at accepted", line + proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert len(hook.accepted) == 1
    (row,) = [r for r in outbox(config) if r["channel"].startswith("webhook:")]
    assert row["state"] == "sending"  # accepted, never marked
    for _ in range(2):
        done = flush(config)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
    keys = [r["headers"]["Idempotency-Key"] for r in hook.accepted]
    assert len(keys) == 2 and len(set(keys)) == 1, keys  # one repeat, the same key
    assert [verify(r)["id"] for r in hook.accepted] == keys
    assert hook.accepted[0]["body"] == hook.accepted[1]["body"]  # the same signed bytes
    assert len(apprise_rx.accepted) == 1 and len(lavrov_emails(smtp)) == 1
    assert {r["state"] for r in outbox(config)} == {"sent"}


def test_digest_goes_to_every_channel_and_the_flood_guard_applies(tmp_path, site, smtp,
                                                                   hook, apprise_rx):
    hook.start()
    apprise_rx.start()
    digest = watches(hook, apprise_rx).replace(
        "query = 'Lavrov AND", 'mode = "digest"\ndigest = "0 * * * *"\nmax_stories = 1\n'
        'alert_max_age = "10000d"\n' "query = 'Lavrov AND")
    config = write_config(tmp_path, site, smtp=smtp, watches=digest)
    start = clock.now().replace(minute=5, second=0, microsecond=0)
    crawl(config, clock.to_iso(start))
    assert not hook.requests and not apprise_rx.requests and not lavrov_emails(smtp)
    crawl(config, clock.to_iso(start + timedelta(hours=1)))
    (payload,) = [verify(r) for r in hook.accepted]
    assert payload["kind"] == "digest" and len(payload["stories"]) == 1
    assert payload["more"] >= 1
    note = json.loads(apprise_rx.accepted[0]["body"])
    assert f"and {payload['more']} more" in note["message"].replace("\\", "")
    (email,) = lavrov_emails(smtp)
    assert f"{1 + payload['more']} new stories" in email["Subject"]


def test_check_names_the_line_of_a_bad_channel_and_never_shows_its_secret(tmp_path, site):
    base = write_config(tmp_path, site)
    text = base.read_text()
    cases = [
        ('notify = ["bogus://tok-98765432@host"]', "apprise does not understand"),
        ('notify = ["slack://${NOT_SET_ANYWHERE_X}/B/C"]',
         "environment variable NOT_SET_ANYWHERE_X is not set"),
        ('webhooks = ["http://hooks.example.org/tok-98765432"]', "must be https://"),
        ('webhooks = [{url = "https://h.example.org/x", secret = "${NO_SUCH_SECRET_Y}"}]',
         "NO_SUCH_SECRET_Y is not set"),
    ]
    for line, message in cases:
        base.write_text(text + line + "\n")
        lineno = base.read_text().count("\n")
        result = run(base, "check")
        assert result.returncode == 2, (line, result.stdout)
        assert result.stderr.startswith(f"config error: {base}:{lineno}: "), result.stderr
        assert message in result.stderr and len(result.stderr.splitlines()) == 1
    base.write_text(text + 'notify = ["json://127.0.0.1:9/x/${NOTIFY_TOKEN}"]\n')
    assert run(base, "check").returncode == 0


def test_feed_of_a_watch_parses_with_stable_ids_dates_and_escaped_titles(tmp_path, site):
    config = write_config(tmp_path, site)
    crawl(config)
    db = sqlite_utils.Database(config.parent / "newswatch.db")
    alerted = list(db.query(
        "SELECT a.id, a.url, a.first_seen, a.published, a.thread_id FROM alerts l "
        "JOIN articles a ON a.id = "
        "l.article_id WHERE l.watch = ? AND l.state <> 'skipped'", [WATCH]))
    assert alerted
    db.execute("UPDATE articles SET title = ? WHERE id = ?",
               ["<script>alert(1)</script> & Lavrov \u202e", alerted[0]["id"]])
    db.conn.commit()
    for fmt in ("atom", "rss"):
        result = run(config, "feed", WATCH, "--format", fmt)
        assert result.returncode == 0, result.stderr
        parsed = feedparser.parse(result.stdout.encode("utf-8"))
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert sorted(e.id for e in parsed.entries) == sorted(r["url"] for r in alerted)
        assert "<script>" not in result.stdout
        hostile = [e for e in parsed.entries if e.id == alerted[0]["url"]][0]
        assert hostile.title.startswith("<script>alert(1)</script> & Lavrov")
        for e in parsed.entries:
            row = next(r for r in alerted if r["url"] == e.id)
            if fmt == "atom":  # updated: when newswatch first saw it
                seen = clock.parse_iso(row["first_seen"])
                assert e.updated_parsed[:6] == seen.utctimetuple()[:6]
            published = clock.parse_iso(row["published"])  # RSS has pubDate only
            assert e.published_parsed[:6] == published.utctimetuple()[:6]
            assert e.get("author") or e.get("dc_creator")
            # its thread as a category: a reader filtering by it shows the thread together
            assert [t.term for t in e.get("tags", [])] == [f"thread:{row['thread_id']}"]
            if fmt == "atom":
                assert e.tags[0].label  # the thread's first report's title
    result = run(config, "feed", WATCH, "--format", "json", "--limit", "1")
    items = json.loads(result.stdout)["items"]
    assert len(items) == 1 and items[0]["id"] in {r["url"] for r in alerted}
    assert items[0]["tags"][0].startswith("thread:")
    unknown = run(config, "feed", "Nobody")
    assert unknown.returncode == 2 and "no watch named 'Nobody'" in unknown.stderr


def test_the_readme_signature_check_verifies_a_real_delivery_and_refuses_a_tampered_one(hook):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Webhooks"):readme.index("## Feeds")]
    (code,) = re.findall(r"```python\n(.+?)```", section, re.S)
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - the README's own example
    from newswatch.channels import parse_target, post_webhook
    from newswatch.channels.webhook import encode

    hook.start()
    target = parse_target(f"http://127.0.0.1:{hook.port}/in", "webhook", secret="${HOOK_SECRET}",
                          env=ENV)
    body = encode({"id": "k", "stories": []})
    assert post_webhook(target, body, "k", env=ENV).ok
    (got,) = hook.requests
    assert scope["verify"](got["body"], got["headers"]["X-Newswatch-Signature"], SECRET)
    assert not scope["verify"](got["body"] + b" ", got["headers"]["X-Newswatch-Signature"],
                               SECRET)


def _kellberg_stories(tmp_path, site, channel: str):
    """The thread fixture's stories on the site, and a config whose `Kellberg` watch
    delivers through `channel` (one TOML line)."""
    from test_threads_e2e import STORIES, add_stories

    add_stories(site, STORIES)
    return write_config(tmp_path, site, watches=f"""
[[watches]]
name = "Kellberg"
query = 'Kellberg'
{channel}
""")


def test_the_webhook_payload_carries_each_storys_thread(tmp_path, site, hook):
    hook.start()
    crawl(_kellberg_stories(tmp_path, site, f'webhooks = [{{url = "http://127.0.0.1:{hook.port}'
                            '/hook/${HOOK_PATH}", secret = "${HOOK_SECRET}"}]'))
    [payload] = [verify(r) for r in hook.requests]
    by_title = {s["title"]: s["thread"] for s in payload["stories"]}
    titles = ("Kellberg to fly to Pyongyang this week",
              "Norlandian minister Kellberg lands in Pyongyang",
              "Kellberg arrives in North Korea, presses for trawlermen's release")
    visit = [by_title[t] for t in titles]
    # one visit told by two outlets over two days: one thread, named after its first report
    # (the first stored: which one the crawl stores first is its own business)
    assert len({(t["id"], t["title"]) for t in visit}) == 1 and visit[0]["title"] in titles
    assert all(t["reports"] == 3 and set(t["outlets"]) == {"Ledger", "Meridian"}
               and t["coverage"] is False for t in visit), visit
    other = by_title["North Korean foreign minister Ri heads to Velmar"]
    assert other["id"] != visit[0]["id"] and other["reports"] == 1


def test_the_chat_message_shows_one_block_per_thread_with_its_report_count(tmp_path, site,
                                                                           apprise_rx):
    """A crawl of one visit told by two outlets (three reports) and another story (the first
    visit, a year earlier, is too old to alert): the json:// receiver's Markdown message has one block for the visit, led by its first report,
    "3 reports: ..." naming both outlets, the other two as later reports; the other story
    is a block of its own."""
    apprise_rx.start()
    crawl(_kellberg_stories(tmp_path, site,
                            f'notify = ["json://127.0.0.1:{apprise_rx.port}/notify/${{NOTIFY_TOKEN}}"]'))
    [note] = [json.loads(r["body"]) for r in apprise_rx.requests]
    assert note["title"] == "newswatch: Kellberg: 4 new stories"
    blocks = note["message"].replace("\\", "").split("\n\n")
    visit = next(b for b in blocks if "3 reports" in b)
    lines = visit.splitlines()
    # the announcement, published first, leads; the two arrival reports follow it
    assert lines[0].startswith("- **[Kellberg to fly to Pyongyang this week](http"), visit
    assert re.search(r"^  3 reports: (Ledger, Meridian|Meridian, Ledger)$", visit, re.M), visit
    later = [line for line in lines if line.startswith("  later report: ")]
    assert len(later) == 2 and "lands in Pyongyang" in later[0] and "arrives in North" in later[1]
    assert len(blocks) == 2, note["message"]  # the visit, and the trip the other way
    other = next(b for b in blocks if b is not visit)
    assert "Ri heads to Velmar" in other and "reports" not in other
