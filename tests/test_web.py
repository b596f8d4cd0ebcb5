"""The web view's handlers through Starlette's TestClient, over a real database (SQLite,
and PostgreSQL when NEWSWATCH_TEST_POSTGRES names a server) crawled from the fixture site
(plus hostile stories of this module's own)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import (CONTENT, fold_as_older_rules_did, run_newswatch, start_site, stop,
                      write_config)

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from newswatch.config import load_config  # noqa: E402
from newswatch.store import open_db  # noqa: E402

HOSTILE_TITLE = ('<script>alert("pwned")</script> Fog\r\nwarning \u202egnp.exe\u202c '
                 '<img src=x onerror=alert(1)>')


def hostile_article(slug: str = "fog-hostile-headline", *, title: str = HOSTILE_TITLE,
                    published: str = "-2h", word: str = "Zanzibarfog") -> dict:
    """An invented story whose headline is an attack on whoever shows it."""
    return {
        "id": f"meridian-{slug}", "outlet": "meridian", "slug": slug, "title": title,
        "author": "Desk <b>Bold</b>", "published": published, "in_feed": True,
        "language": "en", "summary": f"{word} drifts over the estuary again",
        "tags": ["Weather"],
        "paragraphs": [
            f"A bank of {word} rolled in from the estuary before dawn and stayed until the "
            "afternoon, closing two ferry routes and a coastal road.",
            "Harbour officials said the ferries would resume once visibility rose above half "
            "a nautical mile, which forecasters expected by the evening tide.",
            "Residents were asked to keep off the sea wall, where spray and poor light had "
            "already caused two falls this week.",
            "The coastguard said it had answered three calls from small boats that lost "
            "sight of the shore and were guided back to the marina.",
        ],
    }


def add_article(content: Path, data: dict) -> None:
    path = content / "articles" / f"{data['id']}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_db(request):
    """`database = ...` for the module's crawl, once per backend."""
    if request.param == "sqlite":
        yield "newswatch.db"
        return
    server = request.getfixturevalue("pg_server")
    url, schema = server.new_url()
    yield url
    server.drop(schema)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, module_db):
    """A database crawled once from the fixture site with a hostile headline added."""
    root = tmp_path_factory.mktemp("web")
    content = root / "content"
    shutil.copytree(CONTENT, content)
    add_article(content, hostile_article())
    site = start_site(content)
    try:
        config = write_config(root, site, database=module_db)
        result = run_newswatch("crawl", config=config)
        assert result.returncode == 0, result.stderr
        yield config, site
    finally:
        stop(site.process)


def client_for(config_path, base_url="http://127.0.0.1:8080", **kw) -> TestClient:
    from newswatch.web import create_app

    return TestClient(create_app(load_config(config_path), **kw), base_url=base_url)


@pytest.fixture
def client(crawled):
    config, _ = crawled
    with client_for(config) as c:
        yield c


def csrf(client, path="/watches") -> str:
    page = client.get(path)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)


class Links(HTMLParser):
    """Every URL a page names: (tag, attribute, value)."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "formaction", "data", "poster") and value:
                self.urls.append((tag, name, value))
            if name.startswith("on"):
                self.urls.append((tag, name, "inline handler " + (value or "")))
            if name == "style":
                self.urls.append((tag, name, "inline style"))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def foreign_loads(html: str) -> list[str]:
    """URLs the page would load or send to from another host, inline scripts, handlers and
    styles. Links to a story's original (`a.source`, rel=noreferrer) are navigation only."""
    parser = Links()
    parser.feed(html)
    bad = [f"inline script {s[:40]!r}" for s in parser.scripts]
    for tag, attr, value in parser.urls:
        if value.startswith(("inline handler", "inline style")):
            bad.append(f"<{tag} {attr}>: {value}")
            continue
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc:
            continue  # relative: same origin
        if tag == "a" and parts.scheme in ("http", "https"):
            continue  # navigation to the story's original; checked separately
        bad.append(f"<{tag} {attr}={value!r}>")
    return bad


def article_id(config, title_part: str) -> int:
    store = open_db(load_config(config).database)
    try:
        row = store._one("SELECT id FROM articles WHERE title LIKE ?", [f"%{title_part}%"])
        return row["id"]
    finally:
        store.close()


