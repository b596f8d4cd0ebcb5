"""Discovery parsing: feeds, sitemaps and listing pages give absolute article URLs, and
hostile documents give nothing dangerous (no file or network read, no expansion, no hang)."""

from __future__ import annotations

import gzip
import socket

import pytest

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


# ------------------------------------------------------------ entities and encodings
# Real feeds use HTML entities XML does not declare, raw '&' in links, and legacy encodings
# without a declaration; each must come out as a browser (or feedparser alone) reads it.

def _item_feed(items: str, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (f'{prolog}\n<rss version="2.0"><channel><title>Valley Courier</title>'
            f"{items}</channel></rss>").encode("utf-8")


def test_undeclared_entity_keeps_every_later_ampersand():
    feed = _item_feed(
        "<item><title>Bridge&nbsp;closed</title>"
        "<link>http://example.org/article.php?id=5&amp;cat=2</link></item>"
        "<item><title>Council vote</title>"
        "<link>http://example.org/index.php?option=com_content&amp;view=article&amp;id=77</link>"
        "</item>")
    entries = parse_feed(feed, BASE)
    assert [e.url for e in entries] == [
        "http://example.org/article.php?id=5&cat=2",
        "http://example.org/index.php?option=com_content&view=article&id=77"]
    assert entries[0].title == "Bridge\u00a0closed"


def test_raw_ampersands_in_links_are_kept():
    feed = _item_feed(
        "<item><title>Joomla</title>"
        "<link>http://example.org/index.php?option=com_content&view=article&id=77</link></item>"
        "<item><title>Loose</title><link>http://example.org/list?a=1&b=2&c</link></item>")
    assert [e.url for e in parse_feed(feed, BASE)] == [
        "http://example.org/index.php?option=com_content&view=article&id=77",
        "http://example.org/list?a=1&b=2&c"]


def test_entity_characters_in_titles_are_kept():
    feed = _item_feed("<item><title>Caf&eacute; owners &amp; the &laquo;night tax&raquo;"
                      " &mdash; &unknownname; stays</title>"
                      "<link>http://example.org/news/cafe</link></item>")
    [entry] = parse_feed(feed, BASE)
    assert entry.title == "Café owners & the «night tax» — &unknownname; stays"


def test_windows_1252_feed_without_declaration_is_decoded():
    text = ('<rss version="2.0"><channel><title>Courier</title><item>'
            "<title>Crème brûlée – the “best” café in Zürich</title>"
            "<link>http://example.org/news/zurich</link>"
            "<description>Déjà vu… 20 € for a naïve œuvre</description></item></channel></rss>")
    [entry] = parse_feed(text.encode("cp1252"), BASE)
    assert entry.title == "Crème brûlée – the “best” café in Zürich"
    assert entry.summary == "Déjà vu… 20 € for a naïve œuvre"
    cyrillic = ('<rss version="2.0"><channel><item><title>Министр иностранных дел посетил'
                " Пхеньян</title><link>http://example.org/news/ru</link></item></channel></rss>")
    [entry] = parse_feed(cyrillic.encode("cp1251"), BASE)
    assert entry.title == "Министр иностранных дел посетил Пхеньян"


def test_declared_internal_entities_are_expanded_within_a_bound(monkeypatch):
    feed = _item_feed("<item><title>&paper; on &day;</title>"
                      "<link>http://example.org/news/&slug;</link></item>",
                      prolog='<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
                             '  <!ENTITY paper "Valley Courier">\n'
                             "  <!ENTITY day '&#8220;Tuesday&#8221;'>\n"
                             '  <!ENTITY slug "weekly-digest">\n]>')
    [entry] = parse_feed(feed, BASE)
    assert entry.url == "http://example.org/news/weekly-digest"
    assert entry.title == "Valley Courier on &day;"  # not a single character: not expanded
    # One large entity referenced many times (the quadratic blow-up): expansion stops.
    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 100_000)
    bomb = _item_feed("<item><title>" + "&big;" * 2000 + "</title>"
                      "<link>http://example.org/news/bomb</link></item>",
                      prolog=f'<!DOCTYPE rss [<!ENTITY big "{"x" * 10_000}">]>')
    [entry] = parse_feed(bomb, BASE)
    assert entry.url == "http://example.org/news/bomb"
    assert len(bounded := feeds._bounded_feed(bomb)) < 2 * 100_000 + len(bomb)
    assert b"&big;" not in bounded


