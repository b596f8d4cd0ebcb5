"""Discovery parsing: feeds, sitemaps and listing pages give absolute article URLs, and
hostile documents give nothing dangerous (no file or network read, no expansion, no hang)."""

from __future__ import annotations

import gzip
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch import feeds
from newswatch.feeds import extract_links, parse_feed, parse_sitemap

BASE = "http://example.org/feed.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Harbour Gazette</title><link>http://example.org/</link>
<item><title>Ferry timetable changes &amp; new routes</title>
 <link>http://example.org/news/ferry-timetable</link>
 <pubDate>Tue, 24 Nov 2026 10:00:00 +0100</pubDate>
 <description>&lt;p&gt;The winter timetable starts on Monday.&lt;/p&gt;</description>
 <dc:creator>Ana Lind</dc:creator></item>
<item><title>Relative link</title><link>/news/relative-story</link></item>
<item><title>Guid only</title><guid>http://example.org/news/guid-story</guid></item>
<item><title>No link at all</title></item>
<item><title>Script link</title><link>javascript:alert(1)</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/europe/">
<title>Harbour Gazette Europe</title>
<entry><title>Port strike ends</title><link rel="alternate" href="port-strike-ends"/>
 <id>tag:example.org,2026:1</id><updated>2026-11-24T08:30:00Z</updated>
 <published>2026-11-23T22:15:00-02:00</published><summary>Dock workers return.</summary></entry>
<entry><title>Updated only</title><link href="http://example.org/europe/updated-only"/>
 <updated>2026-11-24T09:00:00Z</updated></entry>
</feed>"""


def test_rss_entries_are_absolute_with_utc_dates():
    entries = parse_feed(RSS, BASE)
    assert [e.url for e in entries] == [
        "http://example.org/news/ferry-timetable",
        "http://example.org/news/relative-story",
        "http://example.org/news/guid-story",
    ]
    first = entries[0]
    assert first.title == "Ferry timetable changes & new routes"
    assert first.published == "2026-11-24T09:00:00+00:00"
    assert "winter timetable" in first.summary
    assert entries[1].published is None


def test_atom_entries_resolve_xml_base_and_fall_back_to_updated():
    entries = parse_feed(ATOM, "http://example.org/atom.xml")
    assert [e.url for e in entries] == ["http://example.org/europe/port-strike-ends",
                                        "http://example.org/europe/updated-only"]
    assert entries[0].published == "2026-11-24T00:15:00+00:00"
    assert entries[0].summary == "Dock workers return."
    assert entries[1].published == "2026-11-24T09:00:00+00:00"


def test_relative_links_resolve_against_the_feed_url():
    feed = (b'<rss version="2.0"><channel><item><link>story-7</link></item>'
            b'<item><link>../top/story-8</link></item></channel></rss>')
    assert [e.url for e in parse_feed(feed, "http://example.org/section/feed.xml")] == \
        ["http://example.org/section/story-7", "http://example.org/top/story-8"]


def test_malformed_and_truncated_feeds_keep_what_is_readable():
    truncated = RSS[: RSS.index(b"<item><title>Relative")]
    assert [e.url for e in parse_feed(truncated, BASE)] == \
        ["http://example.org/news/ferry-timetable"]
    unclosed = (b'<rss version="2.0"><channel><item><title>A & B</title><link>'
                b'http://example.org/news/x</link></item>')  # bare '&', no closing tags
    assert [e.url for e in parse_feed(unclosed, BASE)] == ["http://example.org/news/x"]
    for junk in (b"", b"not xml at all", b"\x00\xff\xfe", b"<html><body>hi</body></html>",
                 gzip.compress(b"garbage")):
        assert parse_feed(junk, BASE) == []


def test_gzip_feed_is_read():
    assert len(parse_feed(gzip.compress(RSS), BASE)) == 3


BILLION_LAUGHS_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
               for i in range(1, 10))
    + b"]>")


def test_billion_laughs_is_not_expanded():
    feed = BILLION_LAUGHS_DTD + (b'<rss version="2.0"><channel><item><title>&lol9;</title>'
                                 b"<link>http://example.org/news/lol</link></item></channel></rss>")
    entries = parse_feed(feed, BASE)
    assert "lollol" not in repr(entries)
    sitemap = BILLION_LAUGHS_DTD + (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                    b"<url><loc>http://example.org/&lol9;</loc></url></urlset>")
    assert "lollol" not in repr(parse_sitemap(sitemap, BASE))


def test_external_entities_are_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    dtd = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY file SYSTEM "file://{secret}">'
           f'<!ENTITY passwd SYSTEM "file:///etc/passwd">'
           f'<!ENTITY net SYSTEM "http://127.0.0.1:{port}/x">'
           f'<!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/dtd"> %remote;]>').encode()
    feed = dtd + (b'<rss version="2.0"><channel><item><title>&file;&passwd;&net;</title>'
                  b"<description>&file;</description>"
                  b"<link>http://example.org/news/xxe</link></item></channel></rss>")
    sitemap = dtd + (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
                     b"<loc>http://example.org/&file;&passwd;</loc></url></urlset>")
    out = repr(parse_feed(feed, BASE)) + repr(parse_sitemap(sitemap, BASE))
    out += repr(parse_feed(gzip.compress(feed), BASE))
    assert "TOP-SECRET-MARKER" not in out
    assert "root:" not in out
    try:
        conn, _ = listener.accept()
        conn.close()
        raise AssertionError("the parser opened a network connection")
    except BlockingIOError:
        pass
    finally:
        listener.close()


def test_oversized_author_does_not_stall_the_parser():
    # feedparser's author regex is quadratic: 31 KB of letters took 6.8 s before the cap.
    for filler in ("a" * 31_000, "a." * 100_000, "-" * 300_000):
        feed = (f'<rss version="2.0"><channel><item><title>t</title>'
                f"<link>http://example.org/news/a</link><author>{filler}</author>"
                f"</item></channel></rss>").encode()
        entries = parse_feed(feed, BASE)
        assert [e.url for e in entries] == ["http://example.org/news/a"]


def test_oversized_input_is_refused(monkeypatch):
    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", len(RSS) - 1)
    assert parse_feed(RSS, BASE) == []
    monkeypatch.setattr(feeds, "MAX_SITEMAP_BYTES", 1000)
    big = gzip.compress(b"<urlset>" + b" " * 5000 + b"</urlset>")
    assert len(big) < 1000
    assert parse_sitemap(big, BASE) == feeds.Sitemap()


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>http://example.org/news/harbour-fire</loc><lastmod>2026-11-24T11:00:00+01:00</lastmod>
 <news:news><news:publication><news:name>Harbour Gazette</news:name>
 <news:language>en</news:language></news:publication>
 <news:publication_date>2026-11-24T09:45:00Z</news:publication_date>
 <news:title>Fire at the harbour warehouse</news:title></news:news></url>
<url><loc>/news/plain-entry</loc><lastmod>2026-11-20</lastmod></url>
<url><loc>mailto:editor@example.org</loc></url>
</urlset>"""


