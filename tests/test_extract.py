"""extract_article on golden pages (fixture prose in real-world page shapes) and on hostile
input. The golden gate fails on any regression of title, date or must(-not)-contain."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from newswatch.extract import Article, extract_article

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_page(name):
    exp = EXPECTED[name]
    raw = gzip.decompress((GOLDEN / name).read_bytes())  # bytes: the page declares its charset
    art = extract_article(raw, exp["url"])
    assert art.ok, art.reason
    assert art.title == exp["title"]
    assert art.published and art.published[:10] == exp["date"], (art.published, art.date_source)
    for snippet in exp["must_contain"]:
        assert snippet in art.text, f"lost: {snippet!r}"
    for snippet in exp["must_not_contain"]:
        assert snippet not in art.text, f"boilerplate kept: {snippet!r}"
    if "author" in exp:
        assert art.author == exp["author"]
    if "language" in exp:
        assert art.language == exp["language"]
    assert art.text == "\n\n".join(art.paragraphs)


def test_old_story_updated_today_keeps_its_publication_date():
    exp = EXPECTED["updated.html.gz"]
    art = extract_article(gzip.decompress((GOLDEN / "updated.html.gz").read_bytes()), exp["url"])
    assert art.published == "2018-07-03T12:00:00+00:00"
    assert art.date_source == "meta"


def test_jsonld_date_wins_and_is_utc():
    exp = EXPECTED["newsletter.html.gz"]
    art = extract_article(gzip.decompress((GOLDEN / "newsletter.html.gz").read_bytes()), exp["url"])
    assert art.published == "2024-05-02T04:15:00+00:00"
    assert art.date_source == "jsonld"


def _plain_page(date_meta: str = "") -> str:
    pars = "".join(
        f"<p>Paragraph {i} of a plain story about the county fair, which drew record crowds "
        f"this year despite rain on the opening weekend and a shortage of parking.</p>"
        for i in range(6))
    return (f"<html><head><title>County fair draws record crowds | Shire Post</title>{date_meta}"
            f"</head><body><article><h1>County fair draws record crowds</h1>{pars}</article></body></html>")


def test_naive_time_is_taken_in_outlet_timezone():
    page = _plain_page('<meta property="article:published_time" content="2025-06-01T01:30:00">')
    art = extract_article(page, "https://post.example/fair", outlet_timezone="Europe/Moscow")
    assert art.published == "2025-05-31T22:30:00+00:00"


def test_feed_and_first_seen_fallbacks_are_recorded():
    page = _plain_page()
    art = extract_article(page, "https://post.example/fair", feed_published="2025-02-03T10:00:00Z")
    assert (art.published, art.date_source) == ("2025-02-03T10:00:00+00:00", "feed")
    art = extract_article(page, "https://post.example/fair", first_seen="2025-02-04T10:00:00+00:00")
    assert art.date_source == "first_seen"
    assert art.title == "County fair draws record crowds"


def test_drop_selectors_remove_blocks():
    page = _plain_page().replace("</article>", '<p class="promo">Buy tickets for the winter gala '
                                 'now, the best night of the season in the county.</p></article>')
    assert "winter gala" in extract_article(page, "https://post.example/fair").text
    art = extract_article(page, "https://post.example/fair", drop=[".promo"])
    assert "winter gala" not in art.text and art.ok


def test_canonical_url_is_reported():
    page = _plain_page('<link rel="canonical" href="/fair-2025">')
    assert extract_article(page, "https://post.example/fair?utm=x").canonical_url == \
        "https://post.example/fair-2025"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    ("", "empty"),
    ("   \n ", "empty"),
    (b"%PDF-1.7\n" + bytes(range(256)) * 40, "not text"),
    (bytes(range(256)) * 200, "not text"),
    ("\x00\x01\x02\ufffd" * 3000, "not text"),
])
def test_non_text_input_is_rejected(data, reason):
    art = extract_article(data, "https://x.example/a")
    assert isinstance(art, Article) and not art.ok
    assert reason in art.reason and art.text == ""


@pytest.mark.parametrize("html", [
    "<div>" * 100_000 + "deep" + "</div>" * 100_000,
    "<html><body><p>unclosed <b><i><table><tr><td>cell",
    "<<<>>>&&&;;;",
    "<?xml version='1.0' encoding='bogus-enc'?><html></html>",
    None,
    12345,
])
def test_hostile_input_never_raises(html):
    art = extract_article(html, "https://x.example/a")
    assert isinstance(art, Article)
    assert art.ok is False or art.text


def test_templates_filter_is_applied():
    class Model:
        def filter(self, paragraphs):
            return [p for p in paragraphs if "Paragraph 3" not in p]
    art = extract_article(_plain_page(), "https://post.example/fair", templates=Model())
    assert "Paragraph 2" in art.text and "Paragraph 3" not in art.text
    assert any("Paragraph 3" in p for p in art.raw_paragraphs)  # still learnable


# --- body rules on invented pages ----------------------------------------------------------

def _tree(html: str):
    from trafilatura.utils import load_html

    return load_html(html)


_LAKE = [
    "The ferry across Lake Orvel resumed service on Monday after a three-week repair of its hull.",
    "Harbour staff said the vessel now carries forty cars, eight more than before the refit.",
    "Commuters from the eastern shore had driven two hours around the lake while it was docked.",
    "The operator plans a second evening crossing once the summer timetable begins in June.",
]


def _blocks(pars, cls="story-text"):
    return "".join(f'<div class="block"><p class="{cls}">{p}</p></div>' for p in pars)


def test_paragraph_between_body_blocks_with_the_same_shape_is_added():
    from newswatch.extract.structure import add_same_shape

    promo = ('<div class="promo"><p class="teaser">Win a weekend for two at the lakeside spa.'
             "</p></div>")
    tree = _tree(f"<html><body><article>{_blocks(_LAKE[:2])}{promo}{_blocks(_LAKE[2:])}"
                 f"</article>{_blocks(['Reader comment: the old timetable was better.'])}"
                 "</body></html>")
    found = [_LAKE[0], _LAKE[1], _LAKE[3]]  # the extractor missed the third paragraph
    out = add_same_shape(tree, found)
    assert out == _LAKE  # put back in its place
    assert not any("spa" in p or "Reader comment" in p for p in out)  # other shape / outside


def test_unstyled_paragraphs_are_not_added_by_shape():
    from newswatch.extract.structure import add_same_shape

    tree = _tree("<html><body>" + "".join(f"<div><p>{p}</p></div>" for p in _LAKE)
                 + "</body></html>")
    assert add_same_shape(tree, [_LAKE[0], _LAKE[1], _LAKE[3]]) == [_LAKE[0], _LAKE[1], _LAKE[3]]


def test_text_inside_a_teaser_card_link_is_dropped():
    from newswatch.extract.structure import drop_link_cards

    summary = "Council votes to extend the cycle lane along the river road by two kilometres."
    card = (f'<a href="/other-story"><img src="t.jpg"><h3>Cycle lane grows</h3>'
            f"<p>{summary}</p></a>")
    anchor_heading = '<a href="#timetable"><h2>What the new timetable means for commuters</h2></a>'
    tree = _tree(f"<html><body><article>{_blocks(_LAKE)}{anchor_heading}</article>{card}"
                 "</body></html>")
    pars = _LAKE + ["What the new timetable means for commuters", summary]
    assert drop_link_cards(tree, pars) == _LAKE + ["What the new timetable means for commuters"]


def test_body_held_only_in_an_inline_script_state_is_found():
    body_html = (
        '<div class="photo-caption"><p>The rebuilt pier at dawn, seen from the ferry deck.</p>'
        "</div>"
        + "".join(f"<p>{p} " + "The harbour master confirmed the figures to reporters. " * 3
                  + "</p>" for p in _LAKE))
    state = json.dumps({"article": {"id": 7, "contentHtml": body_html}})
    page = ("<html><head><title>Ferry returns to Lake Orvel</title></head><body>"
            '<div id="root"></div><script>window.__APP_STATE__ = ' + state + ";</script>"
            "</body></html>")
    art = extract_article(page, "https://lake.example/ferry")
    assert art.ok and art.body_source == "json"
    assert _LAKE[2] in art.text
    assert "rebuilt pier at dawn" not in art.text  # a picture caption is not body text
