"""Channels against real receivers on 127.0.0.1: apprise's json://, form:// and xml://
services and the native webhook. Services with fixed hosts (Slack, Teams, Telegram) are
intercepted inside the process: no traffic leaves loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import unquote_plus

import feedparser
import jsonschema
import pytest

from newswatch.channels import (
    TargetError, build_payload, parse_target, post_webhook, render_feed, render_markdown,
    send_apprise, sign,
)
from newswatch.channels.webhook import SIGNATURE_HEADER, encode

HOSTILE = "<script>alert(1)</script> Minister\r\nBcc: x@example.org \u202egnp.exe"


class Receiver:
    """A real HTTP server on loopback that records requests and answers with the statuses
    queued in `answers` (then 200), optionally stalling."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.stall = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                if receiver.stall:
                    time.sleep(receiver.stall)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


STORIES = [{"title": "Minister arrives in Pyongyang", "url": "https://news.example/a1",
            "outlet": "Example Times", "published": "2026-11-30T05:23:00+00:00",
            "date_source": "json-ld", "first_seen": "2026-11-30T05:30:00+00:00",
            "snippet": "The minister landed on Saturday.", "also_in": ["Wire Daily"],
            "thread": None}]


def payload(**kw):
    base = dict(message_id="<m1@newswatch>", watch="lavrov", query="Lavrov",
                created="2026-11-30T06:00:00+00:00", stories=STORIES)
    base.update(kw)
    return build_payload(**base)


def test_the_webhook_is_signed_over_the_exact_body_and_carries_the_idempotency_key(receiver):
    target = parse_target(f"http://127.0.0.1:{receiver.port}/hook", "webhook",
                          secret="${HOOK_SECRET}", env={"HOOK_SECRET": "s3cret-value"})
    body = encode(payload())
    result = post_webhook(target, body, "<m1@newswatch>", env={"HOOK_SECRET": "s3cret-value"})
    assert result.ok
    got = receiver.requests[0]
    expected = "sha256=" + hmac.new(b"s3cret-value", got["body"], hashlib.sha256).hexdigest()
    assert got["headers"][SIGNATURE_HEADER] == expected
    assert got["headers"]["Idempotency-Key"] == "<m1@newswatch>"
    schema = json.loads(resources.files("newswatch.channels").joinpath(
        "alert.schema.json").read_text())
    jsonschema.validate(json.loads(got["body"]), schema)


def test_a_tampered_body_does_not_verify():
    body = encode(payload())
    assert sign(body, "k") != sign(body.replace(b"Pyongyang", b"Seoul"), "k")


@pytest.mark.parametrize("status, ok, transient", [
    (200, True, False), (204, True, False), (429, False, True), (500, False, True),
    (503, False, True), (400, False, False), (404, False, False), (410, False, False)])
def test_webhook_status_classes(receiver, status, ok, transient):
    receiver.answers = [status]
    target = parse_target(f"http://127.0.0.1:{receiver.port}/hook", "webhook")
    result = post_webhook(target, b"{}", "<m@x>")
    assert (result.ok, result.transient) == (ok, transient)
    if not ok:
        assert str(status) in result.error


def test_a_stalling_receiver_is_bounded_by_the_timeout(receiver):
    receiver.stall = 3
    target = parse_target(f"http://127.0.0.1:{receiver.port}/hook", "webhook")
    result = post_webhook(target, b"{}", "<m@x>", timeout=0.5)
    assert not result.ok and result.transient and "no answer" in result.error


def test_a_receiver_that_is_down_is_transient_and_the_error_hides_the_secret():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    env = {"TOKEN": "tok-abcdefgh-123"}
    target = parse_target(f"http://127.0.0.1:{port}/hook/${{TOKEN}}", "webhook", env=env)
    result = post_webhook(target, b"{}", "<m@x>", env=env)
    assert not result.ok and result.transient
    assert "tok-abcdefgh-123" not in result.error
    assert "tok-abcdefgh-123" not in target.label and target.label == f"webhook http://127.0.0.1:{port}"


