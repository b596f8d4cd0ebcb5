"""One story, one row, one alert, through the real crawler: URL variants, a wire copy on a
second outlet, same-topic different stories, and a correction."""

from __future__ import annotations

import json
import re
import time

import pytest

from conftest import StoredDB, run_newswatch, write_config
from newswatch import clock

LAVROV = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
alert_max_age = "120d"
"""


def rows_by_slug(db: StoredDB) -> dict[str, dict]:
    return {re.search(r"/([^/]+)$", r["url"]).group(1): r for r in db["articles"].rows}


def slug_of(site, article_id: str) -> str:
    return json.loads((site.content / "articles" / f"{article_id}.json").read_text())["slug"]


@pytest.fixture
def crawled(tmp_path, site, smtp, store_url):
    config = write_config(tmp_path, site, smtp=smtp, watches=LAVROV, database=store_url)
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    return config, site, smtp, StoredDB(store_url)


def test_url_variants_collapse_to_one_canonical_row(crawled):
    _, site, _, db = crawled
    urls = [r["url"] for r in db["articles"].rows]
    assert len(urls) == len(set(urls))
    assert not [u for u in urls if "utm_" in u or "/amp/" in u or u.endswith("/")]
    # Every public story once, whatever links (feed with trackers, AMP, listing) led to it.
    assert len(urls) == len(site.articles())


def test_wire_copy_is_one_story_with_one_alert_naming_both_outlets(crawled):
    _, site, smtp, db = crawled
    rows = rows_by_slug(db)
    wire = rows[slug_of(site, "meridian-lavrov-lands-pyongyang")]
    copy = rows[slug_of(site, "ledger-lavrov-arrives-syndicated")]
    assert (wire["duplicate_of"], copy["duplicate_of"]) in [(None, wire["id"]),
                                                            (copy["id"], None)]
    original = wire if wire["duplicate_of"] is None else copy
    alerted = [r[0] for r in db.execute(
        "SELECT article_id FROM alerts WHERE watch = 'Lavrov in Korea' AND state != 'skipped'")]
    assert original["id"] in alerted
    assert wire["id"] not in alerted or copy["id"] not in alerted
    [msg] = smtp.messages
    text = msg.get_body(preferencelist=("plain",)).get_content()
    other = "Ledger" if original is wire else "Meridian"
    assert re.search(r"(?i)also in:.*" + other, text), text


def test_same_topic_different_stories_stay_apart(crawled):
    _, site, _, db = crawled
    rows = rows_by_slug(db)
    # An announced visit, another outlet's report of the arrival, and a later visit: three
    # stories on one topic, with the same names and places, none a copy of another.
    stories = [rows[slug_of(site, s)] for s in ("ledger-lavrov-visit-announced",
                                                "meridian-lavrov-lands-pyongyang",
                                                "ledger-lavrov-wonsan")]
    ids = {r["id"] for r in stories}
    assert len(ids) == 3
    for row in stories:
        assert row["duplicate_of"] not in ids, row["url"]
    assert stories[0]["duplicate_of"] is None and stories[2]["duplicate_of"] is None


def test_a_correction_updates_the_row_and_never_realerts(crawled):
    config, site, smtp, db = crawled
    path = site.content / "articles" / "ledger-lavrov-wonsan.json"
    story = json.loads(path.read_text())
    before = rows_by_slug(db)[story["slug"]]
    sent = len(smtp.messages)
    story["paragraphs"][0] += " (This report was corrected to give the right flight time.)"
    # Times have seconds precision: a correction stamped in the second the first pass
    # fetched the story is not newer than that fetch. Correct it in a later second.
    while clock.now_iso() <= before["last_seen"]:
        time.sleep(0.05)
    story["modified"] = clock.now_iso()
    path.write_text(json.dumps(story, ensure_ascii=False), encoding="utf-8")

    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    after = rows_by_slug(db)[story["slug"]]
    assert "corrected to give the right flight time" in after["text"]
    assert after["id"] == before["id"] and after["first_seen"] == before["first_seen"]
    assert after["changes"] == 1
    assert len(smtp.messages) == sent, "a correction was alerted again"
