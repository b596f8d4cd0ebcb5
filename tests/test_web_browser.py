"""The web view in a real browser: Playwright driving Debian's Chromium against
`newswatch serve` in a subprocess on 127.0.0.1, over a database crawled from the fixture
site. The tests also take the README's screenshots (docs/web-*.png)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import CONTENT, ROOT, run_newswatch, start_site, stop, write_config
from test_web import add_article, foreign_loads, hostile_article

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
DOCS = ROOT / "docs"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing (apt-get install -y chromium)"),
    pytest.mark.slow,
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, config: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newswatch", "--config", str(config), "serve",
             "--port", str(self.port), *args],
            cwd=config.parent, env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/static/style.css", timeout=2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("newswatch serve did not start: "
                                       + self.process.stderr.read())
                time.sleep(0.2)

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    content = root / "content"
    shutil.copytree(CONTENT, content)
    add_article(content, hostile_article())
    site = start_site(content)
    config = write_config(root, site)
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr
    server = Server(config)
    try:
        yield {"config": config, "site": site, "server": server, "content": content}
    finally:
        server.stop()
        stop(site.process)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, world):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    pg = context.new_page()
    pg.requests = requests
    yield pg
    context.close()


def shot(page, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / f"web-{name}.png"), full_page=False)


def same_origin_only(page, base: str) -> None:
    foreign = [u for u in page.requests if not u.startswith(base + "/")]
    assert foreign == [], f"the page loaded from elsewhere: {foreign}"
    assert foreign_loads(page.content()) == []


def test_create_a_watch_see_its_preview_then_its_alert_after_a_crawl(page, world):
    base = world["server"].url
    page.goto(base + "/watches")
    page.fill("input[name=name]", "Harbour fog")
    page.locator("#query").press_sequentially("Zanzibar", delay=20)
    page.locator("#query").press_sequentially("fog", delay=20)
    preview = page.locator("#preview")
    preview.locator("ol.results li").first.wait_for(timeout=10000)
    assert "pwned" in preview.inner_text()  # the hostile story matches, as text
    assert preview.locator("ol.days li").count() >= 1
    assert preview.locator("mark").first.inner_text().lower() == "zanzibarfog"
    shot(page, "watches")
    page.click("button:has-text('Create watch')")
    page.wait_for_url(base + "/watches")
    assert page.locator("table.watches >> text=Harbour fog").count() == 1
    same_origin_only(page, base)

    add_article(world["content"], hostile_article("harbour-fog-lifts",
                                                  title="Harbour fog lifts at last",
                                                  published="-30m"))
    result = run_newswatch("crawl", config=world["config"])
    assert result.returncode == 0, result.stderr
    page.goto(base + "/alerts")
    item = page.locator("li.alert", has_text="Harbour fog lifts at last")
    assert item.count() == 1
    assert "sent" in item.locator(".state").inner_text().lower()
    assert item.locator("mark").first.inner_text().lower() == "zanzibarfog"
    shot(page, "alerts")
    same_origin_only(page, base)


def test_search_open_a_story_and_its_why(page, world):
    base = world["server"].url
    page.goto(base + "/search")
    page.fill("input[name=q]", "Lavrov AND Wonsan")
    page.click("form.searchform button")
    page.wait_for_url(re.compile(r"/search\?q="))
    results = page.locator("ol.results li")
    assert results.count() >= 1
    assert page.locator("ol.results mark").first.inner_text() in ("Lavrov", "Wonsan")
    shot(page, "search")
    results.first.locator("h3 a").click()
    page.wait_for_url(re.compile(r"/stories/\d+"))
    why = page.locator("section.why")
    assert "Lavrov in Korea" in why.inner_text()
    assert "watch 'Lavrov in Korea': match" in page.locator("pre.explain").inner_text()
    shot(page, "story")
    same_origin_only(page, base)
    page.goto(base + "/search?q=" + urllib.request.quote('Lavrov AND "Korea'))
    error = page.locator(".error")
    assert "position 12" in error.inner_text()


def test_hostile_title_shows_as_text(page, world):
    base = world["server"].url
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/search?q=Zanzibarfog")
    page.locator("ol.results h3 a").first.click()
    page.wait_for_url(re.compile(r"/stories/\d+"))
    title = page.locator("h1").inner_text()
    assert '<script>alert("pwned")</script>' in title and "<img src=x" in title
    assert "\u202e" not in title and "\n" not in title
    assert page.locator("main script, main img").count() == 0
    assert dialogs == []


def test_outlets_page_draws_a_chart(page, world):
    base = world["server"].url
    page.goto(base + "/outlets")
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart rect.bar[height]").count() == 60
    shot(page, "outlets")
    same_origin_only(page, base)


def test_a_write_without_the_csrf_token_is_rejected(page, world):
    base = world["server"].url
    page.goto(base + "/watches")
    response = page.request.post(base + "/watches", form={"name": "Forged", "query": "x"})
    assert response.status == 403
    page.reload()
    assert page.locator("table.watches >> text=Forged").count() == 0


def test_login_works_and_is_required(browser, world):
    from newswatch.web import hash_password

    server = Server(world["config"], env={"NEWSWATCH_WEB_PASSWORD_HASH":
                                          hash_password("open sesame")})
    context = browser.new_context(viewport={"width": 1280, "height": 700})
    try:
        page = context.new_page()
        page.goto(server.url + "/alerts")
        assert "/login" in page.url
        shot(page, "login")
        page.fill("input[name=password]", "wrong")
        page.click("button:has-text('Log in')")
        assert "Wrong password" in page.locator(".error").inner_text()
        page.fill("input[name=password]", "open sesame")
        page.click("button:has-text('Log in')")
        page.wait_for_url(server.url + "/alerts")
        assert page.locator("h1").inner_text().startswith("Alerts")
        cookie = [c for c in context.cookies() if c["name"] == "newswatch_session"][0]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    finally:
        context.close()
        server.stop()


def test_a_non_loopback_bind_without_a_password_refuses_to_start(world):
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_WEB_PASSWORD_HASH"}
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(world["config"]), "serve",
         "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a password" in result.stderr
