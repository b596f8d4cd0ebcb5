"""One stdlib ThreadingHTTPServer per outlet, each on its own loopback port.

Every request re-reads the content folder (see store.py), so tests can edit articles
between passes. Rendered pages carry an ETag (hash of the body) and a Last-Modified date
(the newest dateModified on the page) and answer conditional requests with 304."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import deque
from datetime import datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import render
from .store import BUNDLED, Content, load_content, site_start_time

_ARTICLE = re.compile(
    r"^(?P<amp>/amp)?(?P<private>/private)?/news/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P<slug>[a-z0-9-]+)/?$")


class Response:
    def __init__(self, status: int, body: str = "", ctype: str = "text/html; charset=utf-8",
                 last_modified: datetime | None = None, location: str | None = None,
                 cacheable: bool = True):
        self.status = status
        self.body = body.encode("utf-8")
        self.ctype = ctype
        self.last_modified = last_modified
        self.location = location
        self.cacheable = cacheable and status == 200

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def route(content: Content, outlet_id: str, base: str, raw_path: str) -> Response:
    """The whole site as one function: (content, path) -> response. Query strings are
    ignored everywhere, so tracking-tagged links serve the same page."""
    outlet = content.outlets.get(outlet_id)
    if outlet is None:  # outlet removed from outlets.json while serving
        return Response(404, "<h1>Not found</h1>")
    path = unquote(urlsplit(raw_path).path)
    articles = content.of(outlet_id)
    newest = max((a.modified for a in articles), default=None)
    if path == "/":
        return Response(302, location="/news/")
    if path == "/robots.txt":
        return Response(200, render.render_robots(base), "text/plain; charset=utf-8")
    if path == "/rss.xml":
        in_feed = [a.modified for a in articles if a.in_feed]
        return Response(200, render.render_rss(content, outlet, base),
                        "application/rss+xml; charset=utf-8", max(in_feed, default=None))
    if path == "/sitemap.xml":
        return Response(200, render.render_sitemap_index(content, outlet, base),
                        "application/xml; charset=utf-8", newest)
    if path == "/sitemap-news.xml":
        return Response(200, render.render_news_sitemap(content, outlet, base),
                        "application/xml; charset=utf-8", newest)
    if path in ("/news", "/news/"):
        return Response(200, render.render_listing(content, outlet, base), last_modified=newest)
    m = _ARTICLE.match(path)
    if m:
        private = bool(m["private"])
        article = next((a for a in content.of(outlet_id, public=False)
                        if a.slug == m["slug"] and a.private == private), None)
        if article is not None:
            wanted = ("/amp" if m["amp"] else "") + article.path
            if path.rstrip("/") != wanted:  # right slug, stale date: where it lives now
                return Response(301, location=wanted)
            page = (render.render_amp if m["amp"] else render.render_article)(
                content, outlet, article, base)
            return Response(200, page, last_modified=article.modified)
    return Response(404, render.render_not_found(outlet))


def not_modified(headers, resp: Response) -> bool:
    inm = headers.get("If-None-Match")
    if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or resp.etag in tags
    ims = headers.get("If-Modified-Since")
    if ims and resp.last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is not None:
            return resp.last_modified.replace(microsecond=0) <= since
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoNews/1.0"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version
    timeout = 10  # idle keep-alive connections end, so stop() leaves no stragglers

    def do_GET(self):
        self.respond(send_body=True)

    def do_HEAD(self):
        self.respond(send_body=False)

    def respond(self, send_body: bool) -> None:
        site: SiteServer = self.server  # type: ignore[assignment]
        try:
            content = load_content(site.content_dir, started=site.started)
            resp = route(content, site.outlet_id, site.base, self.path)
        except Exception as exc:  # a broken template or outlets.json: say so, keep serving
            resp = Response(500, f"<h1>Fixture site error</h1><pre>{render.text(repr(exc))}</pre>",
                            cacheable=False)
        status = 304 if resp.cacheable and not_modified(self.headers, resp) else resp.status
        # Recorded before answering, so a client that has its response sees its entry.
        site.record({"outlet": site.outlet_id, "method": self.command, "path": self.path,
                     "status": status,
                     "conditional": bool(self.headers.get("If-None-Match")
                                         or self.headers.get("If-Modified-Since")),
                     "user_agent": self.headers.get("User-Agent", "")})
        self.send_response(status)
        if resp.cacheable:
            self.send_header("ETag", resp.etag)
            if resp.last_modified is not None:
                self.send_header("Last-Modified", render.rfc822(resp.last_modified))
            self.send_header("Cache-Control", "max-age=60")
        if resp.location:
            self.send_header("Location", resp.location)
        body = b"" if status == 304 else resp.body
        if status != 304:
            self.send_header("Content-Type", resp.ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass  # stdout carries only the JSON line; stderr stays quiet


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, outlet_id: str, content_dir: Path, started: datetime,
                 recorder):
        super().__init__((host, 0), Handler)
        self.outlet_id = outlet_id
        self.content_dir = content_dir
        self.started = started
        self.record = recorder
        self.base = f"http://{host}:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-response are normal for a crawler


class Site:
    """Running servers: `urls` {outlet id: base URL}, `names` {outlet id: name},
    `requests` (the most recent requests, newest last), `stop()`."""

    def __init__(self, content_dir: Path, host: str = "127.0.0.1", log_path: Path | None = None):
        self.content_dir = Path(content_dir)
        self.requests: deque[dict] = deque(maxlen=10_000)
        self._log_path = log_path
        self._lock = threading.Lock()
        started = site_start_time()
        content = load_content(self.content_dir, started=started)
        self._servers = [SiteServer(host, oid, self.content_dir, started, self._record)
                         for oid in content.outlets]
        self.urls = {s.outlet_id: s.base for s in self._servers}
        self.names = {oid: o.name for oid, o in content.outlets.items()}
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                                          name=f"demosite-{s.outlet_id}", daemon=True)
                         for s in self._servers]
        for t in self._threads:
            t.start()

    def _record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)
            if self._log_path:
                with open(self._log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> "Site":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_site(content_dir: str | Path | None = None, host: str = "127.0.0.1",
               log_path: str | Path | None = None) -> Site:
    """Serve the fixture outlets in background threads (the bundled content by default)."""
    return Site(Path(content_dir) if content_dir else BUNDLED, host,
                Path(log_path) if log_path else None)
