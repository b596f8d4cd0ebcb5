"""A generated news outlet on 127.0.0.1 for the benches and the daemon tests.

Articles are generated (deterministic random prose, distinct per article), published
newest first through an RSS feed (latest 50), a sitemap (all, with lastmod) and a listing
page (latest 50). Discovery documents carry an ETag and answer If-None-Match with 304.
Every request is counted server-side by kind. Knobs: `add(n)` publishes n more articles,
`slow` delays article pages, `fail` makes every response a 500.

    python bench/outlet_server.py --articles 100 [--outlets 3]
prints {"outlets": {"gen0": "http://127.0.0.1:PORT", ...}} and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLE_PATTERN = r"/news/\d{4}/\d{2}/\d{2}/"
EPOCH = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)

_WORDS = None


def words() -> list[str]:
    global _WORDS
    if _WORDS is None:
        rng = random.Random(7)
        letters = "abcdefghijklmnopqrstuvwxyz"
        _WORDS = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 10)))
                         for _ in range(5000)})
    return _WORDS


class Outlet:
    def __init__(self, oid: str, articles: int, seed: int = 0):
        self.oid = oid
        self.seed = seed
        self.count = articles
        self.lock = threading.Lock()
        self.requests: Counter = Counter()
        self.bytes = 0
        self.slow = 0.0
        self.fail = False
        self.fail_kinds: set[str] = set()  # e.g. {"article"}: those answer 500
        self.published: dict[int, datetime] = {}
        self.phrases: dict[int, str] = {}  # article -> a sentence a watch can match

    # -- content ---------------------------------------------------------------------

    def add(self, n: int, phrase: str | None = None) -> list[int]:
        with self.lock:
            new = list(range(self.count, self.count + n))
            for i in new:
                self.published[i] = datetime.now(timezone.utc).replace(microsecond=0)
                if phrase:
                    self.phrases[i] = phrase
            self.count += n
        return new

    def date(self, i: int) -> datetime:
        return self.published.get(i) or EPOCH + timedelta(minutes=17 * i)

    def path(self, i: int) -> str:
        d = self.date(i)
        return f"/news/{d:%Y/%m/%d}/{self.oid}-story-{i}.html"

    def title(self, i: int) -> str:
        rng = random.Random(f"{self.seed}:{self.oid}:t{i}")
        return " ".join(rng.choice(words()) for _ in range(6)).capitalize() + f" ({i})"

    def article(self, i: int) -> str:
        rng = random.Random(f"{self.seed}:{self.oid}:{i}")
        paragraphs = []
        for _ in range(rng.randint(5, 8)):
            sentences = []
            for _ in range(rng.randint(3, 5)):
                s = " ".join(rng.choice(words()) for _ in range(rng.randint(8, 16)))
                sentences.append(s.capitalize() + ".")
            paragraphs.append(" ".join(sentences))
        if i in self.phrases:
            paragraphs.insert(1, self.phrases[i])
        d = self.date(i)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                f"<title>{escape(self.title(i))}</title>"
                f'<meta property="article:published_time" content="{d.isoformat()}">'
                f"</head><body><header><nav><a href='/news/'>News</a></nav></header>"
                f"<main><article><h1>{escape(self.title(i))}</h1>"
                f"<p class=byline>By Staff Writer, <time datetime='{d.isoformat()}'>"
                f"{d:%d %B %Y}</time></p>{body}</article></main>"
                f"<footer><p>Copyright the generated outlet.</p></footer></body></html>")

    def latest(self, n: int) -> range:
        return range(self.count - 1, max(-1, self.count - 1 - n), -1)

    def feed(self, base: str) -> str:
        items = "".join(
            f"<item><title>{escape(self.title(i))}</title><link>{base}{self.path(i)}</link>"
            f"<guid>{base}{self.path(i)}</guid>"
            f"<pubDate>{format_datetime(self.date(i))}</pubDate></item>"
            for i in self.latest(50))
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>{self.oid}</title><link>{base}/</link><description>gen</description>"
                f"{items}</channel></rss>")

    def sitemap(self, base: str) -> str:
        urls = "".join(f"<url><loc>{base}{self.path(i)}</loc>"
                       f"<lastmod>{self.date(i).isoformat()}</lastmod></url>"
                       for i in range(self.count))
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
                'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + "</urlset>")

    def listing(self) -> str:
        links = "".join(f"<li><a href='{self.path(i)}'>{escape(self.title(i))}</a></li>"
                        for i in self.latest(50))
        return f"<!doctype html><html><body><h1>News</h1><ul>{links}</ul></body></html>"

    def route(self, path: str, base: str) -> tuple[int, str, str, str]:
        """(status, kind, content type, body)"""
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            return 200, "robots", "text/plain", "User-agent: *\nAllow: /\n"
        if path == "/rss.xml":
            return 200, "feed", "application/rss+xml", self.feed(base)
        if path == "/sitemap.xml":
            return 200, "sitemap", "application/xml", self.sitemap(base)
        if path == "/news/":
            return 200, "page", "text/html; charset=utf-8", self.listing()
        if path.startswith("/news/") and path.endswith(".html"):
            try:
                i = int(path.rsplit("-", 1)[1][:-5])
            except ValueError:
                i = -1
            if 0 <= i < self.count and self.path(i) == path:
                return 200, "article", "text/html; charset=utf-8", self.article(i)
        return 404, "other", "text/plain", "not found"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def do_GET(self):  # noqa: N802 - stdlib name
        server: OutletServer = self.server  # type: ignore[assignment]
        outlet = server.outlet
        with outlet.lock:
            status, kind, ctype, body = outlet.route(self.path, server.base)
            fail = outlet.fail or kind in outlet.fail_kinds
            slow = outlet.slow
            if kind == "article":
                outlet.requests["article_started"] += 1
        if fail:
            status, body = 500, "server error"
        if kind == "article" and slow:
            time.sleep(slow)
        data = body.encode("utf-8")
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        conditional = kind in ("feed", "sitemap", "page") and status == 200
        if conditional and self.headers.get("If-None-Match") == etag:
            status, data = 304, b""
        with outlet.lock:
            outlet.requests[kind] += 1
            outlet.requests["total"] += 1
            if status == 304:
                outlet.requests["304"] += 1
            outlet.bytes += len(data)
        try:
            self.send_response(status)
            if conditional:
                self.send_header("ETag", etag)
            if status != 304:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def log_message(self, format, *args):  # noqa: A002
        pass


class OutletServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, outlet: Outlet):
        super().__init__(("127.0.0.1", 0), Handler)
        self.outlet = outlet
        self.base = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        pass


class Farm:
    """Several generated outlets, one server thread each."""

    def __init__(self, outlets: int = 1, articles: int = 100, seed: int = 0):
        self.servers = [OutletServer(Outlet(f"gen{i}", articles, seed))
                        for i in range(outlets)]
        self.threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                                         daemon=True) for s in self.servers]
        for t in self.threads:
            t.start()

    @property
    def urls(self) -> dict[str, str]:
        return {s.outlet.oid: s.base for s in self.servers}

    def outlet(self, oid: str) -> Outlet:
        return next(s.outlet for s in self.servers if s.outlet.oid == oid)

    def counts(self) -> Counter:
        total: Counter = Counter()
        for s in self.servers:
            total.update(s.outlet.requests)
            total["bytes"] += s.outlet.bytes
        return total

    def stop(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def outlets_toml(urls: dict[str, str], *, schedule: str | None = None,
                 feeds_only: bool = False) -> str:
    out = []
    for oid, base in urls.items():
        out.append(f'[[outlets]]\nid = "{oid}"\nname = "{oid}"\nfeeds = ["{base}/rss.xml"]\n')
        if not feeds_only:
            out.append(f'sitemaps = ["{base}/sitemap.xml"]\npages = ["{base}/news/"]\n')
        out.append(f"article_urls = '{ARTICLE_PATTERN}'\nallow_private = true\n")
        if schedule:
            out.append(f'schedule = "{schedule}"\n')
        out.append("\n")
    return "".join(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--outlets", type=int, default=1)
    args = parser.parse_args()
    farm = Farm(args.outlets, args.articles)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    print(json.dumps({"outlets": farm.urls}), flush=True)
    while not done.wait(0.5):
        pass
    farm.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
