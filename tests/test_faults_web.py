"""The hostile web (issue 7): one real crawl pass, through the real CLI, over outlets served
by loopback servers that fail, stall, flood, lie about content, redirect out of scope and
attack the XML parsers. The pass must go on, store what is good (decoded right), record
what failed, fetch nothing outside its outlets' origins, and read nothing from disk.

The pass runs once per module (it takes some seconds because timeouts and retry backoff
are real); each test then asserts one thing a user would notice.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT, run_newswatch
from hostile_server import (
    LOREM,
    HostileServer,
    Reply,
    article_html,
    deflate_bomb,
    fail_then,
    gzip_bomb,
    gzip_members_bomb,
    huge_chunked,
    redirect,
    rss,
    sleep_before_headers,
    stall_mid_body,
)

pytestmark = pytest.mark.slow

DOWNLOAD_TIMEOUT = 2  # seconds, in the test config
MAX_PAGE = 2 * 1024 * 1024  # "2MB" in the test config
SECRET = "NW-SECRET-c0ffee-7f3a"
RUSSIAN = ("Министр иностранных дел Сергей Лавров прибыл в Пхеньян для переговоров, "
           "сообщили в пятницу официальные лица. Визит продлится три дня, и стороны "
           "обсудят сотрудничество в области энергетики и транспорта.")
JAPANESE = ("ラブロフ外相は金曜日、平壌に到着し、三日間の日程で会談を行うと当局者が明らかにした。"
            "双方はエネルギーと運輸の分野での協力について話し合う予定で、記者団に対して詳しい"
            "説明は会談の後に行うと述べた。")

ARTICLE_PATHS = [
    "/a/ok-1", "/a/ok-2", "/a/flaky", "/a/down", "/a/slow", "/a/stall", "/a/huge",
    "/a/huge-chunked", "/a/gzip-bomb", "/a/deflate-bomb", "/a/loop", "/a/chain-0", "/a/pdf",
    "/a/png", "/a/pdf-as-html", "/a/gzip-as-html", "/a/bad-utf8", "/a/cp1251", "/a/cp1251-header",
    "/a/sjis",
    "/a/empty", "/a/deep", "/a/to-trap", "/a/to-file", "/a/to-localhost", "/a/meta-to-trap",
]


def serve_herald(a: HostileServer, trap: HostileServer, secret_file: Path) -> None:
    base = a.base
    links = [*ARTICLE_PATHS,
             # links off the outlet: another port, another host name, other schemes
             f"{trap.base}/a/offsite", f"http://localhost:{a.port}/a/other-name",
             "ftp://127.0.0.1/a/ftp", "file:///etc/passwd", "data:text/html,<p>hi</p>"]
    a.route("/feed.xml", Reply(200, rss(base, links), content_type="application/rss+xml"))
    a.route("/listing", article_html("Listing", [
        f'<a href="{trap.base}/a/from-listing">x</a> <a href="/a/ok-3">ok</a> '
        f'<a href="javascript:alert(1)">js</a> <a href="file:///etc/passwd">f</a>']))

    for i in (1, 2, 3):
        a.route(f"/a/ok-{i}", article_html(f"Good story {i}", words=f"okword{i}"))
    a.route("/a/flaky", fail_then(1, 503, Reply(200, article_html("Flaky", words="flakyword"))))
    a.route("/a/down", fail_then(10**9, 500, Reply(200, "")))
    a.route("/a/slow", sleep_before_headers(DOWNLOAD_TIMEOUT * 4))
    a.route("/a/stall", stall_mid_body(DOWNLOAD_TIMEOUT * 4))
    page = article_html("Huge", words="hugeword").encode()
    a.route("/a/huge", Reply(200, page + b"<!--" + b"x" * (20 * 1024 * 1024) + b"-->"))
    a.route("/a/huge-chunked", huge_chunked(20 * 1024 * 1024))
    a.route("/a/gzip-bomb", Reply(200, gzip_bomb(64 * 1024 * 1024),
                                  headers={"Content-Encoding": "gzip"}))
    a.route("/a/deflate-bomb", Reply(200, deflate_bomb(64 * 1024 * 1024),
                                     headers={"Content-Encoding": "deflate"}))
    a.route("/a/loop", redirect("/a/loop"))
    for i in range(30):
        a.route(f"/a/chain-{i}", redirect(f"/a/chain-{i + 1}"))
    a.route("/a/chain-30", article_html("End of chain", words="chainword"))
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + os.urandom(4000) + b"\n%%EOF\n"
    a.route("/a/pdf", Reply(200, pdf, content_type="application/pdf"))
    a.route("/a/png", Reply(200, b"\x89PNG\r\n\x1a\n" + os.urandom(4000),
                            content_type="image/png"))
    a.route("/a/pdf-as-html", Reply(200, pdf))
    a.route("/a/gzip-as-html", Reply(200, gzip.compress(
        article_html("Compressed", words="gzipword").encode() + os.urandom(2000))))
    bad = article_html("Broken bytes", words="badutfword").encode()
    bad = bad.replace(b"committee", b"commit\xff\xfe\xc3(tee", 1)
    a.route("/a/bad-utf8", Reply(200, bad))
    a.route("/a/cp1251", Reply(200, article_html(
        "Лавров в Пхеньяне", [RUSSIAN, RUSSIAN[::-1], RUSSIAN, RUSSIAN],
        head='<meta charset="windows-1251">').encode("cp1251"), content_type="text/html"))
    # A stale template meta tag; the server's header is right (browsers trust the header).
    a.route("/a/cp1251-header", Reply(200, article_html(
        "Лавров в Вонсане", [RUSSIAN, RUSSIAN[::-1], RUSSIAN, RUSSIAN],
        head='<meta charset="iso-8859-1">').encode("cp1251"),
        content_type="text/html; charset=windows-1251"))
    a.route("/a/sjis", Reply(200, article_html(
        "ラブロフ外相、平壌に到着", [JAPANESE, JAPANESE[::-1], JAPANESE, JAPANESE],
        head='<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">',
    ).encode("shift_jis"), content_type="text/html"))
    a.route("/a/empty", Reply(200, b""))
    deep = 100_000
    a.route("/a/deep", Reply(200, "<html><body>" + "<div>" * deep
                             + f"<p>{LOREM} deepword</p>" * 5 + "</div>" * deep
                             + "</body></html>"))
    a.route("/a/to-trap", redirect(f"{trap.base}/a/trapped"))
    a.route("/a/to-file", redirect("file:///etc/passwd"))
    a.route("/a/to-localhost", redirect(f"http://localhost:{a.port}/a/ok-1"))
    a.route("/a/meta-to-trap", f'<html><head><meta http-equiv="refresh" content="0; '
                               f'url={trap.base}/a/refreshed"></head><body>moved</body></html>')

    # Feeds that attack or break the XML parser.
    a.route("/feed-malformed.xml", Reply(200, rss(base, ["/a/from-malformed"]).replace(
        b"</title>", b"</titel>", 2).replace(b"</item>", b"<item><broken", 1)))
    full = rss(base, ["/a/from-truncated", "/a/from-truncated-2"])
    a.route("/feed-truncated.xml", Reply(200, full[: full.index(b"from-truncated-2") - 30]))
    laughs = "<!ENTITY lol0 \"lol\">" + "".join(
        f"<!ENTITY lol{i} \"{('&lol' + str(i - 1) + ';') * 10}\">" for i in range(1, 10))
    a.route("/feed-laughs.xml", Reply(200, rss(
        base, ["/a/laughs-item"], doctype=f"<!DOCTYPE rss [{laughs}]>", title="&lol9;")))
    xxe = (f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_file}">'
           f'<!ENTITY net SYSTEM "{trap.base}/xxe">]>')
    a.route("/feed-xxe.xml", Reply(200, rss(base, ["/a/xxe-item"], doctype=xxe,
                                            title="&xxe;&net;", item_title="&xxe;&net;")))
    a.route("/a/xxe-item", article_html("External entities", words="xxeword"))
    # feedparser's author regex is quadratic: 31 KB of "a." took seconds; 100 KB, minutes.
    a.route("/feed-quadratic.xml", Reply(200, rss(base, ["/a/after-author"]).replace(
        b"<guid>", b"<author>" + b"a." * 50_000 + b"</author><guid>", 1)))
    a.route("/a/after-author", article_html("After the author", words="authorword"))
    a.route("/feed-to-file", redirect("file:///etc/passwd"))
    a.route("/feed-to-trap", redirect(f"{trap.base}/feed.xml"))
    a.route("/feed-chain-0", redirect("/feed-chain-1"))
    for i in range(1, 30):
        a.route(f"/feed-chain-{i}", redirect(f"/feed-chain-{i + 1}"))

    # Sitemaps that loop or nest deeper than anyone needs.
    def index(*urls):
        entries = "".join(f"<sitemap><loc>{base}{u}</loc></sitemap>" for u in urls)
        return Reply(200, '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/'
                     f'schemas/sitemap/0.9">{entries}</sitemapindex>',
                     content_type="application/xml")
    a.route("/sitemap-self.xml", index("/sitemap-self.xml", "/sitemap-other.xml"))
    a.route("/sitemap-other.xml", index("/sitemap-self.xml", "/sitemap-other.xml"))
    for i in range(10):
        a.route(f"/sitemap-deep/{i}.xml", index(f"/sitemap-deep/{i + 1}.xml"))
    a.route("/sitemap-deep/10.xml", Reply(
        200, '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/a/deep-in-sitemaps</loc></url></urlset>",
        content_type="application/xml"))
    a.route("/a/deep-in-sitemaps", article_html("Ten levels down", words="sitemapword"))
    # A .xml.gz sitemap is gzip as a file, not as Content-Encoding: Scrapy does not unpack
    # it, the sitemap parser does, and 512 MB of zeros must not be.
    a.route("/sitemap-bomb.xml.gz", Reply(200, gzip_members_bomb(64),
                                          content_type="application/x-gzip"))


def write_config(tmp: Path, a: HostileServer, guarded: HostileServer,
                 public: HostileServer) -> Path:
    herald_feeds = [f"{a.base}/feed.xml", f"{a.base}/feed-malformed.xml",
                    f"{a.base}/feed-truncated.xml", f"{a.base}/feed-laughs.xml",
                    f"{a.base}/feed-xxe.xml", f"{a.base}/feed-quadratic.xml",
                    f"{a.base}/feed-to-file",
                    f"{a.base}/feed-to-trap", f"{a.base}/feed-chain-0"]
    text = textwrap.dedent(f"""\
        database = "newswatch.db"
        [crawl]
        workers = 1
        download_timeout = {DOWNLOAD_TIMEOUT}
        max_page_size = "2MB"

        [[outlets]]
        id = "herald"
        feeds = {herald_feeds!r}
        sitemaps = ["{a.base}/sitemap-self.xml", "{a.base}/sitemap-deep/0.xml",
                    "{a.base}/sitemap-bomb.xml.gz"]
        pages = ["{a.base}/listing"]
        article_urls = '/a/'
        allow_private = true

        [[outlets]]
        id = "guarded"
        feeds = ["{guarded.base}/feed.xml"]
        article_urls = '/a/'
        allow_private = true

        [[outlets]]
        id = "public"
        feeds = ["http://localhost:{public.port}/feed.xml"]
        article_urls = '/a/'
        """).replace("['", '["').replace("']", '"]').replace("', '", '", "')
    path = tmp / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Pass:
    """What one pass left behind, read once."""

    def __init__(self, config: Path, result, elapsed: float):
        self.config = config
        self.result = result
        self.elapsed = elapsed
        db = sqlite3.connect(config.parent / "newswatch.db")
        self.articles = {row[0].rsplit("/", 1)[-1]: {"title": row[1], "text": row[2]}
                         for row in db.execute("SELECT url, title, text FROM articles")}
        self.fetches = {row[0].rsplit("/", 1)[-1]: {"status": row[1], "error": row[2]}
                        for row in db.execute("SELECT url, status, error FROM fetches")}
        self.runs = {row[0]: {"status": row[1], "errors": row[2], "message": row[3]}
                     for row in db.execute("SELECT outlet, status, errors, message FROM runs")}
        db.close()


@pytest.fixture(scope="module")
def servers():
    herald, trap, guarded, public = (HostileServer() for _ in range(4))
    yield {"herald": herald, "trap": trap, "guarded": guarded, "public": public}
    for s in (herald, trap, guarded, public):
        s.stop()


@pytest.fixture(scope="module")
def crawl(servers, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    secret = tmp / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    herald, trap, guarded, public = (servers[k] for k in ("herald", "trap", "guarded",
                                                           "public"))
    serve_herald(herald, trap, secret)
    trap.route("/feed.xml", Reply(200, rss(trap.base, ["/a/trap-article"])))
    # robots.txt is down on "guarded": RFC 9309 says disallow everything until it is read.
    guarded.route("/robots.txt", Reply(503, "<html>maintenance</html>"))
    guarded.route("/feed.xml", Reply(200, rss(guarded.base, ["/a/guarded"])))
    guarded.route("/a/guarded", article_html("Guarded", words="guardedword"))
    public.route("/feed.xml", Reply(200, rss(public.base, ["/a/public"])))
    config = write_config(tmp, herald, guarded, public)
    started = time.monotonic()
    result = newswatch("crawl", "--no-mail", config=config)
    return Pass(config, result, time.monotonic() - started)


def newswatch(*args: str, config: Path, env: dict | None = None
              ) -> subprocess.CompletedProcess:
    # The package may not be installed: the child imports it from the checkout.
    return run_newswatch(*args, config=config, timeout=280,
                         env={**(env or {}), "PYTHONPATH": os.pathsep.join(
                             filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})


def assert_text_is_text(text: str) -> None:
    assert "\x00" not in text
    assert text.count("\ufffd") <= 4, text[:200]
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\t\r")
    assert controls == 0, text[:200]


# ----------------------------------------------------------------- the pass goes on


def test_pass_completes_despite_every_fault(crawl):
    assert crawl.result.returncode == 0, crawl.result.stderr[-3000:]
    assert crawl.runs["herald"]["status"] == "ok"
    assert crawl.runs["herald"]["errors"] > 0  # and the failures are counted


def test_good_articles_are_stored(crawl):
    for name in ("ok-1", "ok-2", "ok-3", "flaky", "xxe-item", "after-author"):
        assert name in crawl.articles, sorted(crawl.articles)
    assert "okword1" in crawl.articles["ok-1"]["text"]


def test_every_stored_text_is_text(crawl):
    for name, article in crawl.articles.items():
        assert_text_is_text(article["text"])
        assert_text_is_text(article["title"] or "")


# ------------------------------------------------------------- failing servers


def test_5xx_is_retried_and_then_succeeds(crawl, servers):
    assert servers["herald"].hit_count("/a/flaky") == 2
    assert "flakyword" in crawl.articles["flaky"]["text"]


def test_5xx_is_retried_with_backoff_then_recorded(crawl, servers):
    times = servers["herald"].hits["/a/down"]
    assert len(times) == 3  # the request and RETRY_TIMES = 2 retries
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= 0.5 for gap in gaps), gaps  # backoff, not an immediate retry
    assert "down" not in crawl.articles
    assert crawl.fetches["down"]["status"] == 500
    assert crawl.fetches["down"]["error"]


@pytest.mark.parametrize("name", ["slow", "stall"])
def test_timeouts_are_bounded_and_recorded(crawl, name):
    assert name not in crawl.articles
    assert crawl.fetches[name]["error"], crawl.fetches.get(name)


# --------------------------------------------------------------------- floods


@pytest.mark.parametrize("name", ["huge", "huge-chunked", "gzip-bomb", "deflate-bomb"])
def test_oversized_and_bombs_are_cut_off(crawl, name):
    assert name not in crawl.articles
    assert crawl.fetches[name]["error"], crawl.fetches.get(name)


def test_scrapy_limits_are_ours_not_the_defaults():
    from types import SimpleNamespace

    from spiders.settings import crawl_settings

    config = SimpleNamespace(crawl=SimpleNamespace(download_timeout=30.0,
                                                   max_page_size=10 * 1024 * 1024, workers=1),
                             contact="")
    s = crawl_settings(config)
    assert s["DOWNLOAD_MAXSIZE"] == 10 * 1024 * 1024  # Scrapy: 1 GiB
    assert s["DOWNLOAD_WARNSIZE"] <= s["DOWNLOAD_MAXSIZE"]
    assert s["DOWNLOAD_TIMEOUT"] == 30.0  # Scrapy: 180 s
    assert s["REDIRECT_MAX_TIMES"] <= 5  # Scrapy: 20
    assert s["RETRY_TIMES"] <= 3
    for scheme in ("file", "data", "ftp", "s3"):
        assert s["DOWNLOAD_HANDLERS"][scheme] is None
    middlewares = s["DOWNLOADER_MIDDLEWARES"]
    assert "spiders.backoff.RetryBackoffMiddleware" in middlewares
    assert middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
    assert "spiders.robots.StrictRobotsTxtMiddleware" in middlewares


# ------------------------------------------------------------------- redirects


def test_redirect_loop_and_long_chain_stop(crawl, servers):
    herald = servers["herald"]
    assert herald.hit_count("/a/loop") <= 6
    assert herald.hit_count("/a/chain-") <= 6  # REDIRECT_MAX_TIMES = 5
    assert herald.hit_count("/feed-chain-") <= 6
    # A redirect back to itself is dropped as a duplicate request; a chain is cut at the
    # limit and recorded.
    assert "max redirections" in crawl.fetches["chain-0"]["error"]
    assert not {"loop", "chain-0", "chain-30"} & set(crawl.articles)


# ------------------------------------------------------------ wrong content


@pytest.mark.parametrize("name", ["pdf", "png", "pdf-as-html", "gzip-as-html", "empty", "deep"])
def test_content_that_is_not_an_article_is_recorded_not_stored(crawl, name):
    assert name not in crawl.articles
    assert crawl.fetches[name]["error"], crawl.fetches.get(name)


def test_invalid_utf8_is_stored_with_the_rest_of_the_text_intact(crawl):
    text = crawl.articles["bad-utf8"]["text"]
    assert "badutfword" in text
    assert "Officials said the figures would be published" in text


def test_cp1251_with_charset_only_in_meta_is_decoded(crawl):
    article = crawl.articles["cp1251"]
    assert article["title"] == "Лавров в Пхеньяне"
    assert "Сергей Лавров прибыл в Пхеньян" in article["text"]


def test_the_http_header_charset_wins_over_a_stale_meta_tag(crawl):
    # Pages are decoded in the extraction workers: the header's charset must reach them.
    article = crawl.articles["cp1251-header"]
    assert article["title"] == "Лавров в Вонсане"
    assert "Сергей Лавров прибыл в Пхеньян" in article["text"]


def test_shift_jis_with_charset_only_in_meta_is_decoded(crawl):
    article = crawl.articles["sjis"]
    assert "平壌" in article["title"]
    assert "ラブロフ外相は金曜日" in article["text"]


# ------------------------------------------------------------- hostile XML


def test_malformed_and_truncated_feeds_do_not_stop_the_pass(crawl):
    # The complete item before the cut is still found.
    assert "from-truncated" in crawl.articles or "from-truncated" in crawl.fetches
    assert crawl.runs["herald"]["status"] == "ok"


def test_billion_laughs_is_not_expanded(crawl):
    for article in crawl.articles.values():
        assert "lollollol" not in (article["title"] or "") + article["text"]


def test_external_entities_read_nothing(crawl, servers):
    database = crawl.config.parent / "newswatch.db"
    stored = b"".join(p.read_bytes() for p in database.parent.glob("newswatch.db*"))
    assert SECRET.encode() not in stored
    assert servers["trap"].hit_count("/xxe") == 0


def test_compressed_sitemap_bomb_does_not_stop_the_pass(crawl, servers):
    assert servers["herald"].hit_count("/sitemap-bomb.xml.gz") == 1
    assert crawl.result.returncode == 0
    assert "MemoryError" not in crawl.result.stderr


def test_sitemap_self_reference_and_deep_nesting_are_bounded(servers):
    from spiders.outlet import MAX_SITEMAP_DEPTH

    herald = servers["herald"]
    assert herald.hit_count("/sitemap-self.xml") + herald.hit_count("/sitemap-other.xml") \
        <= 2 * (MAX_SITEMAP_DEPTH + 1)
    assert herald.hit_count("/sitemap-deep/") <= MAX_SITEMAP_DEPTH + 1


# ------------------------------------------------------------------------ scope


def test_nothing_outside_the_outlets_origins_is_fetched(crawl, servers):
    # Links, redirects, a meta refresh and a feed redirect all pointed at the trap, which
    # is another port of the same loopback host.
    assert crawl.result.returncode == 0
    assert dict(servers["trap"].hits) == {}


def test_redirect_to_file_url_reads_nothing(crawl):
    for article in crawl.articles.values():
        assert "root:x:0:0" not in article["text"]
    # Scrapy does not follow a redirect to a non-http scheme; the 302 is recorded.
    assert crawl.fetches["to-file"]["status"] == 302 and crawl.fetches["to-file"]["error"]
    assert "out of scope" in (crawl.fetches["to-trap"]["error"] or "")
    assert "out of scope" in (crawl.fetches["to-localhost"]["error"] or "")


def test_public_outlet_resolving_to_loopback_is_refused(crawl, servers):
    assert dict(servers["public"].hits) == {}
    run = crawl.runs["public"]
    assert run["errors"] >= 1 and "private address" in (run["message"] or "")


def test_robots_txt_5xx_means_disallow_all(crawl, servers):
    guarded = servers["guarded"]
    assert set(guarded.hits) == {"/robots.txt"}, dict(guarded.hits)
    assert "robots.txt" in (crawl.runs["guarded"]["message"] or "")


# ---------------------------------------------------------------- next pass


def test_next_pass_fetches_what_failed_once_the_server_recovers(crawl, servers):
    herald = servers["herald"]
    herald.route("/a/down", Reply(200, article_html("Back up", words="recoveredword")))
    # once its backoff is over (spiders/failures.py: 30 minutes after a first failure)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    result = newswatch("crawl", "--no-mail", "herald", config=crawl.config,
                       env={"NEWSWATCH_FAKE_NOW": later.isoformat()})
    assert result.returncode == 0, result.stderr[-3000:]
    db = sqlite3.connect(crawl.config.parent / "newswatch.db")
    rows = db.execute("SELECT url, text FROM articles").fetchall()
    db.close()
    down = [text for url, text in rows if url.endswith("/a/down")]
    assert len(down) == 1 and "recoveredword" in down[0]
    urls = [url for url, _ in rows]
    assert len(urls) == len(set(urls))  # nothing stored twice
