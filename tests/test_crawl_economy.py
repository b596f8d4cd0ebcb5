"""Crawl economy (issue 17, item 5): an article page that fails is not fetched again every
pass. A stalling page costs one timeout in the first pass and none in the next; a 404
waits days, or until its feed entry changes; `status` and `explain` say which URLs wait,
why and until when. Real passes through the real CLI against tests/hostile_server.py."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT, run_newswatch
from hostile_server import HostileServer, Reply, article_html, rss, stall_mid_body

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def at(delta: timedelta) -> dict:
    return {"NEWSWATCH_FAKE_NOW": (T0 + delta).isoformat(),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")]))}


def serve(server: HostileServer, gone_title: str = "Gone") -> None:
    links = ["/a/fine", "/a/stall", "/a/gone"]
    items = "".join(
        f"<item><title>{title}</title><link>{server.base}{link}</link>"
        f"<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>"
        for link, title in zip(links, ["Fine", "Stall", gone_title]))
    server.route("/feed.xml", Reply(200, (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Herald</title>'
        f"<link>{server.base}/</link>{items}</channel></rss>").encode(),
        content_type="application/rss+xml"))


@pytest.fixture
def herald(tmp_path):
    server = HostileServer()
    serve(server)
    server.route("/a/fine", article_html("A fine story", words="fineword"))
    server.route("/a/stall", stall_mid_body(8))
    # /a/gone: not routed, the server answers 404
    config = tmp_path / "newswatch.toml"
    config.write_text(textwrap.dedent(f"""\
        database = "newswatch.db"
        [crawl]
        workers = 1
        download_timeout = 1
        [[outlets]]
        id = "herald"
        feeds = ["{server.base}/feed.xml"]
        article_urls = '/a/'
        allow_private = true
        """), encoding="utf-8")
    yield server, config
    server.stop()


def crawl(config: Path, delta: timedelta):
    result = run_newswatch("crawl", "--no-mail", config=config, env=at(delta), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_stalling_page_costs_one_timeout_then_none(herald):
    server, config = herald
    crawl(config, timedelta(0))
    assert server.hit_count("/a/stall") == 1  # no retries of an article timeout
    assert server.hit_count("/a/gone") == 1
    assert server.hit_count("/a/fine") == 1

    crawl(config, timedelta(minutes=10))
    assert server.hit_count("/a/stall") == 1  # backing off: not fetched at all
    assert server.hit_count("/a/gone") == 1
    assert server.hit_count("/feed.xml") == 2

    status = run_newswatch("status", "--json", config=config, env=at(timedelta(minutes=11)))
    herald_status = json.loads(status.stdout)["outlets"][0]
    assert herald_status["backed_off"] == 2
    text = run_newswatch("status", config=config, env=at(timedelta(minutes=11))).stdout
    assert "herald: 2 article URLs failed" in text

    why = run_newswatch("explain", f"{server.base}/a/stall", config=config,
                        env=at(timedelta(minutes=11))).stdout
    assert "backoff:" in why and "transient" in why
    assert "until 2026-11-24T12:30" in why  # 30 minutes after the first failure
    gone = run_newswatch("explain", f"{server.base}/a/gone", config=config,
                         env=at(timedelta(minutes=11))).stdout
    assert "permanent" in gone and "404" in gone and "feed entry changes" in gone

    # The delay is over: tried again, once, and the delay grows.
    crawl(config, timedelta(hours=1))
    assert server.hit_count("/a/stall") == 2
    assert server.hit_count("/a/gone") == 1  # a 404 waits days
    why = run_newswatch("explain", f"{server.base}/a/stall", config=config,
                        env=at(timedelta(hours=1, minutes=1))).stdout
    assert "2 times in a row" in why and "until 2026-11-24T14:00" in why


def test_a_permanent_failure_is_retried_when_its_feed_entry_changes(herald):
    server, config = herald
    crawl(config, timedelta(0))
    crawl(config, timedelta(minutes=10))
    assert server.hit_count("/a/gone") == 1
    serve(server, gone_title="Gone, now with a new headline")
    server.route("/a/gone", article_html("Back again", words="backword"))
    crawl(config, timedelta(minutes=20))
    assert server.hit_count("/a/gone") == 2
    why = run_newswatch("explain", f"{server.base}/a/gone", config=config,
                        env=at(timedelta(minutes=21))).stdout
    assert "stored:     article" in why and "backoff:" not in why


def test_a_due_url_is_retried_even_when_discovery_no_longer_lists_it(herald):
    server, config = herald
    crawl(config, timedelta(0))
    server.route("/feed.xml", Reply(200, rss(server.base, ["/a/fine"]),
                                    content_type="application/rss+xml"))
    server.route("/a/stall", article_html("Unstuck", words="unstuckword"))
    crawl(config, timedelta(hours=2))
    assert server.hit_count("/a/stall") == 2
    why = run_newswatch("explain", f"{server.base}/a/stall", config=config,
                        env=at(timedelta(hours=2, minutes=1))).stdout
    assert "stored:     article" in why and "backoff:" not in why