@pytest.mark.parametrize("scheme", ["json", "form", "xml"])
def test_apprise_services_reach_a_local_receiver(receiver, scheme):
    target = parse_target(f"{scheme}://127.0.0.1:{receiver.port}/notify")
    title, body = render_markdown("lavrov", STORIES)
    result = send_apprise(target, title, body)
    assert result.ok, result.error
    got = receiver.requests[0]
    assert got["path"].startswith("/notify")
    assert "Minister arrives in Pyongyang" in unquote_plus(got["body"].decode())


def test_apprise_failure_reason_is_recorded_and_4xx_is_permanent(receiver):
    receiver.answers = [400]
    target = parse_target(f"json://127.0.0.1:{receiver.port}/notify")
    result = send_apprise(target, "t", "b")
    assert not result.ok and not result.transient and result.status == 400
    receiver.answers = [503]
    result = send_apprise(target, "t", "b")
    assert not result.ok and result.transient


def test_bad_and_secret_urls():
    with pytest.raises(TargetError, match="apprise does not understand"):
        parse_target("bogus://whatever")
    with pytest.raises(TargetError, match="NOT_SET_ANYWHERE"):
        parse_target("slack://${NOT_SET_ANYWHERE}/B/C", env={})
    with pytest.raises(TargetError, match="http"):
        parse_target("ftp://example.org/x", "webhook")
    t = parse_target("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general")
    assert t.label == "Slack" and "TIiajk" not in t.label
    t = parse_target("ntfy://ntfy.example.org/${TOPIC}", env={"TOPIC": "private-topic"})
    assert "private-topic" not in t.label and "ntfy.example.org" in t.label


FIXED_HOST = [
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", "hooks.slack.com"),
    ("tgram://123456789:abcdefghijklmnop/12315544/", "api.telegram.org"),
    # Microsoft Teams: apprise's workflows:// (Power Automate), O365 connectors are retired.
    ("workflows://myhost.example.org:443/workflowid/signature/", "myhost.example.org"),
]


@pytest.fixture
def intercepted(monkeypatch):
    """Every HTTP call apprise makes through requests, answered in-process: nothing leaves
    the process. Returns the list of (method, url, body) calls."""
    import requests

    calls = []

    class Response:
        status_code = 200
        content = b'{"ok": true}'
        text = '{"ok": true}'
        headers = {}
        reason = "OK"

        def json(self):
            return {"ok": True, "result": {}}

    def fake(method):
        def call(target, *args, **kwargs):
            calls.append((method, target, kwargs.get("data") or kwargs.get("json")))
            answer = Response()
            if "slack" in target:
                answer.content = answer.text = b"ok"  # what a Slack webhook answers
            return answer
        return call

    for method in ("post", "get", "put"):
        monkeypatch.setattr(requests, method, fake(method))
    monkeypatch.setattr(requests, "request",
                        lambda method, target, *a, **k: fake(method)(target, *a, **k))
    monkeypatch.setattr(requests.Session, "request",
                        lambda self, method, target, *a, **k: fake(method)(target, *a, **k))
    return calls


@pytest.mark.parametrize("url, host", FIXED_HOST)
def test_fixed_host_services_render_and_are_intercepted(intercepted, url, host):
    calls = intercepted
    title, body = render_markdown("lavrov", STORIES)
    result = send_apprise(parse_target(url), title, body)
    assert calls, "apprise made no HTTP call"
    assert all(host in c[1] for c in calls)
    sent = json.dumps([str(c[2]) for c in calls])
    assert "Minister arrives in Pyongyang" in sent
    assert result.ok, result.error


