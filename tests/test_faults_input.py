"""Hostile input that is not a web page (issue 7): a broken config file stops everything
before anything starts, and the pure parsers never raise whatever they are fed.

Emails built from hostile article text (CR/LF, NUL, bidi controls, long words, <script>,
javascript: links) are covered by tests/test_mail.py; the query compiler's property test by
tests/test_query.py.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from hostile_server import HostileServer, Reply, rss
from newswatch import dedup, feeds, urls
from newswatch.config import CONFIG_KEYS, load_config
from newswatch.errors import ConfigError

# ------------------------------------------------------------------ config, via the CLI

GOOD_OUTLET = """
[[outlets]]
id = "herald"
feeds = ["{base}/feed.xml"]
article_urls = '/a/'
allow_private = true
"""

BAD_CONFIGS = {
    # name: (snippet appended after a good outlet, the key on the bad line, message part)
    "wrong type": ('[crawl]\ndownload_timeout = "30s"\n', "download_timeout",
                   "must be a number"),
    "typo": ('[defaults]\nshedule = "*/5 * * * *"\n', "shedule", "did you mean 'schedule'?"),
    "backtracking regex": ("[[outlets]]\nid = \"b\"\nfeeds = [\"{base}/feed.xml\"]\n"
                           "article_urls = '^(a+)+\\1$'\n", "article_urls", "RE2"),
    "lookahead regex": ("[[outlets]]\nid = \"b\"\nfeeds = [\"{base}/feed.xml\"]\n"
                        "article_urls = '^(?!.*video).*$'\n", "article_urls", "RE2"),
    "invalid cron": ('[defaults]\nschedule = "*/15 * * *"\n', "schedule", "crontab"),
    "unbalanced quote": ('[[watches]]\nname = "w"\nquery = \'Lavrov AND "North Korea\'\n',
                         "query", "bad query"),
    "unbalanced parentheses": ('[[watches]]\nname = "w"\nquery = "(Lavrov OR Kim"\n',
                               "query", "bad query"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=list(BAD_CONFIGS))
def test_bad_config_stops_everything_before_it_starts(tmp_path, case):
    server = HostileServer()
    server.route("/feed.xml", Reply(200, rss(server.base, ["/a/one"])))
    try:
        snippet, key, fragment = BAD_CONFIGS[case]
        text = ('database = "newswatch.db"\n[mail]\nfrom = "nw@example.org"\n'
                'to = ["desk@example.org"]\n' + GOOD_OUTLET.format(base=server.base)
                + snippet.format(base=server.base))
        line = 1 + max(i for i, ln in enumerate(text.splitlines())
                       if ln.startswith(f"{key} ="))
        path = tmp_path / "newswatch.toml"
        path.write_text(text, encoding="utf-8")
        for command in (["crawl"], ["run"], ["check"]):
            result = subprocess.run(
                [sys.executable, "-m", "newswatch", "--config", str(path), *command],
                capture_output=True, text=True, timeout=60, cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert result.returncode == 2, (command, result.stderr)
            assert result.stderr.startswith(f"config error: {path}:{line}: "), result.stderr
            assert fragment in result.stderr, result.stderr
        assert not (tmp_path / "newswatch.db").exists()  # nothing started
        assert dict(server.hits) == {}
    finally:
        server.stop()


LEAF_KEYS = [(section, key) for section, keys in CONFIG_KEYS.items() for key in keys
             if not (section == "" and key in CONFIG_KEYS)]  # a section, not a leaf


@pytest.mark.parametrize("section,key", LEAF_KEYS, ids=[f"{s or 'top'}.{k}" for s, k in LEAF_KEYS])
def test_every_key_with_a_wrong_type_names_its_line(tmp_path, section, key):
    """No key accepts an inline table; each says so at its own line."""
    base = {
        "": "", "mail": "[mail]\n", "defaults": "[defaults]\n", "crawl": "[crawl]\n",
        "threads": "[threads]\n", "web": "[web]\n", "cluster": "[cluster]\n",
        "aliases": '[[aliases]]\nname = "Kim"\n',
        "outlets": '[[outlets]]\nid = "mt"\nfeeds = ["https://example.org/rss"]\n',
        "watches": '[mail]\nfrom = "nw@example.org"\nto = ["d@example.org"]\n'
                   '[[watches]]\nname = "w"\nquery = "Lavrov"\n',
    }[section]
    lines = [ln for ln in base.splitlines() if not ln.startswith(f"{key} =")]
    lines.append(f"{key} = {{ oops = 1 }}")
    path = tmp_path / "newswatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == len(lines), info.value.message()
    assert key in info.value.message()


# ---------------------------------------------------------------- pure parsers, fuzzed

PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
URLISH = st.one_of(
    st.text(max_size=80),
    st.builds(lambda scheme, host, path, query, frag: f"{scheme}://{host}/{path}?{query}#{frag}",
              st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
              st.sampled_from(["example.org", "WWW.Example.org:443", "[::1]:8080", "xn--e1a",
                               "пример.рф", "a..b", "127.0.0.1:99999", ""]),
              st.text(max_size=30), st.text(max_size=30), st.text(max_size=10)),
)


@PROPERTY
@given(URLISH)
def test_canonical_url_is_idempotent_and_never_raises(url):
    once = urls.canonical_url(url)
    assert isinstance(once, str)
    assert urls.canonical_url(once) == once


FEED_SEEDS = [
    rss("http://example.org", ["/a/1", "/a/2"]),
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>'
    b'<link href="http://example.org/a/3"/><updated>2026-11-24T10:00:00Z</updated></entry></feed>',
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
    b"<loc>http://example.org/a/4</loc><lastmod>2026-11-24</lastmod></url></urlset>",
    b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<sitemap><loc>http://example.org/s.xml</loc></sitemap></sitemapindex>",
]


@st.composite
def mutated_xml(draw):
    data = bytearray(draw(st.sampled_from(FEED_SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "cut":
            del data[pos:]
        elif op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(
                [b"<", b"&", b"&lol;", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
                 b"\x00", b"\xff\xfe", b"]]>", b"<![CDATA[", b"</channel>", b"\xe2\x80\xae"]))
        elif op == "dup":
            data[pos:pos] = data[pos:pos + 200]
    if draw(st.booleans()) and draw(st.booleans()):
        return gzip.compress(bytes(data))
    return bytes(data)


@PROPERTY
@given(st.one_of(mutated_xml(), st.binary(max_size=300)))
def test_parse_feed_and_parse_sitemap_never_raise(data):
    entries = feeds.parse_feed(data, "http://example.org/feed.xml")
    assert all(isinstance(e.url, str) for e in entries)
    sitemap = feeds.parse_sitemap(data, "http://example.org/sitemap.xml")
    assert all(isinstance(u, str) for u in sitemap.sitemaps)
    assert "root:" not in repr(entries) + repr(sitemap)


@PROPERTY
@given(st.text(max_size=400), st.sampled_from([" ", "\n", "\t", "  \n "]))
def test_content_hash_is_stable(text, space):
    first = dedup.content_hash(text)
    assert dedup.content_hash(text) == first
    assert isinstance(first, str) and first
    # The same words laid out differently are the same content.
    words = text.split()
    assert dedup.content_hash(space.join(words)) == dedup.content_hash(" ".join(words))
