"""Builds the golden pages (fixture prose written for newswatch, in real-world page shapes).

    python tests/golden/build.py   # rewrites *.html.gz and expected.json

The pages are committed; this script documents how they were made. Expected values are
what a reader of each page would say: title, publication day, and snippets that must (or
must not) be in the stored text.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

P = {
    "harbour": [
        "The harbour authority of Velmora confirmed on Tuesday that the northern breakwater will be rebuilt over the next three winters, after storm surges opened two gaps in the stone wall last year.",
        "Engineers told the council that the old wall, finished in 1911, had settled unevenly and that patching it again would only buy a few seasons before the next breach.",
        "Fishing crews welcomed the decision but asked for the work to pause during the herring run, when the inner basin is crowded with boats unloading before dawn.",
        "The authority said the first phase would cost about 41 million and would be paid partly from a regional resilience fund set up after the floods of 2021.",
        "Residents of the lower town, whose streets flooded twice last winter, will be invited to a public meeting at the maritime school on the fourteenth of next month.",
    ],
    "orchard": [
        "Apple growers in the Tarn valley expect their smallest harvest in a decade after a late frost in April killed most of the blossom on the lower slopes.",
        "Cooperative managers said yields could fall by half, and several family farms have asked the regional bank to delay loan repayments until the spring.",
        "The frost arrived on a clear night after a week of unusually warm weather had pushed the trees into early flower, a pattern agronomists say is becoming more common.",
        "Some growers had installed wind machines that mix warmer air from above into the orchard, and those plots lost far fewer flowers than their neighbours.",
        "The agriculture ministry said it would publish an assessment of the losses before the end of the month and decide then on emergency support.",
    ],
    "library": [
        "The city library in Osterholm will stay open until midnight on weekdays from September, the first library in the country to try late hours on a permanent basis.",
        "Librarians proposed the change after a trial last winter drew students, night-shift workers and parents who could only visit after their children were asleep.",
        "The extra hours will be staffed by four new employees and paid for by closing two small branch offices that lost most of their visitors after the pandemic.",
        "A survey during the trial found that a third of the late visitors had not held a library card before, which the director called the most encouraging result.",
    ],
    "bridge": [
        "Traffic on the Kessel bridge will be limited to one lane in each direction for at least six weeks after inspectors found corrosion in two of its steel hangers.",
        "The roads agency said the bridge was safe for cars but that lorries heavier than twelve tonnes would be diverted through the industrial ring road.",
        "Hauliers warned that the diversion adds forty minutes to journeys between the port and the warehouses east of the river, and asked for night work to shorten the repairs.",
        "The agency has ordered replacement hangers from a mill in the south and expects the first of them to be fitted in early November.",
        "Cyclists and pedestrians can continue to use the footpath on the upstream side, which is carried by a separate frame and was not affected.",
    ],
    "museum": [
        "A museum of rail history will open next spring in the former locomotive sheds at Dunmere, the regional government announced on Friday.",
        "The collection includes eleven steam engines, a royal carriage from 1887 and the signal box that controlled the junction until it was automated in 1979.",
        "Volunteers have spent eight years restoring the engines, and two of them will run on a short stretch of track beside the sheds on summer weekends.",
        "The project cost about nine million, most of it raised from a heritage lottery grant and from the sale of the old goods yard to a housing association.",
        "Organisers hope to attract sixty thousand visitors in the first year, many of them school groups from the surrounding districts.",
    ],
    "water": [
        "Городской водоканал Сосновки объявил, что с понедельника начнёт замену магистральной трубы на улице Лесной, построенной ещё в 1968 году.",
        "По словам главного инженера, за последние два года на этом участке произошло одиннадцать аварий, и ремонт больше не имеет смысла.",
        "Работы продлятся около шести недель, а жителям трёх кварталов на это время подключат временный водопровод по наземным трубам.",
        "Администрация города пообещала, что движение автобусов по улице Лесной сохранится, но остановку у школы перенесут на двести метров.",
    ],
    "ferry": [
        "The island ferry between Haldor and the mainland will run every hour in summer from next year, after the county signed a ten-year contract with a new operator.",
        "The operator will replace the two diesel boats with three battery-electric vessels that charge at both quays during the twelve-minute turnaround.",
        "Islanders had complained for years that the last departure at eight in the evening made it impossible to work late shifts or attend events in town.",
        "The county said fares for residents would stay at the current level, while visitors would pay slightly more during July and August.",
    ],
}

CSS = "<style>body{font-family:serif} .ad{display:block}</style>"


def nav(site):
    return (f'<header class="site-header"><a href="/">{site}</a><nav><ul><li><a href="/news">News</a></li>'
            '<li><a href="/sport">Sport</a></li><li><a href="/culture">Culture</a></li>'
            '<li><a href="/opinion">Opinion</a></li></ul></nav></header>')


def footer(site):
    return (f'<footer><p>Contact the newsroom</p><ul><li><a href="/about">About {site}</a></li>'
            '<li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul></footer>')


def ps(key, sl=slice(None)):
    return "".join(f"<p>{t}</p>" for t in P[key][sl])


def page(site, title_tag, head_extra, body_html, lang="en", charset="utf-8"):
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="{charset}">'
            f'<title>{title_tag}</title>{head_extra}{CSS}</head><body>{nav(site)}'
            f'<main>{body_html}</main>{footer(site)}</body></html>')


def build():
    pages = {}

    # 1. a donation box inside the article body
    body = ('<article><h1>Velmora will rebuild its northern breakwater</h1>'
            '<div class="byline">By Ines Korver</div><time datetime="2025-03-11T09:30:00Z">11 March 2025</time>'
            '<div class="article-body">' + ps("harbour", slice(0, 3)) +
            '<aside class="donate-box"><h3>Before you go</h3><p>Independent local reporting costs money. '
            'If you value this story, please donate to the Velmora Tribune today and support our newsroom.</p>'
            '<a class="button" href="/donate">Donate now</a></aside>' + ps("harbour", slice(3, None)) +
            '</div></article>')
    head = ('<meta property="og:title" content="Velmora will rebuild its northern breakwater | Velmora Tribune">'
            '<meta property="og:site_name" content="Velmora Tribune">'
            '<meta property="article:published_time" content="2025-03-11T09:30:00+00:00">')
    pages["donation"] = (page("Velmora Tribune", "Velmora will rebuild its northern breakwater | Velmora Tribune", head, body),
                         "https://tribune.example/news/breakwater",
                         {"title": "Velmora will rebuild its northern breakwater", "date": "2025-03-11",
                          "must_contain": [P["harbour"][0][:60], P["harbour"][4][:60]],
                          "must_not_contain": ["please donate", "Donate now"]})

    # 2. a newsletter box
    body = ('<article><h1>Frost halves the apple harvest in the Tarn valley</h1>'
            '<p class="meta">Published 2 May 2024</p><div class="content">' + ps("orchard", slice(0, 2)) +
            '<div class="newsletter-signup"><p>Sign up for our Morning Field newsletter and get the farming news '
            'delivered to your inbox every weekday.</p><form><input type="email"><button>Subscribe</button></form></div>'
            + ps("orchard", slice(2, None)) + '</div></article>')
    head = ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": "Frost halves the apple harvest in the Tarn valley",
        "datePublished": "2024-05-02T06:15:00+02:00",
        "author": {"@type": "Person", "name": "Marc Aubel"}}) + '</script>')
    pages["newsletter"] = (page("Valley Courier", "Frost halves the apple harvest - Valley Courier", head, body),
                           "https://courier.example/farming/frost",
                           {"title": "Frost halves the apple harvest in the Tarn valley", "date": "2024-05-02",
                            "author": "Marc Aubel",
                            "must_contain": [P["orchard"][2][:60], P["orchard"][4][:60]],
                            "must_not_contain": ["Morning Field newsletter", "delivered to your inbox"]})

    # 3. read-more teasers naming other people
    body = ('<article><h1>Osterholm library to open until midnight</h1><div class="story">' +
            ps("library", slice(0, 2)) +
            '<p><strong>Read more:</strong> <a href="/a1">Councillor Hedda Brunsvik quits over parking plan</a></p>' +
            ps("library", slice(2, 3)) +
            '<p>Read more: <a href="/a2">Coach Tomas Vellinger sacked after cup defeat</a></p>' +
            ps("library", slice(3, None)) +
            '<div class="related"><h3>Related</h3><ul><li><a href="/a3">Pianist Rosa Quell returns to the concert hall</a></li>'
            '<li><a href="/a4">Bishop Anselm Dorn opens the winter market</a></li></ul></div></div></article>')
    head = ('<meta property="og:title" content="Osterholm library to open until midnight">'
            '<meta name="date" content="2023-08-29">')
    pages["readmore"] = (page("Osterholm Post", "Osterholm library to open until midnight | Osterholm Post", head, body),
                         "https://post.example/city/library-hours",
                         {"title": "Osterholm library to open until midnight", "date": "2023-08-29",
                          "must_contain": [P["library"][1][:60], P["library"][3][:60]],
                          "must_not_contain": ["Hedda Brunsvik", "Tomas Vellinger", "Rosa Quell", "Anselm Dorn"]})

    # 4. a body split across several containers
    body = ('<article><h1>Kessel bridge restricted to one lane after corrosion found</h1>'
            '<div class="text-block">' + ps("bridge", slice(0, 2)) + '</div>'
            '<div class="ad"><span>Advertisement</span></div>'
            '<figure><img src="/b.jpg"><figcaption>The bridge seen from the east bank.</figcaption></figure>'
            '<div class="text-block">' + ps("bridge", slice(2, 4)) + '</div>'
            '<div class="embed"><p>Video unavailable</p></div>'
            '<div class="text-block">' + ps("bridge", slice(4, None)) + '</div></article>')
    head = ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@graph": [
            {"@type": "WebSite", "name": "Riverside Herald"},
            {"@type": "NewsArticle", "headline": "Kessel bridge restricted to one lane after corrosion found",
             "datePublished": "2022-10-04T17:45:00Z", "dateModified": "2022-10-05T08:00:00Z"}]}) + '</script>')
    pages["split"] = (page("Riverside Herald", "Kessel bridge restricted | Riverside Herald", head, body),
                      "https://herald.example/traffic/kessel-bridge",
                      {"title": "Kessel bridge restricted to one lane after corrosion found", "date": "2022-10-04",
                       "must_contain": [P["bridge"][0][:60], P["bridge"][2][:60], P["bridge"][4][:60]],
                       "must_not_contain": ["Advertisement", "Video unavailable"]})

    # 5. text only in JSON-LD articleBody (client-rendered page)
    body = ('<div id="app"><h1>Rail museum to open in the Dunmere locomotive sheds</h1>'
            '<p class="teaser">A museum of rail history will open next spring.</p>'
            '<noscript>Please enable JavaScript to read this article.</noscript></div>')
    head = ('<meta property="og:title" content="Rail museum to open in the Dunmere locomotive sheds">'
            '<script type="application/ld+json">' + json.dumps({
                "@context": "https://schema.org", "@type": "NewsArticle",
                "headline": "Rail museum to open in the Dunmere locomotive sheds",
                "datePublished": "2019-06-21T10:00:00+01:00", "dateModified": "2026-01-15T09:00:00+00:00",
                "articleBody": "\n".join(P["museum"])}) + '</script>')
    pages["jsonld"] = (page("Dunmere Gazette", "Rail museum to open - Dunmere Gazette", head, body),
                       "https://gazette.example/culture/rail-museum",
                       {"title": "Rail museum to open in the Dunmere locomotive sheds", "date": "2019-06-21",
                        "must_contain": [P["museum"][1][:60], P["museum"][4][:60]],
                        "must_not_contain": ["enable JavaScript"]})

    # 6. cp1251, charset only in a meta tag
    title = "В Сосновке заменят водопровод на улице Лесной"
    body = (f'<article><h1>{title}</h1><div class="date">14.04.2025</div>'
            '<div class="text">' + ps("water") + '</div>'
            '<p class="subscribe">Подпишитесь на наш канал, чтобы первыми узнавать новости города.</p></article>')
    head = ('<meta name="description" content="Замена трубы продлится шесть недель">'
            '<meta property="article:published_time" content="2025-04-14T08:00:00+03:00">')
    html = page("Сосновские вести", f"{title} — Сосновские вести", head, body, lang="ru",
                charset="windows-1251").replace('<meta charset="windows-1251">',
                                                 '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">')
    pages["cp1251"] = (html.encode("cp1251"), "https://vesti.example/gorod/vodoprovod",
                       {"title": title, "date": "2025-04-14", "language": "ru",
                        "must_contain": [P["water"][0][:50], P["water"][3][:50]],
                        "must_not_contain": ["Подпишитесь", "Сосновские вести"]})

    # 7. published years ago, updated today: an old story
    body = ('<article><h1>Haldor ferry to run every hour in summer</h1>'
            '<p class="dateline">Updated 20 November 2026</p><div class="body">' + ps("ferry") +
            '<p>Follow us on social media for the latest island news and share this story with a friend.</p></div></article>')
    head = ('<meta property="og:title" content="Haldor ferry to run every hour in summer – Island Voice">'
            '<meta property="og:site_name" content="Island Voice">'
            '<meta property="article:published_time" content="2018-07-03T12:00:00+00:00">'
            '<meta property="article:modified_time" content="2026-11-20T07:00:00+00:00">')
    pages["updated"] = (page("Island Voice", "Haldor ferry to run every hour in summer – Island Voice", head, body),
                        "https://islandvoice.example/2018/ferry",
                        {"title": "Haldor ferry to run every hour in summer", "date": "2018-07-03",
                         "must_contain": [P["ferry"][0][:60], P["ferry"][3][:60]],
                         "must_not_contain": ["Follow us on social media", "Updated 20 November"]})

    expected = {}
    for name, (html, url, exp) in pages.items():
        data = html if isinstance(html, bytes) else html.encode("utf-8")
        (HERE / f"{name}.html.gz").write_bytes(gzip.compress(data, mtime=0))
        expected[f"{name}.html.gz"] = {"url": url, **exp}
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                        encoding="utf-8")


if __name__ == "__main__":
    build()
