"""Pages that read: alerts, a story, search, outlets; and the login."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

from starlette.responses import RedirectResponse

from .. import clock
from ..errors import QueryError
from ..watches import _compiled, active_watches

PAGE = 50  # alerts per page
RESULTS = 20  # search results per page
_POSITION = re.compile(r"at position (\d+)")


def home(web, request, form):
    return RedirectResponse("/alerts", 303)


# -- alerts ------------------------------------------------------------------------------

def _query_of(store, config) -> dict[str, object]:
    """Per watch name ever configured: its compiled query (for highlighting)."""
    out = {}
    for row in store.watches():
        try:
            out[row["name"]] = _compiled(row["query"], config.aliases)
        except QueryError:
            pass
    for w in active_watches(config, store):
        out[w.name] = w.compiled
    return out


def snippet(text: str | None, query) -> list[tuple[str, bool]]:
    from ..query import highlight

    if query is None:
        text = (text or "")[:240]
        return [(text, False)] if text else []
    return highlight(text or "", query)


def alerts(web, request, form):
    store = web.store()
    watch = request.query_params.get("watch") or None
    before = _int(request.query_params.get("before"))
    rows = store.alert_timeline(watch=watch, before=before, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    queries = _query_of(store, web.config)
    copies = store.copies_of([r["article_id"] for r in rows])
    for r in rows:
        r["segments"] = snippet(r.pop("text"), queries.get(r["watch"]))
        r["also_in"] = copies.get(r["article_id"], [])
    counts = store.alert_watch_counts()
    names = [w.name for w in active_watches(web.config, store)]
    known = set(names)
    names += [n for n in sorted(counts) if n not in known]
    return web.render(request, "alerts.html", rows=rows, watch=watch, watches=names,
                      counts=counts, total=sum(counts.values()),
                      older=rows[-1]["id"] if more else None)


# -- story -------------------------------------------------------------------------------

def story(web, request, form):
    from ..explain import explain
    from ..query import match_batch

    store = web.store()
    article = store.article(request.path_params["article_id"])
    if article is None:
        return web.error(request, 404, "No such story.")
    watches = active_watches(web.config, store)
    hits = {k for k, _ in match_batch([(w.name, w.compiled) for w in watches],
                                      [(article["id"], article["title"] or "",
                                        article["text"] or "")])}
    matched = [{"name": w.name, "query": w.query,
                "segments": snippet(article["text"], w.compiled)}
               for w in watches if w.name in hits]
    why = explain(store, web.config, article["url"])
    paragraphs = [p for p in (article["text"] or "").split("\n") if p.strip()]
    return web.render(request, "story.html", article=article, paragraphs=paragraphs,
                      copies=store.story_copies(article["id"]), matched=matched,
                      why=why, alerts=store.article_alerts(article["id"]))


# -- search ------------------------------------------------------------------------------

def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{what} date {value!r} is not a date (YYYY-MM-DD)") from None


def query_error(source: str, exc: QueryError) -> dict:
    """The message, and the query split at the position it names (for a marker)."""
    message = str(exc)
    m = _POSITION.search(message)
    if not m:
        return {"message": message, "before": None}
    pos = max(0, min(len(source), int(m.group(1)) - 1))
    return {"message": message, "before": source[:pos], "at": source[pos:pos + 1] or " ",
            "after": source[pos + 1:], "position": pos + 1}


def search(web, request, form):
    from ..query import compile_query, highlight
    from ..query.archive import folded_expression
    from ..store.fold import refold_warning

    params = request.query_params
    q = params.get("q", "")
    outlet = params.get("outlet") or ""
    page = max(1, _int(params.get("page"), 1))
    since_s, until_s = params.get("since", ""), params.get("until", "")
    rows, error, more = [], None, False
    if q.strip():
        try:
            query = compile_query(q, aliases=dict(web.config.aliases))
            since, until = _day(since_s, "from"), _day(until_s, "to")
            found = web.store().search_page(  # across scripts, as `newswatch search` finds
                query.fts, folded=folded_expression(query), source=q, outlets=[outlet] if outlet else None,
                since=since.isoformat() + "T00:00:00+00:00" if since else None,
                until=(until + timedelta(days=1)).isoformat() + "T00:00:00+00:00"
                if until else None,
                limit=RESULTS + 1, offset=(page - 1) * RESULTS)
            more = len(found) > RESULTS
            for row in found[:RESULTS]:
                row["segments"] = highlight(row.pop("text") or "", query)
                rows.append(row)
        except QueryError as exc:
            error = query_error(q, exc)
    return web.render(request, "search.html", q=q, outlet=outlet, since=since_s,
                      until=until_s, page=page, rows=rows, error=error, more=more,
                      outlets=web.config.outlets, status=400 if error else 200,
                      # entries folded by older rules: a search here may miss them
                      refold=refold_warning(web.store()))


# -- outlets -----------------------------------------------------------------------------

def outlets(web, request, form):
    from ..cli.status import status_data
    from ..health import outlet_health
    from .chart import chart

    store = web.store()
    data = status_data(store, web.config)
    warnings: dict[str, list[str]] = {}
    for w in outlet_health(store, web.config):
        warnings.setdefault(w["outlet"], []).append(w["message"])
    today = clock.now().date()
    since = clock.to_iso(clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
                         - timedelta(days=29))
    per_day: dict[str, dict[str, int]] = {}
    for r in store.articles_per_day(since):
        per_day.setdefault(r["outlet"], {})[r["day"]] = r["n"]
    rows = [{**o, "warnings": warnings.get(o["id"], []),
             "chart": chart(per_day.get(o["id"], {}), today)} for o in data["outlets"]]
    return web.render(request, "outlets.html", outlets=rows, alerts=data["alerts"],
                      mail_problems=data["mail_problems"], refold=data["refold"])


# -- login -------------------------------------------------------------------------------

def _next(value: str | None) -> str:
    """Only a path on this site (never //host or a scheme)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/alerts"


def login_form(web, request, form, *, error=None, status=200):
    if not web.password_hash:
        return RedirectResponse("/alerts", 303)
    return web.render(request, "login.html", status=status, error=error,
                      next=_next(request.query_params.get("next")))


def login(web, request, form):
    from .auth import verify_password

    if not web.password_hash:
        return RedirectResponse("/alerts", 303)
    client = request.client.host if request.client else "?"
    wait = web.limiter.retry_after(client)
    if wait:
        return web.render(request, "login.html", status=429, next=_next(form.get("next")),
                          error=f"Too many failed logins: try again in {wait} seconds.")
    if not verify_password(str(form.get("password") or ""), web.password_hash):
        web.limiter.failed(client)
        return web.render(request, "login.html", status=401, next=_next(form.get("next")),
                          error="Wrong password.")
    web.limiter.succeeded(client)
    request.session.clear()  # a new session: no fixation
    request.session["user"] = True
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(_next(form.get("next")), 303)


def logout(web, request, form):
    request.session.clear()
    return RedirectResponse("/login" if web.password_hash else "/alerts", 303)
