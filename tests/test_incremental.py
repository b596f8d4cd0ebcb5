"""Incremental fetching with real parts: conditional GET against servers that answer 304,
requests counted server-side, real `newswatch crawl` processes."""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import CONTENT, run_newswatch, write_config
from newswatch import clock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from outlet_server import Farm, outlets_toml  # noqa: E402

ARTICLE = re.compile(r"/news/\d{4}/\d{2}/\d{2}/")


@pytest.fixture
def farm():
    f = Farm(outlets=1, articles=30)
    yield f
    f.stop()


def farm_config(tmp_path: Path, farm: Farm) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text('database = "newswatch.db"\n[crawl]\nworkers = 1\n\n'
                    + outlets_toml(farm.urls), encoding="utf-8")
    return path


def crawl(config: Path, env: dict | None = None) -> None:
    result = run_newswatch("crawl", config=config, env=env)
    assert result.returncode == 0, result.stderr


def test_unchanged_site_answers_304_and_nothing_is_parsed(tmp_path):
    from newswatch.demosite import start_site

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    with start_site(content) as site:
        config = write_config(tmp_path, site)
        crawl(config)
        first = list(site.requests)
        assert any(ARTICLE.search(r["path"]) for r in first)
        site.requests.clear()
        crawl(config)
        second = list(site.requests)
    discovery = [r for r in second if r["path"].endswith(("rss.xml", "sitemap.xml", "/news/"))]
    assert discovery and all(r["conditional"] and r["status"] == 304 for r in discovery)
    assert [r["path"] for r in second if ARTICLE.search(r["path"])] == []
    db = sqlite3.connect(tmp_path / "newswatch.db")
    # A 304 is not an error: the runs are ok, without errors.
    last = db.execute("SELECT status, errors FROM runs ORDER BY id DESC LIMIT 2").fetchall()
    assert last == [("ok", 0), ("ok", 0)]


def test_only_new_articles_are_requested(tmp_path, farm):
    config = farm_config(tmp_path, farm)
    outlet = farm.servers[0].outlet
    crawl(config)
    assert outlet.requests["article"] == 30
    crawl(config)
    assert outlet.requests["article"] == 30  # unchanged: no article request at all
    outlet.add(3)
    crawl(config)
    assert outlet.requests["article"] == 33
    db = sqlite3.connect(tmp_path / "newswatch.db")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 33


def test_a_failed_pass_keeps_no_validators_so_nothing_is_lost(tmp_path, farm):
    config = farm_config(tmp_path, farm)
    outlet = farm.servers[0].outlet
    outlet.fail_kinds = {"article"}  # the feed works, every article page fails
    crawl(config)
    outlet.fail_kinds = set()
    before = outlet.requests["article"]
    # Once their backoff is over (spiders/failures.py): a 304 for the feed would have
    # hidden these articles for good.
    crawl(config, {"NEWSWATCH_FAKE_NOW": clock.to_iso(clock.now() + timedelta(hours=1))})
    assert outlet.requests["article"] - before == 30
    db = sqlite3.connect(tmp_path / "newswatch.db")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 30


def test_recheck_only_recent_articles_whose_discovery_entry_changed(tmp_path, monkeypatch):
    from newswatch import clock
    from newswatch.config import load_config
    from newswatch.crawl import PassContext
    from newswatch.store import open_db

    path = tmp_path / "newswatch.toml"
    path.write_text('database = "n.db"\n[defaults]\nrecheck = "48h"\n[[outlets]]\nid = "a"\n'
                    'feeds = ["http://127.0.0.1:9/rss.xml"]\nallow_private = true\n')
    config = load_config(path)
    db = open_db(config.database)
    now = clock.parse_iso("2026-03-01T12:00:00+00:00")
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", clock.to_iso(now))
    for url, age in (("http://x/recent", 3), ("http://x/old", 72)):
        seen = clock.to_iso(now - timedelta(hours=age))
        db["articles"].insert({"url": url, "outlet": "a", "first_seen": seen,
                               "last_seen": seen})
    ctx = PassContext.create(config, db)
    later = clock.to_iso(now - timedelta(hours=1))
    earlier = clock.to_iso(now - timedelta(hours=5))
    assert ctx.recheck_due("http://x/recent", later)
    assert not ctx.recheck_due("http://x/recent", earlier)  # unchanged since we fetched it
    assert not ctx.recheck_due("http://x/recent", None)  # no hint: no request
    assert not ctx.recheck_due("http://x/old", later)  # outside the 48 h window
    assert not ctx.recheck_due("http://x/unknown", later)