def test_news_sitemap_gives_titles_and_dates():
    sitemap = parse_sitemap(NEWS_SITEMAP, "http://example.org/sitemap-news.xml")
    assert sitemap.sitemaps == []
    assert sitemap.urls == [
        feeds.SitemapEntry("http://example.org/news/harbour-fire", "2026-11-24T10:00:00+00:00",
                           "Fire at the harbour warehouse", "2026-11-24T09:45:00+00:00"),
        feeds.SitemapEntry("http://example.org/news/plain-entry", "2026-11-20T00:00:00+00:00",
                           None, None),
    ]


def test_gzip_sitemap_is_unpacked():
    sitemap = parse_sitemap(gzip.compress(NEWS_SITEMAP), "http://example.org/sitemap.xml.gz")
    assert [u.url for u in sitemap.urls] == ["http://example.org/news/harbour-fire",
                                             "http://example.org/news/plain-entry"]


def test_sitemap_index_lists_child_sitemaps():
    index = b"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://example.org/sitemap-2026-11.xml</loc><lastmod>2026-11-24</lastmod></sitemap>
<sitemap><loc>sitemap-news.xml.gz</loc></sitemap>
</sitemapindex>"""
    sitemap = parse_sitemap(index, "http://example.org/sitemap.xml")
    assert sitemap.urls == []
    assert sitemap.sitemaps == ["http://example.org/sitemap-2026-11.xml",
                                "http://example.org/sitemap-news.xml.gz"]


def test_extract_links_absolute_deduplicated_in_order():
    page = """<html><head><base href="/section/"></head><body>
    <a href="story-1">One</a><a href="story-1#comments">One again</a>
    <a href="http://example.org/other/story-2">Two</a><a href="mailto:x@example.org">m</a>
    <a href="javascript:void(0)">js</a><a>no href</a><a href="http://[broken/">bad</a>
    <a href=" //cdn.example.net/story-3 ">Three</a></body></html>"""
    assert extract_links(page, "http://example.org/index.html") == [
        "http://example.org/section/story-1",
        "http://example.org/other/story-2",
        "http://cdn.example.net/story-3",
    ]
    as_bytes = page.encode("utf-8")
    assert extract_links(as_bytes, "http://example.org/") == \
        extract_links(page, "http://example.org/")
    declared = '<?xml version="1.0" encoding="utf-8"?><html><body><a href="/é">e</a></body></html>'
    assert extract_links(declared, "http://example.org/") == ["http://example.org/é"]
    for junk in ("", b"", b"\x00\xff", None, "<<<>>>"):
        assert extract_links(junk, "http://example.org/") == []


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [RSS, ATOM, NEWS_SITEMAP, BILLION_LAUGHS_DTD + b"<rss><channel><item>&lol3;</item>"]


@PROPERTY
@given(st.one_of(st.binary(max_size=500),
                 st.builds(lambda seed, cut, junk: seed[:cut] + junk + seed[cut:],
                           st.sampled_from(SEEDS), st.integers(0, 2000),
                           st.sampled_from([b"<", b"&", b"]]>", b"\x00", b"<![CDATA[",
                                            b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
                                            b"&e;", b"\xff"]))))
def test_parsers_never_raise_on_arbitrary_bytes(data):
    for result in (parse_feed(data, BASE), parse_sitemap(data, BASE).urls,
                   parse_sitemap(data, BASE).sitemaps, extract_links(data, BASE)):
        assert isinstance(result, list)
    assert "root:" not in repr(parse_feed(data, BASE))