def test_fixed_host_channels_through_the_outbox(tmp_path, intercepted, monkeypatch):
    """A watch notifying Slack, Telegram and Teams: one outbox row each, sent once, the
    Markdown message within each service's limit, labels without tokens."""
    from newswatch import alerts
    from newswatch.store import open_db
    from smtp import add_article, write_config

    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", "2026-03-02T06:00:00+00:00")
    monkeypatch.setenv("SLACK_TOKEN", "TIiajkdnlazkcOXrIdevi7FQ")
    urls = [FIXED_HOST[0][0].replace("TIiajkdnlazkcOXrIdevi7FQ", "${SLACK_TOKEN}"),
            FIXED_HOST[1][0], FIXED_HOST[2][0]]
    config = write_config(tmp_path, watches=f"""
        [[watches]]
        name = "Lavrov"
        query = 'Lavrov'
        max_stories = 2
        notify = {json.dumps(urls)}
        """)
    db = open_db(config.database)
    for i in range(5):
        add_article(db, title=f"Lavrov visit, part {i}", text="Sergei Lavrov in Pyongyang.")
    alerts.match_pending(db, config)
    report = alerts.flush(db, config)
    assert (report.queued, report.sent, report.failed) == (1, 4, 0)
    hosts = [c[1] for c in intercepted]
    for _, host in FIXED_HOST:
        assert sum(host in h for h in hosts) == 1, hosts
    slack = next(c for c in intercepted if "slack" in c[1])
    text = json.loads(slack[2])["attachments"][0]["text"]
    assert "…and 3 more" in text and "Lavrov visit, part" in text  # the flood guard
    rows = list(db.query("SELECT channel, label, state FROM outbox ORDER BY id"))
    assert [r["state"] for r in rows] == ["sent"] * 4
    labels = [r["label"] for r in rows]
    assert labels[:3] == ["email", "Slack", "Telegram"]
    assert "workflows://myhost.example.org" in labels[3]
    assert not any(secret in label for label in labels
                   for secret in ("TIiajk", "abcdefghijklmnop", "workflowid", "signature"))
    assert alerts.flush(db, config).sent == 0 and len(intercepted) == 3


