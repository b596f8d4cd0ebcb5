"""The Watches page: the config's watches (read-only) and the ones stored from the browser
(create, edit, pause, delete), with a live preview of the stored stories a query matches
(`newswatch watch test`) and how many per day."""

from __future__ import annotations

import json

from starlette.responses import RedirectResponse

from ..errors import QueryError, UsageError
from .. import watches as watchlist
from .pages import query_error

PREVIEW = 10


def _stored(web, store) -> list[dict]:
    config_names = {w.name for w in web.config.watches}
    rows = store.stored_watches()
    for r in rows:
        r["outlet_list"] = json.loads(r["outlets"]) if r["outlets"] else []
        r["recipient_list"] = json.loads(r["recipients"]) if r["recipients"] else []
        r["shadowed"] = r["name"] in config_names
    return rows


def _page(web, request, *, form_values=None, error=None, editing=None, status=200,
          preview=None):
    store = web.store()
    values = form_values or {"name": "", "query": request.query_params.get("q", ""),
                             "outlets": [], "recipients": ""}
    if preview is None and values["query"].strip() and request.method == "GET":
        preview = preview_data(store, values["query"], web.config.aliases)
    return web.render(request, "watches.html", status=status, config_watches=web.config.watches,
                      stored=_stored(web, store), values=values, error=error,
                      editing=editing, outlets=web.config.outlets, preview=preview,
                      default_to=", ".join(web.config.mail.to))


def preview_data(store, query: str, aliases=()) -> dict:
    """What the preview shows: matching stored stories, and how many per day, with the
    Search page's notice while older folding rules built archive entries (the preview
    searches the same index, so it may miss those stories until `store refold`)."""
    from ..alerts import watch_test
    from ..query import compile_query
    from ..query.archive import folded_expression
    from ..store.fold import refold_warning

    try:
        compiled = compile_query(query, aliases=dict(aliases))
        rows = watch_test(store, compiled, limit=PREVIEW)
        days = store.matches_per_day(compiled.fts, folded=folded_expression(compiled),
                                     source=query, days=14)
    except QueryError as exc:
        return {"query": query, "error": query_error(query, exc), "rows": [], "days": [],
                "refold": None}
    peak = max((d["n"] for d in days), default=0) or 1
    for d in days:
        d["pct"] = max(2, round(100 * d["n"] / peak))
    return {"query": query, "error": None, "rows": rows, "days": days,
            "total": sum(d["n"] for d in days), "refold": refold_warning(store)}


def index(web, request, form):
    return _page(web, request)


def preview(web, request, form):
    q = request.query_params.get("q", "")
    data = preview_data(web.store(), q, web.config.aliases) if q.strip() else None
    return web.render(request, "preview.html", preview=data)


def _values(form) -> dict:
    return {"name": str(form.get("name") or ""), "query": str(form.get("query") or ""),
            "outlets": [str(o) for o in form.getlist("outlets")],
            "recipients": str(form.get("recipients") or "")}


def _checked(web, store, values, watch_id=None):
    return watchlist.check_form(web.config, store, name=values["name"], query=values["query"],
                                outlets=values["outlets"], recipients=values["recipients"],
                                watch_id=watch_id)


def create(web, request, form):
    store = web.store()
    values = _values(form)
    try:
        checked = _checked(web, store, values)
        watchlist.create(store, checked)
    except (UsageError, QueryError) as exc:
        return _page(web, request, form_values=values, error=str(exc), status=400,
                     preview=preview_data(store, values["query"], web.config.aliases)
                     if values["query"].strip() else None)
    return RedirectResponse("/watches", 303)


def _find(web, store, request):
    return store.stored_watch(request.path_params["watch_id"])


def edit(web, request, form):
    store = web.store()
    row = _find(web, store, request)
    if row is None:
        return web.error(request, 404, "No such watch (config watches are edited in the "
                         "config file).")
    values = {"name": row["name"], "query": row["query"],
              "outlets": json.loads(row["outlets"]) if row["outlets"] else [],
              "recipients": ", ".join(json.loads(row["recipients"]) if row["recipients"]
                                      else [])}
    return _page(web, request, form_values=values, editing=row,
                 preview=preview_data(store, row["query"], web.config.aliases))


def update(web, request, form):
    store = web.store()
    row = _find(web, store, request)
    if row is None:
        return web.error(request, 404, "No such watch.")
    values = _values(form)
    try:
        watchlist.update(store, row["id"], _checked(web, store, values, row["id"]))
    except (UsageError, QueryError) as exc:
        return _page(web, request, form_values=values, editing=row, error=str(exc),
                     status=400)
    return RedirectResponse("/watches", 303)


def pause(web, request, form):
    from .. import clock

    store = web.store()
    row = _find(web, store, request)
    if row is None:
        return web.error(request, 404, "No such watch.")
    store.set_stored_watch_paused(row["id"], str(form.get("paused")) == "1", clock.now_iso())
    return RedirectResponse("/watches", 303)


def delete(web, request, form):
    store = web.store()
    if not store.delete_stored_watch(request.path_params["watch_id"]):
        return web.error(request, 404, "No such watch.")
    return RedirectResponse("/watches", 303)
