"""The whole path with real parts: the fixture site over HTTP on 127.0.0.1, real Scrapy,
real trafilatura, a real SQLite file, a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta

import pytest

from conftest import db_dicts, db_rows, run_newswatch, write_config
from newswatch import clock

WATCHES = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'

[[watches]]
name = "Kim Jong Un"
query = '"Kim Jong Un"'

[[watches]]
name = "Lavrov in Russian"
query = 'Лавров*'

[[watches]]
name = "Korea without Lavrov"
query = '(Pyongyang OR "North Korea") AND NOT Lavrov'
"""


class Stored:
    """What a crawl left in the database, read on either backend."""

    def __init__(self, target: str):
        self.target = target

    def articles(self) -> list[dict]:
        return db_dicts(self.target, "SELECT * FROM articles ORDER BY id")

    def count(self, table: str) -> int:
        return db_rows(self.target, f"SELECT count(*) FROM {table}")[0][0]

    def execute(self, sql: str, params=()) -> list[tuple]:
        return db_rows(self.target, sql, params)


DATABASES: dict = {}  # config path -> what its `database` says


def stored(config) -> Stored:
    return Stored(DATABASES[config])


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture
def crawled(tmp_path, site, smtp, store_url):
    config = write_config(tmp_path, site, smtp=smtp, watches=WATCHES, database=store_url)
    DATABASES[config] = store_url
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    return config, site, smtp, result


def test_every_article_stored_once_without_boilerplate(crawled):
    config, site, _, _ = crawled
    db = stored(config)
    rows = {r["url"]: r for r in db.articles()}
    articles = site.articles()
    assert len(rows) == len({a["slug"] for a in articles})
    by_title = {norm(r["title"] or ""): r for r in rows.values()}
    for article in articles:
        row = by_title.get(norm(article["title"]))
        assert row is not None, f"{article['title']!r} not stored with that title"
        text = norm(row["text"])
        for sentence in article["expected"]["must_contain"]:
            assert norm(sentence) in text, f"{article['slug']}: lost {sentence!r}"
        for snippet in article["expected"]["must_not_contain"]:
            assert norm(snippet) not in text, f"{article['slug']}: kept boilerplate {snippet!r}"
        if article.get("author"):
            assert article["author"] in (row["author"] or ""), article["slug"]
        assert row["published"], f"{article['slug']}: no date"


def test_one_email_per_watch_with_the_right_stories(crawled):
    config, site, smtp, _ = crawled
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert len(subjects) == len(set(subjects)), "a watch got two emails in one pass"
    by_watch = {re.match(r"\[newswatch\] (.+): \d+ new stor", s).group(1): m
                for s, m in ((m["Subject"], m) for m in smtp.messages)}
    assert set(by_watch) == {"Lavrov in Korea", "Kim Jong Un", "Lavrov in Russian",
                             "Korea without Lavrov"}
    for msg in smtp.messages:
        html = msg.get_body(preferencelist=("html",)).get_content()
        text = msg.get_body(preferencelist=("plain",)).get_content()
        assert "<script" not in html
        assert re.search(r'href="http://127\.0\.0\.1:\d+/news/', html)
        assert "http://127.0.0.1:" in text
    lavrov_text = by_watch["Lavrov in Korea"].get_body(preferencelist=("plain",)).get_content()
    db = stored(config)
    year_ago = clock.to_iso(clock.now() - timedelta(days=365))
    old = [r for r in db.articles() if r["published"] and r["published"] < year_ago]
    assert old, "the fixture's old story was not stored"
    for row in old:
        assert row["url"] not in lavrov_text, "an old story was alerted"


def test_second_crawl_stores_and_sends_nothing_new(crawled):
    config, _, smtp, _ = crawled
    before = stored(config).count("articles")
    sent = len(smtp.messages)
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    assert stored(config).count("articles") == before
    assert len(smtp.messages) == sent


def alerted_titles(config, watch: str) -> set[str]:
    db = stored(config)
    return {norm(r[0]) for r in db.execute(
        "SELECT a.title FROM alerts l JOIN articles a ON a.id = l.article_id "
        "WHERE l.watch = ? AND l.state != 'skipped'", [watch])}


def test_watches_match_variants_and_never_teasers(crawled):
    config, site, _, _ = crawled
    articles = site.articles()
    db = stored(config)
    texts = {norm(r["title"]): (r["title"] or "") + "\n" + (r["text"] or "")
             for r in db.articles()}
    hyphen = alerted_titles(config, "Kim Jong Un")
    assert any("Kim Jong-un" in texts[t] for t in hyphen), "hyphen variant not matched"
    russian = alerted_titles(config, "Lavrov in Russian")
    assert russian and all(re.search(r"Лавров\w*", texts[t]) for t in russian)
    no_lavrov = alerted_titles(config, "Korea without Lavrov")
    assert no_lavrov and not any("Lavrov" in texts[t] for t in no_lavrov)
    # A page whose only Lavrov mention is a related-stories teaser never matches.
    lavrov = alerted_titles(config, "Lavrov in Korea")
    for article in articles:
        body = " ".join(article["paragraphs"]) + article["title"]
        if "Lavrov" not in body:
            assert norm(article["title"]) not in lavrov


def test_eml_fallback_without_smtp(tmp_path, site):
    config = write_config(tmp_path, site, watches=WATCHES)
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 4
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert msg["Subject"].startswith("[newswatch] ")
        assert msg.get_body(preferencelist=("html",)) is not None
        assert msg.get_body(preferencelist=("plain",)) is not None
        assert msg["Message-ID"]


def test_search_and_status_commands(crawled):
    config = crawled[0]
    result = run_newswatch("search", "Kim Jong-un", "--json", config=config)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and all("Kim Jong" in (r["title"] + (r.get("snippet") or "")) or r["url"]
                        for r in rows)
    result = run_newswatch("status", "--json", config=config)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {o["id"] for o in data["outlets"]} == set(crawled[1].urls)
    assert all(o["last_status"] == "ok" and o["articles"] > 0 for o in data["outlets"])


def test_config_error_names_file_and_line_and_exits_2(tmp_path, site):
    config = write_config(tmp_path, site, watches="""
[[watches]]
name = "broken"
query = 'Lavrov AND ("North Korea"'
""")
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 2
    line = next(i for i, l in enumerate(config.read_text().splitlines(), 1)
                if l.startswith("query ="))
    assert f"config error: {config}:{line}:" in result.stderr
    assert not (tmp_path / "newswatch.db").exists(), "something ran despite the bad config"