def test_markdown_is_short_escaped_and_cut_to_the_service_limit():
    many = [dict(STORIES[0], title=f"Story {i} " + "x" * 80, url=f"https://news.example/{i}")
            for i in range(40)]
    title, body = render_markdown("lavrov", many, body_maxlen=1000, search_hint="newswatch search Lavrov")
    assert len(body) <= 1000
    assert "more — newswatch search Lavrov" in body
    shown = body.count("https://news.example/")
    assert f"…and {40 - shown} more" in body
    title, body = render_markdown("lavrov", [dict(STORIES[0], title=HOSTILE,
                                                  url="javascript:alert(1)")])
    assert "\r" not in body and "\u202e" not in body and "javascript:" not in body
    assert "\\<script\\>" in body
    assert "Bcc: x@example.org" in body.replace("\\", "")  # one line, not a header


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_feeds_parse_without_bozo_with_stable_ids_and_escaped_titles(fmt):
    stories = [dict(STORIES[0], title=HOSTILE + "\x01"),
               dict(STORIES[0], title="Second", url="https://news.example/a2",
                    first_seen="2026-11-29T10:00:00+00:00", published=None)]
    text = render_feed("lavrov", "Lavrov", stories, fmt=fmt,
                       self_url="http://127.0.0.1:8080/feeds/lavrov.atom?token=t")
    if fmt == "json":
        doc = json.loads(text)
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        assert [i["id"] for i in doc["items"]] == ["https://news.example/a1",
                                                   "https://news.example/a2"]
        assert doc["items"][0]["authors"] == [{"name": "Example Times"}]
        return
    parsed = feedparser.parse(text.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    ids = [e.id for e in parsed.entries]
    assert ids == ["https://news.example/a1", "https://news.example/a2"]
    first = parsed.entries[0]
    assert first.title.startswith("<script>alert(1)</script>")  # text, not markup
    assert "<script>" not in text  # escaped in the document
    assert first.published_parsed[:5] == (2026, 11, 30, 5, 23)
    assert (first.get("author") or first.get("author_detail", {}).get("name")) == "Example Times"


def _report(title: str, outlet: str, published: str, tid: int | None, reports: int = 1,
            coverage: bool = False, n: int = 0) -> dict:
    thread = None if tid is None else {
        "id": tid, "title": "Lavrov arrives in North Korea", "reports": reports,
        "outlets": ["The Moscow Times", "AP", "Reuters", "Yonhap", "NK News"],
        "coverage": coverage}
    return {"title": title, "url": f"https://news.example/{n}", "outlet": outlet,
            "published": published, "first_seen": published, "when": published[:10],
            "snippet": f"{title}, the report.", "also_in": [], "thread": thread}


# One thread of 5 reports: three new in this message (newest first, as the queue orders
# them), one more coverage of it; another story of its own.
THREAD = [
    _report("Lavrov meets Kim", "Reuters", "2026-11-30T09:00:00+00:00", 7, 5, n=3),
    _report("Ferry strike ends", "Example Times", "2026-11-30T08:00:00+00:00", None, n=9),
    _report("Lavrov lands in Pyongyang", "AP", "2026-11-30T06:00:00+00:00", 7, 5, n=2),
    _report("Lavrov arrives in North Korea", "The Moscow Times", "2026-11-30T05:00:00+00:00",
            7, 5, n=1),
    _report("Lavrov visit, day two", "Yonhap", "2026-11-30T10:00:00+00:00", 7, 5,
            coverage=True, n=4),
]


def test_a_chat_message_groups_a_thread_under_its_first_report(receiver):
    """What a json:// receiver gets: one block for the thread, led by its first report,
    with its report count and outlets, the later reports under it and the more coverage
    marked as such (not new: the title counts 4 new stories)."""
    title, body = render_markdown("lavrov", THREAD)
    result = send_apprise(parse_target(f"json://127.0.0.1:{receiver.port}/notify"), title, body)
    assert result.ok, result.error
    note = json.loads(receiver.requests[0]["body"])
    assert note["title"] == "newswatch: lavrov: 4 new stories"
    message = note["message"].replace("\\", "")
    blocks = message.split("\n\n")
    assert len(blocks) == 2, message  # the thread, then the ferry strike
    thread = blocks[0].splitlines()
    assert thread[0].startswith("- **[Lavrov arrives in North Korea](https://news.example/1)")
    assert "  5 reports: The Moscow Times, AP, Reuters, Yonhap, …" in thread
    assert [line.split("](")[0] for line in thread if line.startswith("  later report:")] == [
        "  later report: [Lavrov lands in Pyongyang", "  later report: [Lavrov meets Kim"]
    assert any(line.startswith("  more coverage: [Lavrov visit, day two]") for line in thread)
    assert blocks[1].startswith("- **[Ferry strike ends]") and "reports" not in blocks[1]


def test_a_chat_message_of_coverage_only_and_the_limits_count_every_report():
    [block] = render_markdown("lavrov", THREAD[4:])[1].split("\n\n")
    assert block.startswith("- **More coverage: Lavrov arrives in North Korea** — 5 reports")
    # cut short: the thread's lead and its line stay; its later reports and coverage are
    # counted in the last line with the stories that did not fit
    many = THREAD + [_report(f"Story {i} " + "x" * 80, "Example Times",
                             f"2026-11-29T{i % 24:02d}:00:00+00:00", 100 + i, n=100 + i)
                     for i in range(30)]
    for limit in (300, 700, 1500, 4000):
        title, body = render_markdown("lavrov", many, body_maxlen=limit,
                                      search_hint="newswatch search Lavrov")
        assert len(body) <= limit and title == "newswatch: lavrov: 34 new stories"
        plain_body = body.replace("\\", "")
        shown = sum(plain_body.count(f"news.example/{i})") for i in (1, 2, 3, 9)) + sum(
            plain_body.count(f"news.example/{100 + i})") for i in range(30))
        cover = plain_body.count("news.example/4)")
        rest = [f"{34 - shown} more"] * (shown < 34) + ["1 more coverage"] * (1 - cover)
        assert plain_body.endswith(f"…and {', '.join(rest)} — newswatch search Lavrov"), body
        assert "Lavrov arrives in North Korea](https://news.example/1)" in plain_body