# -- pages -------------------------------------------------------------------------------

PAGES = ["/alerts", "/search?q=Lavrov", "/watches", "/outlets", "/watches/preview?q=Lavrov",
         "/search?q=%22unbalanced"]


def test_every_page_loads_only_from_its_own_origin(client, crawled):
    config, _ = crawled
    story = article_id(config, "Wonsan")
    for path in PAGES + [f"/stories/{story}"]:
        page = client.get(path)
        assert page.status_code in (200, 400), path
        assert foreign_loads(page.text) == [], path
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_alerts_show_outlet_snippet_highlight_and_state(client):
    page = client.get("/alerts")
    assert page.status_code == 200
    assert "Lavrov Arrives in Wonsan" in page.text
    assert "<mark>Lavrov</mark>" in page.text or "<mark>Sergei Lavrov</mark>" in page.text
    # the fixture crawl wrote .eml files: alerts are sent; old stories are skipped
    assert re.search(r'class="state sent"', page.text)
    assert "skipped: too old" in page.text
    one = client.get("/alerts", params={"watch": "Lavrov in Korea"})
    assert "Lavrov in Korea" in one.text and "Wonsan" in one.text
    none = client.get("/alerts", params={"watch": "no such watch"})
    assert "No alerts yet" in none.text


def test_story_shows_facts_copies_and_why(client, crawled):
    config, _ = crawled
    story = client.get(f"/stories/{article_id(config, 'Wonsan')}")
    assert story.status_code == 200
    text = story.text
    assert "Sergei Lavrov landed in the North Korean port city of Wonsan" in text
    assert "date from meta" in text
    assert "Lavrov in Korea" in text and "watch &#39;Lavrov in Korea&#39;: match" in text
    copied = client.get(f"/stories/{article_id(config, 'lands in Pyongyang')}")
    assert "Also carried by" in copied.text
    carried = copied.text.split("Also carried by")[1].split("</dd>")[0]
    assert "Ledger" in carried  # the syndicated copy on the other outlet
    assert client.get("/stories/999999").status_code == 404


def test_hostile_title_is_text_everywhere(client, crawled):
    config, _ = crawled
    aid = article_id(config, "pwned")
    pages = [client.get(f"/stories/{aid}").text, client.get("/search?q=Zanzibarfog").text,
             client.get("/watches/preview?q=Zanzibarfog").text]
    for html in pages:
        assert "&lt;script&gt;alert(" in html
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "\u202e" not in html and "\r" not in html.split("<pre")[0]
        assert "<b>Bold</b>" not in html


def test_links_are_http_only():
    from newswatch.web.filters import href

    assert href("https://example.org/a") == "https://example.org/a"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "//evil",
                "http://a b", "vbscript:x", "http:/x", "https://ok\"onmouseover=x"):
        assert href(bad) is None, bad


def test_search_highlights_pages_and_filters(client):
    page = client.get("/search", params={"q": "Lavrov"})
    assert page.status_code == 200 and "<mark>Lavrov</mark>" in page.text
    ledger = client.get("/search", params={"q": "Lavrov", "outlet": "meridian"})
    assert "Wonsan" not in ledger.text and "Pyongyang" in ledger.text
    future = client.get("/search", params={"q": "Lavrov", "since": "2999-01-01"})
    assert "No stored story matches" in future.text
    past = client.get("/search", params={"q": "Lavrov", "until": "1999-01-01"})
    assert "No stored story matches" in past.text
    bad_date = client.get("/search", params={"q": "Lavrov", "since": "tomorrow"})
    assert bad_date.status_code == 400 and "not a date" in bad_date.text


def test_a_latin_query_finds_the_cyrillic_story_in_search_and_preview(client):
    # the fixture's Russian story names Lavrov only in Cyrillic case forms ("Сергеем Лавровым")
    page = client.get("/search", params={"q": "Lavrov"})
    assert "В Вонсане завершились переговоры" in page.text
    assert "<mark>Лавровым</mark>" in page.text
    # "Vonsan" is only in the Russian story ("в Вонсане"): its preview counts it per day
    preview = client.get("/watches/preview", params={"q": "Vonsan"})
    assert "В Вонсане завершились переговоры" in preview.text
    assert "1 stored story matches" in preview.text and '<ol class="days">' in preview.text


