"""URL identity: the variants one article is reached by collapse to one canonical URL, and
different articles keep different URLs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch.urls import canonical_url, choose_canonical, same_site

ARTICLE = "https://www.example.org/world/2026/11/24/minister-visits-port"


@pytest.mark.parametrize("variant", [
    ARTICLE,
    "HTTPS://WWW.EXAMPLE.ORG/world/2026/11/24/minister-visits-port",
    "https://www.example.org:443/world/2026/11/24/minister-visits-port",
    "https://www.example.org/world/2026/11/24/minister-visits-port#comments",
    "https://www.example.org/world/2026/11/24/minister-visits-port?utm_source=rss&utm_medium=feed",
    "https://www.example.org/world/2026/11/24/minister-visits-port?fbclid=IwAR0abc",
    "https://www.example.org/world/2026/11/24/minister-visits-port?gclid=x&dclid=y&msclkid=z",
    "https://www.example.org/world/2026/11/24/minister-visits-port?mc_cid=1&mc_eid=2&igshid=3",
    "https://www.example.org/world/2026/11/24/minister-visits-port?_ga=2.1&yclid=4&ref_src=tw",
    "https://www.example.org/world/2026/11/24/minister-visits-port?CMP=share_btn_tw&ocid=msn",
    "https://www.example.org/world/2026/11/24/minister-visits-port?at_medium=RSS&at_campaign=x",
    "https://www.example.org/amp/world/2026/11/24/minister-visits-port",
    "https://www.example.org/world/2026/11/24/minister-visits-port/amp",
    "https://www.example.org/world/2026/11/24/minister-visits-port.amp",
    "https://www.example.org/world/2026/11/24/minister-visits-port?amp=1",
    "https://www.example.org/world/2026/11/24/minister-visits-port?amp",
    "https://www.example.org/world/2026/11/24/minister-visits-port?outputType=amp",
    "https://amp.example.org/world/2026/11/24/minister-visits-port",
    "https://m.example.org/world/2026/11/24/minister-visits-port",
    "https://mobile.example.org/world/2026/11/24/minister-visits-port?utm_campaign=x#top",
    "  https://www.example.org/world/2026/11/24//minister-visits-port\n",
    "https://www.example.org/world/2026/11/24/../24/minister-visits-port",
])
def test_variants_of_one_article_collapse(variant):
    assert canonical_url(variant) == ARTICLE


def test_remaining_query_is_sorted_and_kept():
    assert canonical_url("http://example.org/story?b=2&utm_term=x&a=1") == \
        "http://example.org/story?a=1&b=2"
    # Parameters that name an article stay, in their given form (courlan would drop these).
    assert canonical_url("http://example.org/view?gallery=3&source=wire&ref=rss") == \
        "http://example.org/view?gallery=3&ref=rss&source=wire"
    assert canonical_url("http://example.org/article.php?12345") == \
        "http://example.org/article.php?12345"
    # Repeated names keep their order (it can matter); different ids stay different URLs.
    assert canonical_url("http://example.org/a?id=2&id=1") == "http://example.org/a?id=2&id=1"
    assert canonical_url("http://example.org/a?id=1") != canonical_url("http://example.org/a?id=2")


def test_path_details():
    assert canonical_url("http://Example.org") == "http://example.org/"
    assert canonical_url("http://example.org:8080/a") == "http://example.org:8080/a"
    assert canonical_url("http://example.org:80/a") == "http://example.org/a"
    # Trailing slash and index.html are the publisher's path: kept.
    assert canonical_url("http://example.org/news/") == "http://example.org/news/"
    assert canonical_url("http://example.org/x/index.html") == "http://example.org/x/index.html"
    # Percent-encoding made uniform.
    assert canonical_url("http://example.org/caf%c3%a9/%7Euser") == \
        "http://example.org/caf%C3%A9/~user"
    assert canonical_url("http://example.org/café") == "http://example.org/caf%C3%A9"
    # Double-escaped ampersands from feeds.
    assert canonical_url("http://example.org/a?x=1&amp;y=2") == "http://example.org/a?x=1&y=2"
    # AMP host on a two-label domain, IPs and bare hosts are not rewritten.
    assert canonical_url("http://m.com/a") == "http://m.com/a"
    assert canonical_url("http://127.0.0.1:8001/a/1") == "http://127.0.0.1:8001/a/1"


@pytest.mark.parametrize("junk", ["", "   ", "not a url", "mailto:x@example.org",
                                  "http://example.org:99999/", "http://[::1/",
                                  "javascript:alert(1)", "ftp://example.org/a"])
def test_junk_is_returned_stripped(junk):
    assert canonical_url(junk) == junk.strip()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=100),
    st.builds(lambda scheme, host, rest: f"{scheme}://{host}{rest}",
              st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
              st.sampled_from(["example.org", "M.Example.org:443", "amp.m.example.org",
                               "[::1]:80", "user@x.org", "x.org.", "127.0.0.1:99999", ""]),
              st.lists(st.sampled_from(
                  ["/", "amp", ".amp", "..", "//", "?", "&", "&amp;", "=", "#", "%", "%41",
                   "%2f", "utm_x=1", "a", "é", " ", "\n", "index.html", "+"]),
                  max_size=20).map("".join)),
))
def test_canonical_url_is_idempotent_and_never_raises(url):
    once = canonical_url(url)
    assert isinstance(once, str)
    assert canonical_url(once) == once


def test_same_site():
    hosts = {"www.example.org"}
    assert same_site("https://example.org/a", hosts)
    assert same_site("http://m.example.org/a", hosts)
    assert same_site("https://news.example.org/a", hosts)
    assert not same_site("https://badexample.org/a", hosts)
    assert not same_site("https://example.org.evil.net/a", hosts)
    assert not same_site("ftp://example.org/a", hosts)
    assert not same_site("not a url", hosts)
    assert not same_site("https://example.org/a", set())
    # A configured port must match: two outlets can share 127.0.0.1.
    assert same_site("http://127.0.0.1:8001/a", {"127.0.0.1:8001"})
    assert not same_site("http://127.0.0.1:8002/a", {"127.0.0.1:8001"})
    assert not same_site("http://127.0.0.1/a", {"127.0.0.1:8001"})
    # A host without a port accepts any (the scope middleware checks ports itself).
    assert same_site("http://127.0.0.1:8002/a", {"127.0.0.1"})
    # IP addresses have no subdomains.
    assert not same_site("http://1.127.0.0.1/a", {"127.0.0.1"})


def test_choose_canonical_prefers_the_pages_own_url_on_site():
    hosts = {"www.example.org"}
    fetched = "https://m.example.org/story-123?utm_source=x"
    assert choose_canonical(fetched, "https://www.example.org/world/story-123", hosts) == \
        "https://www.example.org/world/story-123"
    # Relative canonical links resolve against the fetched URL.
    assert choose_canonical("https://www.example.org/a/b", "/world/b?fbclid=1", hosts) == \
        "https://www.example.org/world/b"
    # Off-site canonical (a syndication partner's page) does not rename the article.
    assert choose_canonical(fetched, "https://wire.example.net/story", hosts) == \
        "https://www.example.org/story-123"
    # Missing, junk or home-page canonical: the fetched URL.
    assert choose_canonical(fetched, None, hosts) == "https://www.example.org/story-123"
    assert choose_canonical(fetched, "javascript:void(0)", hosts) == \
        "https://www.example.org/story-123"
    assert choose_canonical(fetched, "https://www.example.org/", hosts) == \
        "https://www.example.org/story-123"
    assert choose_canonical("http://127.0.0.1:8001/a/1", "http://127.0.0.1:8002/a/1",
                            {"127.0.0.1:8001"}) == "http://127.0.0.1:8001/a/1"


@pytest.mark.parametrize("variant", [
    "https://münchen.de/rathaus/2026/neuer-platz",
    "https://xn--mnchen-3ya.de/rathaus/2026/neuer-platz",
    "https://XN--MNCHEN-3YA.DE/rathaus/2026/neuer-platz",
    "https://MÜNCHEN.de./rathaus/2026/neuer-platz",
    "https://m.münchen.de/rathaus/2026/neuer-platz",
])
def test_internationalised_host_is_one_host(variant):
    assert canonical_url(variant) in ("https://xn--mnchen-3ya.de/rathaus/2026/neuer-platz",
                                      "https://www.xn--mnchen-3ya.de/rathaus/2026/neuer-platz")
    assert canonical_url(variant).replace("://www.", "://") == \
        canonical_url("https://münchen.de/rathaus/2026/neuer-platz")


def test_internationalised_host_is_on_its_site():
    assert same_site("https://xn--mnchen-3ya.de/a", {"münchen.de"})
    assert same_site("https://www.münchen.de/a", {"xn--mnchen-3ya.de"})
    assert not same_site("https://xn--mnchen-3ya.de.evil.net/a", {"münchen.de"})
    # A host idna refuses (an underscore label) is still compared as written.
    assert same_site("http://my_host.example.org/a", {"example.org"})
    assert canonical_url("http://My_Host.example.org/a") == "http://my_host.example.org/a"


@pytest.mark.parametrize("query", [
    "itm_source=homepage&itm_medium=sitebranding&itm_campaign=x",  # internal promotion
    "srsltid=AfmBOoq1",                                            # Google search result id
    "wt_mc=tw.share&wt_zmc=x",                                     # Webtrekk / Mapp
    "__twitter_impression=true&ito=792",                           # Echobox social shares
    "utm_source=dlvr.it&utm_medium=twitter",
    "ga_source=x&gs_l=y&mkt_tok=z",
    "clickid=5&gbraid=6&wbraid=7",
    "WT.mc_id=rss&ICID=ref_fark",
    "campaign=spring&_hsenc=p2&__hssc=1&__hstc=2&hsCtaTracking=3",
    "oly_anon_id=1&oly_enc_id=2&vero_id=3&rb_clickid=4",
])
def test_trackers_from_the_maintained_lists_are_removed(query):
    assert canonical_url(f"{ARTICLE}?{query}") == ARTICLE


@pytest.mark.parametrize("url", [
    "https://www.example.org/index.php?id=77",
    "https://www.example.org/?p=4121",
    "https://www.facebook.com/permalink.php?id=100&story_fbid=12345",
    "https://www.example.org/article.php?12345",
    "https://www.example.org/news.php?cid=88",
    "https://www.example.org/view?gallery=3",
    "https://www.example.org/show?uid=5",
    "https://www.example.org/index.php?id=77&option=com_content&view=article",  # Joomla
])
def test_parameters_that_name_an_article_are_kept(url):
    assert canonical_url(url) == url
    assert canonical_url(url + "&utm_source=x" if "?" in url else url) == url