# Well-formed feeds, one per feature feedparser's own test corpus covers, each with the
# value feedparser must read from it. The pre-pass must not change what they mean.
WELL_FORMED = {
    "rss2_escapes": (b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Ridge &amp; Valley</title><link>http://example.org/</link>
<item><title>Snow &lt;em&gt;again&lt;/em&gt; &#8217;til May &#x2014; maybe</title>
<link>http://example.org/story?id=3&amp;src=rss</link>
<description>&lt;p&gt;Plough crews &lt;b&gt;out&lt;/b&gt; at dawn.&lt;/p&gt;</description>
<guid isPermaLink="false">ridge-3</guid><pubDate>Wed, 02 Dec 2026 06:00:00 GMT</pubDate>
<category domain="http://example.org/cat">Weather</category><comments>http://example.org/c/3</comments>
<enclosure url="http://example.org/a.mp3?x=1&amp;y=2" length="1234" type="audio/mpeg"/>
</item></channel></rss>""", "entries[0]['link'] == 'http://example.org/story?id=3&src=rss'"),
    "rss2_cdata": (b"""<rss version="2.0"><channel><title><![CDATA[Ridge & Valley]]></title>
<item><title><![CDATA[Fish & chips&nbsp;night]]></title><link>http://example.org/fish</link>
<description><![CDATA[<p>Raw & bold: <b>fish</b>&nbsp;&amp; chips &eacute;</p>]]></description>
</item></channel></rss>""", "entries[0]['title'] == 'Fish & chips&nbsp;night'"),
    "rss2_namespaces": (b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:media="http://search.yahoo.com/mrss/"
 xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Pod</title>
<itunes:author>Mira Holt</itunes:author>
<item><title>Episode 4</title><link>http://example.org/ep4</link>
<dc:creator>Mira Holt (mira@example.org)</dc:creator><dc:date>2026-12-01T10:00:00+01:00</dc:date>
<dc:subject>Rivers</dc:subject><itunes:duration>31:07</itunes:duration>
<content:encoded>&lt;p&gt;Full &lt;a href="/notes?a=1&amp;amp;b=2"&gt;notes&lt;/a&gt;&lt;/p&gt;</content:encoded>
<media:thumbnail url="http://example.org/t.jpg"/><media:content url="http://example.org/v.mp4" medium="video"/>
</item></channel></rss>""", "entries[0]['author'] == 'Mira Holt (mira@example.org)'"),
    "rss091_netscape_dtd": (b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Caf\xe9 Post</title><link>http://example.org/</link>
<description>Daily</description><language>fr</language>
<item><title>Cr\xe8me &amp; caf\xe9</title><link>http://example.org/creme</link></item>
</channel></rss>""", "entries[0]['title'] == 'Cr\\xe8me & caf\\xe9'"),
    "doctype_internal_entities": (b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY paper "Valley Courier">
  <!ENTITY code "VC-7">
  <!ENTITY ndash "&#8211;">
]>
<rss version="2.0"><channel><title>&paper;</title>
<item><title>Notes &ndash; week 7</title><guid isPermaLink="false">&code;</guid>
<link>http://example.org/notes-7</link></item></channel></rss>""",
        "feed['title'] == 'Valley Courier' and entries[0]['guid'] == 'VC-7'"),
    "atom10_xhtml_base": (b"""<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/blog/" xml:lang="en">
<title type="text">Field &lt;notes&gt;</title><id>tag:example.org,2026:blog</id>
<updated>2026-12-01T09:00:00Z</updated>
<author><name>Jon Ferris</name><email>jon@example.org</email><uri>/about</uri></author>
<entry><title type="html">Frost &amp;amp; fog</title><link rel="alternate" href="frost?x=1&amp;y=2"/>
<link rel="enclosure" href="frost.jpg" type="image/jpeg" length="99"/>
<id>tag:example.org,2026:1</id><updated>2026-12-01T08:00:00Z</updated>
<published>2026-11-30T23:00:00-05:00</published>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Thin <a href="map">ice</a> &amp; <em>fog</em>.</p></div></content>
<summary type="text">  Thin ice.  </summary><category term="weather" label="Weather"/></entry>
</feed>""", "entries[0]['link'] == 'http://example.org/blog/frost?x=1&y=2'"),
    "atom03": (b"""<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>
<entry><title type="text/html" mode="escaped">&lt;b&gt;Bold&lt;/b&gt; &#38;amp; more</title>
<link rel="alternate" type="text/html" href="http://example.org/old-1"/>
<issued>2026-11-01T10:00:00Z</issued><modified>2026-11-02T10:00:00Z</modified>
<content type="text/html" mode="base64">PHA+SGk8L3A+</content></entry></feed>""",
        "entries[0]['link'] == 'http://example.org/old-1'"),
    "rdf_rss10": (b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://example.org/"><title>RDF news</title><link>http://example.org/</link></channel>
<item rdf:about="http://example.org/r1"><title>Dam &#8220;safe&#8221;</title><link>http://example.org/r1</link>
<dc:date>2026-12-01T07:00:00Z</dc:date><description>Inspectors agree.</description></item>
</rdf:RDF>""", "entries[0]['title'] == 'Dam \\u201csafe\\u201d'"),
    "utf8_bom": ("\ufeff<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                 "<item><title>Łódź – Kraków</title><link>http://example.org/pl</link></item>"
                 "</channel></rss>").encode("utf-8"),
    "utf16_bom": ('<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel>'
                  "<item><title>Ελληνικά νέα</title><link>http://example.org/gr</link></item>"
                  "</channel></rss>").encode("utf-16"),
    "attributes_whitespace": (b"""<rss version="2.0"><channel>
<item>
  <title>
     Spaced   title
  </title>
  <link>  http://example.org/spaced  </link>
  <source url="http://example.org/src?a=1&amp;b=&quot;2&quot;">Wire &apos;A&apos;</source>
</item></channel></rss>""", "entries[0]['source']['href'] == 'http://example.org/src?a=1&b=\"2\"'"),
}
WELL_FORMED["utf8_bom"] = (WELL_FORMED["utf8_bom"],
                           "entries[0]['title'] == '\\u0141\\xf3d\\u017a \\u2013 Krak\\xf3w'")
WELL_FORMED["utf16_bom"] = (WELL_FORMED["utf16_bom"],
                            "entries[0]['title'] == '\\u0395\\u03bb\\u03bb\\u03b7\\u03bd\\u03b9"
                            "\\u03ba\\u03ac \\u03bd\\u03ad\\u03b1'")


def _meaning(parsed) -> dict:
    """What feedparser read, without the parse's own bookkeeping (bozo, encoding, version,
    which depend on how the bytes were spelled, not on what they say)."""
    return {"feed": parsed["feed"], "entries": parsed["entries"]}


@pytest.mark.parametrize("name", sorted(WELL_FORMED))
def test_pre_pass_does_not_change_a_well_formed_feed(name):
    import feedparser

    data, expect = WELL_FORMED[name]
    headers = {"content-location": BASE}
    plain = feedparser.parse(data, response_headers=headers)
    # Well-formed: no error but the missing Content-Type (parse_feed passes none either).
    assert not plain.bozo or isinstance(plain.bozo_exception, feedparser.NonXMLContentType), \
        plain.get("bozo_exception")
    assert eval(expect, {}, dict(plain))  # the fixture says what it claims to
    bounded = feedparser.parse(feeds._bounded_feed(data), response_headers=headers)
    assert eval(expect, {}, dict(bounded))
    assert _meaning(bounded) == _meaning(plain)
