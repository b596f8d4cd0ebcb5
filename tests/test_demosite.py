"""The fixture news site (newswatch.demosite), served in a real subprocess on 127.0.0.1 and
fetched with urllib, as the crawler and the demo see it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest

from newswatch import clock
from newswatch.demosite import load_content, start_site
from newswatch.demosite.store import BUNDLED

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T16:18:11+00:00"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Served:
    def __init__(self, content: Path, env: dict | None = None):
        self.content = content
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newswatch.demosite", "--content", str(content)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        line = self.process.stdout.readline()
        assert line, f"site did not start: {self.process.stderr.read()}"
        self.first_line = line
        self.urls: dict[str, str] = json.loads(line)["outlets"]

    def stop(self, timeout: float = 5) -> tuple[int, str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


def get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


@pytest.fixture(scope="module")
def served():
    s = Served(BUNDLED, {"NEWSWATCH_FAKE_NOW": NOW})
    yield s
    if s.process.poll() is None:
        s.stop()


@pytest.fixture(scope="module")
def content():
    return load_content(now=clock.parse_iso(NOW))


@pytest.fixture
def copied(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(BUNDLED, target)
    return target


def article(content, article_id):
    a = content.by_id(article_id)
    assert a is not None, article_id
    return a


# --- process contract ---------------------------------------------------------------------

def test_prints_one_json_line_then_exits_cleanly_on_sigterm():
    s = Served(BUNDLED)
    assert set(s.urls) == {"ledger", "meridian"}
    assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+", u) for u in s.urls.values())
    assert len(set(s.urls.values())) == 2, "each outlet has its own port"
    assert get(s.urls["ledger"] + "/news/")[0] == 200  # a request, so log_message would fire
    rc, out, err = s.stop(timeout=60)  # a hang guard: a server ignoring SIGTERM fails
    assert rc == 0
    assert out == "" and err == "", "nothing but the JSON line on stdout, nothing on stderr"


def test_missing_content_folder_is_a_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "newswatch.demosite", "--content", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=30,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and "outlets.json" in r.stderr and r.stdout == ""


# --- discovery: feed, sitemaps, listing, robots ---------------------------------------------

def test_feed_lists_only_in_feed_articles_newest_first(served, content):
    for oid, base in served.urls.items():
        status, headers, body = get(base + "/rss.xml")
        assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
        ET.fromstring(body.encode())  # well-formed XML
        feed = feedparser.parse(body)
        assert not feed.bozo, feed.get("bozo_exception")
        want = [a for a in content.of(oid) if a.in_feed]
        assert [e.title for e in feed.entries] == [a.title for a in want]
        for entry, a in zip(feed.entries, want):
            assert entry.link.split("?")[0] == base + a.path
            assert parsedate_to_datetime(entry.published) == a.published
            assert entry.id and entry.summary
    ledger_titles = [e.title for e in feedparser.parse(get(served.urls["ledger"] + "/rss.xml")[2]).entries]
    old = article(content, "ledger-lavrov-kim-talks-old")
    assert old.title not in ledger_titles
    assert not any(t.startswith("EMBARGOED") for t in ledger_titles)


def test_sitemap_index_leads_to_news_sitemap_with_old_story(served, content):
    base = served.urls["ledger"]
    index = ET.fromstring(get(base + "/sitemap.xml")[2].encode())
    locs = [e.text for e in index.iter(SM + "loc")]
    assert locs == [base + "/sitemap-news.xml"]
    news = ET.fromstring(get(locs[0])[2].encode())
    entries = {u.find(SM + "loc").text: u for u in news.iter(SM + "url")}
    old = article(content, "ledger-lavrov-kim-talks-old")
    assert base + old.path in entries, "the old story is discoverable via the sitemap"
    assert entries[base + old.path].find(f"{NEWS}news/{NEWS}title").text == old.title
    date = entries[base + old.path].find(f"{NEWS}news/{NEWS}publication_date").text
    assert clock.parse_iso(date) == clock.parse_iso(NOW) - timedelta(days=730)
    assert not any("/private/" in u for u in entries)
    assert len(entries) == len(content.of("ledger"))


def test_listing_links_every_public_article_and_non_article_pages(served, content):
    for oid, base in served.urls.items():
        status, _, body = get(base + "/news/")
        assert status == 200
        hrefs = set(lxml.html.fromstring(body).xpath("//a/@href"))
        for a in content.of(oid):
            assert a.path in hrefs, f"{oid}: {a.path} not linked"
        assert {"/about/", "/contact/", "/tag/north-korea/"} <= hrefs
        assert any(h.startswith("/authors/") for h in hrefs)
        assert any("utm_source=" in h for h in hrefs), "a tracking-tagged variant"
        assert any(h.startswith("/amp/news/") for h in hrefs), "an AMP variant"
    ledger = set(lxml.html.fromstring(get(served.urls["ledger"] + "/news/")[2]).xpath("//a/@href"))
    assert any(h.startswith("/private/news/") for h in ledger), "the robots trap is linked"


def test_robots_disallows_private_and_names_the_sitemap(served):
    import urllib.robotparser

    base = served.urls["ledger"]
    status, _, body = get(base + "/robots.txt")
    assert status == 200 and f"Sitemap: {base}/sitemap.xml" in body
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(body.splitlines())
    assert rp.can_fetch("newswatch", base + "/news/2026/11/24/x")
    assert not rp.can_fetch("newswatch", base + "/private/news/2026/11/24/x")


def test_unknown_paths_are_404(served):
    base = served.urls["meridian"]
    for path in ("/about/", "/tag/north-korea/", "/news/2026/11/24/no-such-story", "/x.php"):
        assert get(base + path)[0] == 404, path


# --- article pages ------------------------------------------------------------------------

def metadata(html: str) -> dict:
    tree = lxml.html.fromstring(html)
    meta = {m.get("property") or m.get("name"): m.get("content") for m in tree.xpath("//meta")}
    ld = [json.loads(s.text) for s in tree.xpath('//script[@type="application/ld+json"]')]
    return {"title": tree.findtext(".//title"), "canonical": tree.xpath('//link[@rel="canonical"]/@href'),
            "meta": meta, "ld": ld, "text": norm(tree.text_content()), "tree": tree}


def test_full_article_has_canonical_opengraph_and_jsonld(served, content):
    a = article(content, "ledger-lavrov-visit-announced")
    url = served.urls["ledger"] + a.path
    assert "/news/2026/08/17/" in a.path  # -99d from the fake now
    status, headers, body = get(url)
    assert status == 200
    m = metadata(body)
    assert m["title"] == f"{a.title} | The Moscow Ledger"
    assert m["canonical"] == [url]
    assert m["meta"]["og:title"] == a.title and m["meta"]["og:url"] == url
    assert clock.parse_iso(m["meta"]["article:published_time"]) == a.published
    (ld,) = m["ld"]
    assert ld["@type"] == "NewsArticle" and ld["headline"] == a.title
    assert clock.parse_iso(ld["datePublished"]) == a.published
    assert ld["dateModified"] and ld["author"][0]["name"] == a.author
    assert m["tree"].xpath("//h1")[0].text_content() == a.title


def test_one_article_dates_only_in_meta_and_one_only_in_visible_dateline(served, content):
    meta_only = article(content, "ledger-lavrov-wonsan")
    m = metadata(get(served.urls["ledger"] + meta_only.path)[2])
    assert m["ld"] == [] and m["meta"]["article:published_time"]
    assert not m["tree"].xpath("//time[@datetime]")
    dateline = article(content, "meridian-north-korea-missile-launch")
    m = metadata(get(served.urls["meridian"] + dateline.path)[2])
    assert m["ld"] == [] and "article:published_time" not in m["meta"]
    assert not m["tree"].xpath("//time[@datetime]")
    assert "Monday 23 November 2026 14:18 GMT" in m["text"]  # NOW - 26h, shown as text only
    assert m["meta"]["og:title"] == dateline.title and m["canonical"]


def test_tracking_amp_and_slash_variants_serve_the_same_story(served, content):
    a = article(content, "meridian-lavrov-lands-pyongyang")
    base = served.urls["meridian"]
    plain = get(base + a.path)[2]
    assert get(base + a.path + "?utm_source=x&utm_medium=y")[2] == plain
    assert get(base + a.path + "/")[2] == plain
    status, _, amp = get(base + "/amp" + a.path)
    assert status == 200
    m = metadata(amp)
    assert m["canonical"] == [base + a.path]
    assert m["tree"].get("amp") is not None
    for p in a.paragraphs:
        assert norm(p) in m["text"]


def test_stale_date_in_path_redirects_to_where_the_story_lives(served, content):
    a = article(content, "meridian-energy-bills-rise")
    wrong = served.urls["meridian"] + "/news/1999/01/01/" + a.slug
    status, headers, body = get(wrong)  # urllib follows the redirect
    assert status == 200 and metadata(body)["canonical"] == [served.urls["meridian"] + a.path]


def test_expected_snippets_describe_the_served_pages(served, content):
    """The `expected` lists other tests rely on are true of the pages: every must_contain
    sentence is in the body, every must_not_contain snippet is on the page but not in the
    body, and exactly_once sentences are in the body once but on the page twice."""
    checked = 0
    for a in content.articles:
        if a.private:
            assert a.expected is None
            continue
        text = metadata(get(served.urls[a.outlet] + a.path)[2])["text"]
        body = norm(" ".join(a.paragraphs))
        assert len(a.expected["must_contain"]) >= 3 and 5 <= len(a.paragraphs) <= 12
        for s in a.expected["must_contain"]:
            assert norm(s) in body and norm(s) in text, (a.id, s)
        for s in a.expected["must_not_contain"]:
            assert norm(s) in text, (a.id, "boilerplate not on page", s)
            assert norm(s) not in body and norm(s) not in norm(a.title), (a.id, s)
        for s in a.expected.get("exactly_once", []):
            assert body.count(norm(s)) == 1 and text.count(norm(s)) == 2, (a.id, s)
        checked += 1
    assert checked >= 8


def test_teasers_name_what_the_body_does_not(served, content):
    """The traps the watches must not fall into are really on the pages."""
    wonsan = article(content, "ledger-lavrov-wonsan")
    page = metadata(get(served.urls["ledger"] + wonsan.path)[2])["text"]
    assert "Kim Jong Un" in page and "Kim Jong Un" not in wonsan.text
    for aid in ("meridian-energy-bills-rise", "meridian-north-korea-missile-launch"):
        a = article(content, aid)
        page = metadata(get(served.urls["meridian"] + a.path)[2])["text"]
        assert "Lavrov" in page and "Lavrov" not in a.text + a.title
    assert "Pyongyang" in article(content, "meridian-north-korea-missile-launch").text
    ru = article(content, "ledger-ru-wonsan-talks")
    words = set(re.findall(r"Лавров\w*", ru.text))
    assert {"Лаврова", "Лавровым"} <= words and "Лавров" not in words
    assert 'lang="ru"' in get(served.urls["ledger"] + ru.path)[2]


def test_syndicated_copy_is_the_wire_story_minus_its_lede(content):
    wire = article(content, "meridian-lavrov-lands-pyongyang")
    copy = article(content, "ledger-lavrov-arrives-syndicated")
    assert copy.title != wire.title and copy.paragraphs[0] == wire.paragraphs[1]
    changed = [i for i, p in enumerate(copy.paragraphs) if p != wire.paragraphs[i + 1]]
    assert len(changed) == 1
    assert "Kim Jong-un" in wire.text and "Kim Jong Un" not in wire.text
    assert "Sergey Lavrov" in wire.text


# --- conditional requests -----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/rss.xml", "/sitemap.xml", "/sitemap-news.xml", "/news/"])
def test_conditional_get_returns_304(served, path):
    url = served.urls["ledger"] + path
    status, headers, body = get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert get(url, {"If-None-Match": headers["ETag"]})[:1] == (304,)
    status, _, again = get(url, {"If-None-Match": '"something-else"'})
    assert status == 200 and again == body
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    older = parsedate_to_datetime(headers["Last-Modified"]) - timedelta(seconds=1)
    from email.utils import format_datetime
    assert get(url, {"If-Modified-Since": format_datetime(older, usegmt=True)})[0] == 200


# --- content edited between requests ------------------------------------------------------

def test_new_article_appears_corrections_show_and_deleted_story_is_gone(copied):
    s = Served(copied, {"NEWSWATCH_FAKE_NOW": NOW})
    try:
        feed_url = s.urls["meridian"] + "/rss.xml"
        _, headers, _ = get(feed_url)
        new = {"id": "meridian-test-new", "outlet": "meridian", "slug": "a-brand-new-story",
               "title": "A brand new story about Pyongyang", "author": "Test Desk",
               "published": "-10m", "in_feed": True, "language": "en",
               "paragraphs": ["First paragraph of the new story.", "Second paragraph."]}
        (copied / "articles" / "meridian-test-new.json").write_text(json.dumps(new))
        status, _, body = get(feed_url, {"If-None-Match": headers["ETag"]})
        assert status == 200, "the feed changed, so no 304"
        entries = feedparser.parse(body).entries
        assert entries[0].title == new["title"]
        url = entries[0].link.split("?")[0]
        assert url == s.urls["meridian"] + "/news/2026/11/24/a-brand-new-story"
        assert "Second paragraph." in get(url)[2]

        # A correction: edited text and a later dateModified.
        new["paragraphs"][1] = "Second paragraph, corrected."
        new["modified"] = "-1m"
        (copied / "articles" / "meridian-test-new.json").write_text(json.dumps(new))
        status, _, page = get(url)
        ld = metadata(page)["ld"][0]
        assert "Second paragraph, corrected." in page
        assert clock.parse_iso(ld["dateModified"]) > clock.parse_iso(ld["datePublished"])

        (copied / "articles" / "meridian-test-new.json").unlink()
        assert get(url)[0] == 404
        assert new["title"] not in get(feed_url)[2]
        # A half-written file is skipped, not served as an error.
        (copied / "articles" / "broken.json").write_text('{"id": "x", "outl')
        assert get(feed_url)[0] == 200
    finally:
        s.stop()


def test_fake_now_shifts_every_date(copied):
    later = "2027-03-01T09:30:00+00:00"
    early, late = Served(copied, {"NEWSWATCH_FAKE_NOW": NOW}), Served(copied, {"NEWSWATCH_FAKE_NOW": later})
    try:
        def newest(s):
            entry = feedparser.parse(get(s.urls["ledger"] + "/rss.xml")[2]).entries[0]
            return entry.link, parsedate_to_datetime(entry.published)

        link1, date1 = newest(early)
        link2, date2 = newest(late)
        assert date1 == clock.parse_iso(NOW) - timedelta(hours=3)
        assert date2 == clock.parse_iso(later) - timedelta(hours=3)
        assert "/news/2026/11/24/" in link1 and "/news/2027/03/01/" in link2
        page = get(link2)[2]
        assert metadata(page)["meta"]["article:published_time"] == "2027-03-01T06:30:00+00:00"
    finally:
        early.stop()
        late.stop()


def test_real_clock_site_is_a_stable_snapshot(copied, monkeypatch):
    """Without a fake clock, relative dates count back from the minute the site started, so
    repeated requests see identical pages (ETags hold, URLs do not move)."""
    monkeypatch.delenv("NEWSWATCH_FAKE_NOW", raising=False)
    with start_site(copied) as site:
        url = site.urls["ledger"] + "/rss.xml"
        before = clock.now()
        first = get(url)
        assert get(url, {"If-None-Match": first[1]["ETag"]})[0] == 304
        entry = feedparser.parse(first[2]).entries[0]
        age = before - parsedate_to_datetime(entry.published)
        assert timedelta(hours=3) <= age < timedelta(hours=3, minutes=2)


def test_in_process_site_stops_and_records_requests(copied):
    site = start_site(copied)
    assert set(site.names.values()) == {"The Moscow Ledger", "The Daily Meridian"}
    url = site.urls["meridian"] + "/news/"
    assert get(url)[0] == 200
    assert site.requests[-1]["path"] == "/news/" and site.requests[-1]["status"] == 200
    site.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)
