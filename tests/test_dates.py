"""Which date is the article's: the node of the page's own article, not an embedded video's
(issue 17 item 2), and among sources that agree on the day the most precise one (item 3).
Fixture pages are invented prose in real-world page shapes."""

from __future__ import annotations

import json

from newswatch.extract import extract_article

URL = "https://harbour.example/news/2024/ferry-returns"

_PROSE = [
    "The ferry across Lake Orvel resumed service on Monday after a three-week repair of its hull.",
    "Harbour staff said the vessel now carries forty cars, eight more than before the refit.",
    "Commuters from the eastern shore had driven two hours around the lake while it was docked.",
    "The operator plans a second evening crossing once the summer timetable begins in June.",
    "A spokeswoman for the operator said tickets bought for the cancelled crossings stay valid.",
]


def _page(jsonld=None, head: str = "", body_top: str = "") -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(j)}</script>'
                      for j in ([jsonld] if isinstance(jsonld, dict) else jsonld or []))
    pars = "".join(f"<p>{p} {p}</p>" for p in _PROSE)
    return (f"<html><head><title>Ferry returns to Lake Orvel</title>{head}{scripts}</head>"
            f"<body><article><h1>Ferry returns to Lake Orvel</h1>{body_top}{pars}"
            f"</article></body></html>")


_VIDEO = {"@type": "VideoObject", "name": "The ferry's first crossing (archive)",
          "uploadDate": "2022-03-14T09:00:00+00:00", "datePublished": "2022-03-14T09:00:00+00:00",
          "thumbnailUrl": "https://harbour.example/v.jpg"}

# --- item 2: the article's node, not the embedded video's ----------------------------------


def test_an_embedded_videos_upload_date_does_not_beat_the_articles_meta_date():
    page = _page({"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Harbour News"}, _VIDEO,
        {"@type": "NewsArticle", "headline": "Ferry returns to Lake Orvel",
         "mainEntityOfPage": URL}]},
        head='<meta property="article:published_time" content="2024-05-02T07:23:00+02:00">')
    art = extract_article(page, URL)
    assert (art.published, art.date_source) == ("2024-05-02T05:23:00+00:00", "meta")


def test_the_node_whose_main_entity_of_page_is_the_page_gives_the_date():
    page = _page({"@context": "https://schema.org", "@graph": [
        _VIDEO,
        {"@type": "CreativeWork", "headline": "Ferry returns to Lake Orvel",
         "mainEntityOfPage": {"@type": "WebPage", "@id": URL + "/"},
         "datePublished": "2024-05-02T05:23:00Z"}]})
    art = extract_article(page, URL)
    assert art.published == "2024-05-02T05:23:00+00:00"


def test_an_article_type_given_as_a_full_iri_or_in_a_list_is_recognised():
    for typ in ("https://schema.org/ReportageNewsArticle", ["Thing", "AnalysisNewsArticle"]):
        page = _page([_VIDEO, {"@context": "https://schema.org", "@type": typ,
                               "headline": "Ferry returns to Lake Orvel",
                               "datePublished": "2024-05-02T05:23:00Z"}])
        art = extract_article(page, URL)
        assert art.published == "2024-05-02T05:23:00+00:00", typ


def test_a_video_page_still_gets_its_videos_date():
    video = dict(_VIDEO, mainEntityOfPage=URL)
    art = extract_article(_page(video), URL)
    assert art.published == "2022-03-14T09:00:00+00:00"


# --- item 3: among sources that agree on the day, the most precise ----------------------------


def test_an_exact_feed_time_beats_a_date_only_guess_from_the_page_text():
    page = _page(body_top='<p class="dateline">Published 2 May 2024</p>')
    art = extract_article(page, URL, feed_published="Thu, 02 May 2024 05:23:00 GMT")
    assert (art.published, art.date_source) == ("2024-05-02T05:23:00+00:00", "feed")


def test_an_exact_meta_time_beats_a_date_only_jsonld_date_of_the_same_day():
    page = _page({"@context": "https://schema.org", "@type": "NewsArticle",
                  "headline": "Ferry returns to Lake Orvel", "datePublished": "2024-05-02"},
                 head='<meta property="article:published_time" content="2024-05-02T07:23:00+02:00">')
    art = extract_article(page, URL, outlet_timezone="Europe/Berlin")
    assert (art.published, art.date_source) == ("2024-05-02T05:23:00+00:00", "meta")


def test_a_precise_source_of_another_day_does_not_replace_the_pages_date():
    page = _page({"@context": "https://schema.org", "@type": "NewsArticle",
                  "headline": "Ferry returns to Lake Orvel", "datePublished": "2024-05-02"})
    art = extract_article(page, URL, feed_published="2024-05-09T05:23:00Z")
    assert (art.published[:10], art.date_source) == ("2024-05-02", "jsonld")
