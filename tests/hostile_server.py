"""A hostile web server on 127.0.0.1 for the fault tests: every way a real site can fail
or attack a crawler, one path each.

`HostileServer()` starts a ThreadingHTTPServer on a free loopback port in a daemon thread
and records every request (`hits`, with monotonic times). Routes are plain functions of
the request handler; `server.route(path, fn)` adds or replaces one. The crawler runs in a
subprocess (the real CLI), so this server answers real HTTP over real sockets.
"""

from __future__ import annotations

import gzip
import html
import http.server
import threading
import time
import zlib
from collections import defaultdict
from functools import lru_cache
from typing import Callable

LOREM = (
    "The committee met on Tuesday to weigh the proposal, and members spent most of the "
    "afternoon on the budget lines that had drawn the sharpest objections from residents. "
    "Officials said the figures would be published in full before the next session, and "
    "that the public would have four weeks to comment on every part of the plan."
)


def article_html(title: str, paragraphs: list[str] | None = None, *, head: str = "",
                 words: str = "") -> str:
    """A plain news article page that trafilatura extracts without help."""
    paragraphs = paragraphs or [f"{words} {LOREM}".strip(), LOREM, LOREM.upper().lower(),
                                f"{LOREM} {words}".strip()]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head>{head}<title>{html.escape(title)}</title></head>"
            f"<body><header><nav><a href='/'>Home</a></nav></header><main><article>"
            f"<h1>{html.escape(title)}</h1>{body}</article></main>"
            f"<footer>Copyright The Hostile Herald</footer></body></html>")


@lru_cache(maxsize=None)
def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzipped: about a thousandth of that on the wire."""
    return gzip.compress(b"\0" * size, compresslevel=9)


@lru_cache(maxsize=None)
def gzip_members_bomb(members: int, member_size: int = 8 * 1024 * 1024) -> bytes:
    """A multi-member gzip file of `members` x `member_size` zero bytes, built without
    compressing all of it: for bodies served as a .gz file, not as Content-Encoding."""
    return gzip_bomb(member_size) * members


@lru_cache(maxsize=None)
def deflate_bomb(size: int) -> bytes:
    return zlib.compress(b" " * size, 9)


def rss(base: str, links: list[str], *, doctype: str = "", title: str = "Hostile Herald",
        item_title: str = "Item") -> bytes:
    items = "".join(
        f"<item><title>{item_title} {i}</title><link>{link if '://' in link else base + link}"
        f"</link><guid>{link}</guid><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>"
        for i, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel>'
            f"<title>{title}</title><link>{base}/</link>{items}</channel></rss>").encode()


class Reply:
    """What a route answers; `body` may be a callable writing to the socket itself."""

    def __init__(self, status: int = 200, body: bytes | str = b"", *,
                 content_type: str = "text/html; charset=utf-8",
                 headers: dict[str, str] | None = None, stream: Callable | None = None):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = {"Content-Type": content_type, **(headers or {})}
        self.stream = stream


class HostileServer:
    def __init__(self):
        self.routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], Reply]] = {}
        self.hits: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                with server._lock:
                    server.hits[self.path].append(time.monotonic())
                route = server.routes.get(self.path)
                if route is None:
                    reply = Reply(404, b"not found", content_type="text/plain")
                else:
                    reply = route(self)
                try:
                    if reply.stream is not None:
                        reply.stream(self)
                        return
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a crawler hanging up on a stalled or huge reply is the point

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str, fn: Callable | Reply | bytes | str) -> None:
        if not callable(fn):
            reply = fn if isinstance(fn, Reply) else Reply(200, fn)
            fn = lambda handler, reply=reply: reply  # noqa: E731
        self.routes[path] = fn

    def hit_count(self, prefix: str) -> int:
        with self._lock:
            return sum(len(v) for k, v in self.hits.items() if k.startswith(prefix))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------- route helpers


def fail_then(times: int, status: int, then: Reply) -> Callable:
    """`status` for the first `times` requests, then `then`."""
    count = [0]
    lock = threading.Lock()

    def route(handler):
        with lock:
            count[0] += 1
            n = count[0]
        if n <= times:
            return Reply(status, f"<html><body>error {status}</body></html>")
        return then

    return route


def sleep_before_headers(seconds: float) -> Callable:
    def route(handler):
        time.sleep(seconds)
        return Reply(200, article_html("Too late"))

    return route


def stall_mid_body(seconds: float) -> Callable:
    page = article_html("Stalled", words="stalled").encode()

    def stream(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(page)))
        handler.end_headers()
        handler.wfile.write(page[: len(page) // 2])
        handler.wfile.flush()
        time.sleep(seconds)

    return lambda handler: Reply(stream=stream)


def huge_chunked(size: int) -> Callable:
    """`size` bytes of HTML, chunked, no Content-Length: the limit must count bytes."""
    chunk = (b"<p>" + b"x" * 65530 + b"</p>")

    def stream(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        sent = 0
        while sent < size:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        handler.wfile.write(b"0\r\n\r\n")

    return lambda handler: Reply(stream=stream)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", headers={"Location": location})
