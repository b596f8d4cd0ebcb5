"""Pages and feeds of one outlet, rendered from `store.Content` with string.Template
templates from the content folder. Pure functions: content in, text out."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from email.utils import format_datetime
from string import Template
from xml.sax.saxutils import escape as xml_escape

from .. import clock
from .store import Article, Content, Outlet

_MONTHS = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.",
           "Oct.", "Nov.", "Dec."]


def text(s: str) -> str:
    return html.escape(s, quote=False)


def attr(s: str) -> str:
    return html.escape(s, quote=True)


def slugify(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "staff"


def rfc822(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True)


def human_date(outlet: Outlet, dt: datetime) -> str:
    if outlet.template == "meridian":
        return f"{dt:%A} {dt.day} {dt:%B %Y %H:%M} GMT"
    return f"{_MONTHS[dt.month - 1]} {dt.day}, {dt.year}"


def summary_of(article: Article) -> str:
    if article.summary:
        return article.summary
    first = article.paragraphs[0]
    return first if len(first) <= 200 else first[:197].rsplit(" ", 1)[0] + "..."


def fill(template: str, **values) -> str:
    return Template(template).substitute(values)


# --- article pages ----------------------------------------------------------------------

def paragraph_html(article: Article, i: int, para: str, linked: set[str]) -> str:
    out = text(para)
    for phrase, href in article.links.items():
        if phrase not in linked and text(phrase) in out:
            out = out.replace(text(phrase), f'<a href="{attr(href)}">{text(phrase)}</a>', 1)
            linked.add(phrase)
    if i in article.blockquotes:
        return f"    <blockquote class=\"quote\"><p>{out}</p></blockquote>"
    return f"    <p>{out}</p>"


def jsonld(article: Article, outlet: Outlet, canonical: str, base: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": summary_of(article),
        "url": canonical,
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "datePublished": clock.to_iso(article.published),
        "dateModified": clock.to_iso(article.modified),
        "inLanguage": article.language,
        "author": [{"@type": "Person", "name": article.author}],
        "publisher": {"@type": "Organization", "name": outlet.name,
                      "logo": {"@type": "ImageObject",
                               "url": f"{base}/static/img/{outlet.id}-logo.png"}},
        "keywords": article.tags,
    }
    body = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{body}\n</script>'


def head_tags(article: Article, outlet: Outlet, canonical: str, base: str) -> str:
    summary = summary_of(article)
    locale = {"ru": "ru_RU"}.get(article.language, "en_GB")
    tags = [
        f'<meta name="description" content="{attr(summary)}">',
        f'<meta name="author" content="{attr(article.author)}">',
        f'<link rel="canonical" href="{attr(canonical)}">',
        f'<link rel="amphtml" href="{attr(base + "/amp" + article.path)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:site_name" content="{attr(outlet.name)}">',
        f'<meta property="og:title" content="{attr(article.title)}">',
        f'<meta property="og:description" content="{attr(summary)}">',
        f'<meta property="og:url" content="{attr(canonical)}">',
        f'<meta property="og:image" content="{attr(base)}/static/img/og/{article.slug}.jpg">',
        f'<meta property="og:locale" content="{locale}">',
    ]
    if article.date_markup in ("full", "meta"):
        tags += [
            f'<meta property="article:published_time" '
            f'content="{clock.to_iso(article.published)}">',
            f'<meta property="article:modified_time" content="{clock.to_iso(article.modified)}">',
        ]
    tags += [f'<meta property="article:tag" content="{attr(t)}">' for t in article.tags]
    tags.append('<meta name="twitter:card" content="summary_large_image">')
    if article.date_markup == "full":
        tags.append(jsonld(article, outlet, canonical, base))
    return "\n".join(tags)


def dateline(article: Article, outlet: Outlet) -> str:
    shown = text(human_date(outlet, article.published))
    if article.date_markup == "full":
        return (f'<time class="dateline" datetime="{clock.to_iso(article.published)}">'
                f"{shown}</time>")
    return f'<span class="dateline">{shown}</span>'


def figure(article: Article) -> str:
    if not article.image:
        return ""
    caption = article.image.get("caption", "")
    credit = article.image.get("credit", "")
    line = f"{caption} ({credit})" if caption and credit else caption or credit
    return (f'<figure class="lead-image"><img src="/static/img/{article.slug}.jpg" '
            f'alt="{attr(caption)}"><figcaption>{text(line)}</figcaption></figure>')


def teasers(content: Content, outlet: Outlet, current: Article | None) -> list[tuple[str, str, str]]:
    """(headline, blurb, href) of the outlet's teasers shown on `current`'s page: never
    the page itself, never a story that no longer exists."""
    chosen = []
    for t in outlet.teasers:
        href = t.href
        if t.article:
            target = content.by_id(t.article)
            if target is None or target.private or (current and target.id == current.id):
                continue
            href = target.path
        chosen.append((t.headline, t.blurb, href))
    return chosen[:outlet.teaser_count]


def tag_line(article: Article) -> str:
    if not article.tags:
        return ""
    links = ", ".join(f'<a href="/tag/{slugify(t)}/">{text(t)}</a>' for t in article.tags)
    return f'<p class="article__tags">Read more about: {links}</p>'


def page(content: Content, outlet: Outlet, base: str, *, title: str, head: str, main: str,
         lang: str, body_class: str) -> str:
    return fill(content.template(outlet, "layout.html"), lang=attr(lang),
                page_title=text(title), head=head, base=attr(base), main=main,
                body_class=body_class, year=str(content.anchor.year))


def render_article(content: Content, outlet: Outlet, article: Article, base: str) -> str:
    canonical = base + article.path
    linked: set[str] = set()
    paras = [paragraph_html(article, i, p, linked) for i, p in enumerate(article.paragraphs)]
    split = min(outlet.appeal_after, len(paras))
    teaser_tpl = content.template(outlet, "teaser.html")
    teaser_html = "".join(fill(teaser_tpl, headline=text(h), blurb=text(b), href=attr(href))
                          for h, b, href in teasers(content, outlet, article))
    main = fill(content.template(outlet, "article.html"),
                article_id=attr(article.id), title=text(article.title),
                summary=text(summary_of(article)), author=text(article.author),
                author_slug=slugify(article.author), dateline=dateline(article, outlet),
                figure=figure(article), canonical=attr(canonical),
                body_before="\n".join(paras[:split]), body_after="\n".join(paras[split:]),
                tags=tag_line(article), teasers=teaser_html)
    return page(content, outlet, base, title=f"{article.title} | {outlet.name}",
                head=head_tags(article, outlet, canonical, base), main=main,
                lang=article.language, body_class="page-article")


def render_amp(content: Content, outlet: Outlet, article: Article, base: str) -> str:
    canonical = base + article.path
    body = "\n".join(f"  <p>{text(p)}</p>" for p in article.paragraphs)
    ld = jsonld(article, outlet, canonical, base) if article.date_markup == "full" else ""
    return fill(content.template(None, "amp.html"), lang=attr(article.language),
                page_title=text(f"{article.title} | {outlet.name}"), canonical=attr(canonical),
                author=attr(article.author), jsonld=ld, base=attr(base),
                outlet_name=text(outlet.name), title=text(article.title),
                published_human=text(human_date(outlet, article.published)), body=body)


# --- listing page -----------------------------------------------------------------------

def render_listing(content: Content, outlet: Outlet, base: str) -> str:
    articles = content.of(outlet.id)
    item_tpl = content.template(outlet, "item.html")
    items = "".join(
        fill(item_tpl, href=attr(a.path), headline=text(a.title), blurb=text(summary_of(a)),
             author=text(a.author), author_slug=slugify(a.author),
             date=text(human_date(outlet, a.published)))
        for a in articles)
    # Variants of article URLs that must all resolve to one story: a tracking-tagged link,
    # an AMP link and a trailing-slash link.
    most = []
    if articles:
        most.append((articles[0].path + "?utm_source=most-read&utm_medium=web", articles[0]))
    if len(articles) > 1:
        most.append(("/amp" + articles[1].path, articles[1]))
    if len(articles) > 2:
        most.append((articles[-1].path + "/", articles[-1]))
    most_read = "".join(f'    <p class="most-read__item"><a href="{attr(h)}">{text(a.title)}</a></p>\n'
                        for h, a in most)
    drafts = "".join(f'    <a href="{attr(a.path)}">DRAFT: {text(a.title)}</a>\n'
                     for a in content.of(outlet.id, public=False) if a.private)
    main = fill(content.template(outlet, "listing.html"), items=items, most_read=most_read,
                drafts=drafts)
    head = "\n".join([
        f'<meta name="description" content="{attr(outlet.description)}">',
        f'<link rel="canonical" href="{attr(base)}/news/">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="News | {attr(outlet.name)}">',
        f'<meta property="og:url" content="{attr(base)}/news/">',
    ])
    return page(content, outlet, base, title=f"News | {outlet.name}", head=head, main=main,
                lang=outlet.language, body_class="page-listing")


# --- feeds and robots -------------------------------------------------------------------

def feed_link(outlet: Outlet, article: Article, base: str) -> str:
    # The Meridian tags its feed links for analytics, as many real feeds do; the canonical
    # URL on the page is the clean one.
    suffix = "?utm_source=rss&utm_medium=feed" if outlet.template == "meridian" else ""
    return base + article.path + suffix


def render_rss(content: Content, outlet: Outlet, base: str) -> str:
    items = [a for a in content.of(outlet.id) if a.in_feed]
    newest = max((a.modified for a in items), default=content.anchor)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/">',
           "<channel>",
           f"<title>{xml_escape(outlet.name)}</title>",
           f"<link>{xml_escape(base)}/news/</link>",
           f"<description>{xml_escape(outlet.description)}</description>",
           f"<language>{xml_escape(outlet.language)}</language>",
           f"<lastBuildDate>{rfc822(newest)}</lastBuildDate>",
           f'<atom:link href="{xml_escape(base)}/rss.xml" rel="self" type="application/rss+xml"/>']
    for a in items:
        out += ["<item>",
                f"<title>{xml_escape(a.title)}</title>",
                f"<link>{xml_escape(feed_link(outlet, a, base))}</link>",
                f"<description>{xml_escape(summary_of(a))}</description>",
                f"<dc:creator>{xml_escape(a.author)}</dc:creator>",
                f"<pubDate>{rfc822(a.published)}</pubDate>",
                f'<guid isPermaLink="false">{xml_escape(base)}/?p={xml_escape(a.id)}</guid>',
                "</item>"]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def render_sitemap_index(content: Content, outlet: Outlet, base: str) -> str:
    newest = max((a.modified for a in content.of(outlet.id)), default=content.anchor)
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        f"<sitemap><loc>{xml_escape(base)}/sitemap-news.xml</loc>"
        f"<lastmod>{clock.to_iso(newest)}</lastmod></sitemap>",
        "</sitemapindex>", ""])


def render_news_sitemap(content: Content, outlet: Outlet, base: str) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">']
    for a in content.of(outlet.id):
        out += ["<url>",
                f"<loc>{xml_escape(base + a.path)}</loc>",
                f"<lastmod>{clock.to_iso(a.modified)}</lastmod>",
                "<news:news>",
                "<news:publication>",
                f"<news:name>{xml_escape(outlet.name)}</news:name>",
                f"<news:language>{xml_escape(a.language)}</news:language>",
                "</news:publication>",
                f"<news:publication_date>{clock.to_iso(a.published)}</news:publication_date>",
                f"<news:title>{xml_escape(a.title)}</news:title>",
                "</news:news>",
                "</url>"]
    out += ["</urlset>", ""]
    return "\n".join(out)


def render_robots(base: str) -> str:
    return (f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n")


def render_not_found(outlet: Outlet) -> str:
    return (f"<!DOCTYPE html><html><head><title>Page not found | {text(outlet.name)}</title>"
            f"</head><body><h1>Page not found</h1><p>Sorry, we could not find that page."
            f' <a href="/news/">Back to the news</a></p></body></html>')