def test_search_pagination(client):
    first = client.get("/search", params={"q": "the"})
    assert "Results 1–" in first.text
    # the fixture has fewer than a page of stories: no next page
    assert "Next →" not in first.text


def test_query_error_inline_with_position(client):
    page = client.get("/search", params={"q": 'Lavrov AND "Korea'})
    assert page.status_code == 400
    assert "unbalanced quote" in page.text and "position 12" in page.text
    assert '<mark class="at">&#34;</mark>' in page.text or '<mark class="at">"</mark>' in page.text


def test_outlets_page_has_a_chart_per_outlet(client):
    page = client.get("/outlets")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 2
    assert "The Daily Meridian" in page.text or "Meridian" in page.text
    assert re.search(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[1-9]', page.text)
    assert "Error streak" in page.text and "Next pass" in page.text


def test_search_and_outlets_warn_while_older_folding_rules_indexed_articles(tmp_path,
                                                                          store_url):
    """An archive entry folded by older rules: the search page and a watch's preview (which
    may miss it) and the outlets page carry the line `newswatch status` prints, naming
    `newswatch store refold`; none on an archive folded by the current rules."""
    import smtp

    config = smtp.write_config(tmp_path, database=store_url)
    db = open_db(store_url)
    now = "2026-03-02T06:00:00+00:00"
    old = db.insert_article({"url": "https://alpha.example/1", "outlet": "alpha",
                             "title": "Визит в Пхеньян", "content_hash": "h1",
                             "text": "Переговоры Сергея Лаврова в Пхеньяне.",
                             "first_seen": now, "last_seen": now, "matched": 0, "changes": 0})
    with db.write_transaction():
        db.fold_pending()
    db.close()

    def pages() -> dict[str, str]:
        with client_for(config.path) as client:
            return {"search": client.get("/search", params={"q": "Lavrov"}).text,
                    "preview": client.get("/watches/preview", params={"q": "Lavrov"}).text,
                    "outlets": client.get("/outlets").text}

    current = pages()
    assert "Визит в Пхеньян" in current["search"] and "Визит в Пхеньян" in current["preview"]
    assert not any("store refold" in page for page in current.values())
    fold_as_older_rules_did(store_url, old)
    stale = pages()
    assert "No stored story matches" in stale["search"]  # what the notice warns of
    assert "No stored story matches" in stale["preview"]
    for page in stale.values():
        assert "1 article is indexed by older folding rules" in page
        assert "run `newswatch store refold`" in page
    with client_for(config.path) as client:  # before any query too
        assert "run `newswatch store refold`" in client.get("/search").text


# -- watches -----------------------------------------------------------------------------

def test_config_watches_are_read_only_and_stored_ones_editable(crawled, tmp_path):
    config, _ = crawled
    with client_for(config) as client:
        page = client.get("/watches")
        assert "Lavrov in Korea" in page.text and "From the config" in page.text
        token = csrf(client)
        made = client.post("/watches", data={"csrf": token, "name": "Fog desk",
                                             "query": "fog OR Zanzibarfog",
                                             "recipients": "fog@example.org"},
                           follow_redirects=False)
        assert made.status_code == 303
        store = open_db(load_config(config).database)
        try:
            (row,) = [r for r in store.stored_watches() if r["name"] == "Fog desk"]
            listed = client.get("/watches").text
            assert "Fog desk" in listed and f"/watches/{row['id']}/edit" in listed
            edit = client.get(f"/watches/{row['id']}/edit")
            assert 'value="fog OR Zanzibarfog"' in edit.text
            client.post(f"/watches/{row['id']}", data={"csrf": token, "name": "Fog desk",
                                                       "query": "Zanzibarfog",
                                                       "outlets": "meridian"})
            assert store.stored_watch(row["id"])["query"] == "Zanzibarfog"
            assert json.loads(store.stored_watch(row["id"])["outlets"]) == ["meridian"]
            client.post(f"/watches/{row['id']}/pause", data={"csrf": token, "paused": "1"})
            assert store.stored_watch(row["id"])["paused"] == 1
            # taken names, bad queries and unknown outlets: said, nothing stored
            for data, message in (
                    ({"name": "Lavrov in Korea", "query": "x"}, "config already has"),
                    ({"name": "Fog desk", "query": "x"}, "already a watch"),
                    ({"name": "New", "query": "Lavrov AND"}, "needs a term after it"),
                    ({"name": "New", "query": "x", "outlets": "nope"}, "unknown outlet"),
                    ({"name": "New", "query": "x", "recipients": "not-an-address"},
                     "not an email address")):
                bad = client.post("/watches", data={"csrf": token, **data})
                assert bad.status_code == 400 and message in bad.text, data
            assert len(store.stored_watches()) == 1
            client.post(f"/watches/{row['id']}/delete", data={"csrf": token})
            assert store.stored_watches() == []
        finally:
            store.close()


def test_preview_lists_matches_and_counts_per_day(client):
    page = client.get("/watches/preview", params={"q": "Lavrov"})
    assert page.status_code == 200
    assert "Wonsan" in page.text and '<ol class="days">' in page.text
    assert "<mark>Lavrov</mark>" in page.text
    error = client.get("/watches/preview", params={"q": "(Lavrov"})
    assert "unbalanced parenthesis" in error.text


def test_a_write_without_the_csrf_token_is_refused(crawled):
    config, _ = crawled
    with client_for(config) as client:
        csrf(client)
        for path in ("/watches", "/watches/1/delete", "/watches/1/pause"):
            refused = client.post(path, data={"name": "Sneaky", "query": "x"})
            assert refused.status_code == 403, path
            assert "CSRF" in refused.text
        wrong = client.post("/watches", data={"csrf": "forged", "name": "Sneaky",
                                              "query": "x"})
        assert wrong.status_code == 403
        cross = client.post("/watches", data={"csrf": csrf(client), "name": "Sneaky",
                                              "query": "x"},
                            headers={"origin": "http://evil.example"})
        assert cross.status_code == 403
        store = open_db(load_config(config).database)
        assert all(r["name"] != "Sneaky" for r in store.stored_watches())
        store.close()


def test_get_never_writes(crawled):
    config, _ = crawled
    with client_for(config) as client:
        got = client.get("/watches/1/delete")
        assert got.status_code in (404, 405)


def test_read_only_refuses_every_write(crawled):
    config, _ = crawled
    with client_for(config, read_only=True) as client:
        page = client.get("/watches")
        assert "Read-only" in page.text and "Create watch" not in page.text
        refused = client.post("/watches", data={"csrf": csrf(client), "name": "RO",
                                                "query": "x"})
        assert refused.status_code == 403 and "read-only" in refused.text
        store = open_db(load_config(config).database)
        assert all(r["name"] != "RO" for r in store.stored_watches())
        store.close()


# -- login -------------------------------------------------------------------------------

def test_login_is_required_and_works_and_is_rate_limited(crawled):
    from newswatch.web import hash_password

    config, _ = crawled
    with client_for(config, password_hash=hash_password("correct horse"),
                    secure_cookies=True, base_url="https://127.0.0.1:8443") as client:
        first = client.get("/alerts", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        assert client.get("/search?q=Lavrov", follow_redirects=False).status_code == 303
        assert client.post("/watches", data={"name": "x", "query": "x"}).status_code == 403
        token = csrf(client, "/login")
        wrong = client.post("/login", data={"csrf": token, "password": "nope"})
        assert wrong.status_code == 401 and "Wrong password" in wrong.text
        ok = client.post("/login", data={"csrf": token, "password": "correct horse",
                                         "next": "/outlets"}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/outlets"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    with client_for(config, password_hash=hash_password("correct horse")) as client:
        token = csrf(client, "/login")
        ok = client.post("/login", data={"csrf": token, "password": "correct horse"},
                         follow_redirects=False)
        assert ok.status_code == 303
        assert client.get("/alerts").status_code == 200
        evil = client.post("/login", data={"csrf": csrf(client, "/login"),
                                           "password": "correct horse",
                                           "next": "//evil.example/"}, follow_redirects=False)
        assert evil.headers["location"] == "/alerts"
    with client_for(config, password_hash=hash_password("correct horse")) as client:
        token = csrf(client, "/login")
        codes = [client.post("/login", data={"csrf": token, "password": f"guess{i}"})
                 .status_code for i in range(7)]
        assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
        # even the right password waits once the limit is hit
        assert client.post("/login", data={"csrf": token,
                                           "password": "correct horse"}).status_code == 429


def test_password_hash_round_trip_and_format():
    from newswatch.errors import UsageError
    from newswatch.web import hash_password, verify_password
    from newswatch.web.auth import parse_hash

    h = hash_password("s3cret")
    assert h.startswith("scrypt$32768$8$1$") and verify_password("s3cret", h)
    assert not verify_password("s3cret ", h)
    assert hash_password("s3cret") != h  # salted
    with pytest.raises(UsageError):
        parse_hash("plaintext")


def test_loopback_rule():
    from newswatch.errors import UsageError
    from newswatch.web import check_bind, hash_password, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    check_bind("127.0.0.1", None)
    with pytest.raises(UsageError, match="refusing to listen on 0.0.0.0"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", hash_password("x"))


# -- stored watches in the crawl ---------------------------------------------------------

def test_a_browser_created_watch_alerts_after_a_crawl(tmp_path, site, store_url):
    config = write_config(tmp_path, site, database=store_url)
    assert run_newswatch("crawl", config=config).returncode == 0
    with client_for(config) as client:
        token = csrf(client)
        for name, query in (("Harbour fog", "Zanzibarfog"), ("Paused fog", "Zanzibarfog")):
            made = client.post("/watches", data={"csrf": token, "name": name, "query": query,
                                                 "recipients": "fog@example.org"},
                               follow_redirects=False)
            assert made.status_code == 303, made.text
        store = open_db(load_config(config).database)
        paused = [r for r in store.stored_watches() if r["name"] == "Paused fog"][0]
        store.close()
        client.post(f"/watches/{paused['id']}/pause", data={"csrf": token, "paused": "1"})
    add_article(site.content, hostile_article("harbour-fog-returns", title="Harbour fog returns",
                                              published="-1h"))
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    store = open_db(load_config(config).database)
    try:
        alerts = {(r["watch"], r["state"]) for r in store.recent_alerts(100)}
    finally:
        store.close()
    assert ("Harbour fog", "sent") in alerts
    assert not any(w == "Paused fog" for w, _ in alerts)
    emails = [p.read_text(errors="replace") for p in (tmp_path / "outbox").glob("*.eml")]
    mine = [e for e in emails if "Harbour fog" in e]
    assert len(mine) == 1 and "fog@example.org" in mine[0]
    with client_for(config) as client:
        page = client.get("/alerts", params={"watch": "Harbour fog"})
        assert "Harbour fog returns" in page.text and 'class="state sent"' in page.text


KIM_ALIAS = '[[aliases]]\nname = "Kim Jong Un"\nvariants = ["Ким Чен Ын", "Kim Jong-eun"]\n'


def test_a_browser_created_watch_reads_the_configs_aliases(tmp_path, site, store_url):
    config = write_config(tmp_path, site, database=store_url, extra=KIM_ALIAS)
    assert run_newswatch("crawl", config=config).returncode == 0
    with client_for(config) as client:
        made = client.post("/watches", data={"csrf": csrf(client), "name": "Kim desk",
                                             "query": '@"Kim Jong Un"',
                                             "recipients": "kim@example.org"},
                           follow_redirects=False)
        assert made.status_code == 303, made.text
    # an invented story naming him only by the alias's Russian variant, in a case form
    story = hostile_article("kim-factory", title="Визит Ким Чен Ына на завод", published="-1h",
                            word="Kimfactory")
    add_article(site.content, {**story, "language": "ru"})
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    store = open_db(load_config(config).database)
    try:
        alerts = {(r["watch"], r["title"]) for r in store.alert_timeline(watch="Kim desk")}
    finally:
        store.close()
    assert ("Kim desk", "Визит Ким Чен Ына на завод") in alerts
    emails = [p.read_text(errors="replace") for p in (tmp_path / "outbox").glob("*.eml")]
    assert any("Kim desk" in e and "kim@example.org" in e for e in emails)
