"""The web view's ASGI app: routes, sessions, the login and CSRF checks every handler runs
behind, per-thread database connections, and the Jinja2 environment (autoescape on).

Handlers (`pages`, `watch_pages`) are plain functions `(web, request, form) -> Response`
run in the thread pool; `endpoint` wraps each with the checks, so none can forget one:
a login when a password is configured, the CSRF token and a same-origin check on every
POST, and no write at all with --read-only. GET never changes anything stored."""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..store import open_db
from . import filters

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "newswatch_session"

# What a page may load: only this origin. No inline script or style anywhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()),
           (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    """Adds CSP and friends to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def wrapped(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        await self.app(scope, receive, wrapped)


class Web:
    """What every handler gets: the config, the options, a connection per thread."""

    def __init__(self, config, *, read_only: bool = False, password_hash: str | None = None):
        from .auth import LoginLimiter

        self.config = config
        self.read_only = read_only
        self.password_hash = password_hash
        self.limiter = LoginLimiter()
        self.local = threading.local()
        self.opened = []
        self.lock = threading.Lock()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        filters.install(self.env, config)
        # Migrations once, here: request connections may be read-only.
        open_db(config.database).close()

    def store(self):
        store = getattr(self.local, "store", None)
        if store is None:
            store = open_db(self.config.database, migrate=False)
            if self.read_only:
                store.set_query_only()
            self.local.store = store
            with self.lock:
                self.opened.append(store)
        return store

    def close(self) -> None:
        with self.lock:
            for store in self.opened:
                try:
                    store.close()
                except Exception:  # noqa: BLE001 - closing at exit, from another thread
                    pass
            self.opened.clear()

    def render(self, request: Request, name: str, status: int = 200, **context) -> Response:
        context.update(
            request=request, path=request.url.path, csrf=csrf_token(request),
            read_only=self.read_only, logged_in=bool(request.session.get("user")),
            auth=bool(self.password_hash))
        html = self.env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, status: int, message: str) -> Response:
        return self.render(request, "error.html", status=status, status_code=status,
                           message=message)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _same_origin(request: Request) -> bool:
    """A browser names the page that sent a POST (Origin, else Referer): it must be us."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin != "null"
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", request.url.netloc)


def endpoint(handler, *, write: bool = False, public: bool = False):
    async def handle(request: Request) -> Response:
        web: Web = request.app.state.web
        if web.password_hash and not public and not request.session.get("user"):
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query
                                             else "")
                return RedirectResponse("/login?next=" + quote(target, safe=""), 303)
            return web.error(request, 403, "Log in first.")
        form = None
        if request.method != "GET":
            form = await request.form()
            sent = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
            expected = request.session.get("csrf") or ""
            if not expected or not hmac.compare_digest(sent, expected):
                return web.error(request, 403, "This form has expired or did not come from "
                                 "this page (missing or wrong CSRF token). Reload and retry.")
            if not _same_origin(request):
                return web.error(request, 403, "Cross-site request refused.")
            if write and web.read_only:
                return web.error(request, 403, "Read-only: this server was started with "
                                 "--read-only.")
        return await run_in_threadpool(handler, web, request, form)

    return handle


def create_app(config, *, read_only: bool = False, password_hash: str | None = None,
               secure_cookies: bool = False, secret: str | None = None) -> Starlette:
    """The app `newswatch serve` runs. `secret` signs session cookies (default: new per
    process, so a restart logs everyone out)."""
    from . import pages, watch_pages

    web = Web(config, read_only=read_only, password_hash=password_hash)
    routes = [
        Route("/", endpoint(pages.home)),
        Route("/alerts", endpoint(pages.alerts)),
        Route("/stories/{article_id:int}", endpoint(pages.story)),
        Route("/search", endpoint(pages.search)),
        Route("/outlets", endpoint(pages.outlets)),
        Route("/watches", endpoint(watch_pages.index)),
        Route("/watches", endpoint(watch_pages.create, write=True), methods=["POST"]),
        Route("/watches/preview", endpoint(watch_pages.preview)),
        Route("/watches/{watch_id:int}/edit", endpoint(watch_pages.edit)),
        Route("/watches/{watch_id:int}", endpoint(watch_pages.update, write=True),
              methods=["POST"]),
        Route("/watches/{watch_id:int}/pause", endpoint(watch_pages.pause, write=True),
              methods=["POST"]),
        Route("/watches/{watch_id:int}/delete", endpoint(watch_pages.delete, write=True),
              methods=["POST"]),
        # FEEDS: newswatch.channels.render_feed (branch `channels`) will be served here as
        # Route("/feeds/{watch}.{fmt}", ...) with ?token= (no session: feed readers).
        Route("/login", endpoint(pages.login_form, public=True)),
        Route("/login", endpoint(pages.login, public=True), methods=["POST"]),
        Route("/logout", endpoint(pages.logout, public=True), methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret or secrets.token_urlsafe(32),
                   session_cookie=SESSION_COOKIE, max_age=config.web.session_hours * 3600,
                   same_site="lax", https_only=secure_cookies),
    ]

    async def not_found(request: Request, exc) -> Response:
        if request.url.path.startswith("/static/"):
            return PlainTextResponse("not found", 404)
        return web.error(request, 404, "No such page.")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        web.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={404: not_found})
    app.state.web = web
    return app
