"""`newswatch explain URL`: why did (or didn't) this URL alert? The facts come from the
store (`explain_article`, `explain_fetch`, `article_alerts`); this module only words them."""

from __future__ import annotations

from . import mail, storylines
from .alerts.queue import outlet_name
from .watches import active_watches


def explain(store, config, url: str) -> list[str]:
    """Lines for `newswatch explain URL`."""
    from .query import match_batch, matched_forms

    lines = [f"URL:        {url}"]
    try:
        from .urls import canonical_url

        canonical = canonical_url(url)
    except Exception:  # noqa: BLE001 - urls may refuse this URL
        canonical = url
    if canonical != url:
        lines.append(f"canonical:  {canonical}")
    row = store.explain_article(list(dict.fromkeys((canonical, url))))
    fetch = store.explain_fetch(list(dict.fromkeys(
        (url, canonical) + ((row["url"], row["fetched_url"]) if row else ()))))
    lines.append(_fetch_line(fetch))
    failure = store.url_failure(canonical) or (row and store.url_failure(row["url"]))
    if failure:
        lines.append(_backoff_line(failure))
    if row is None:
        lines.append("stored:     no; " + _why_not_stored(store, config, canonical))
        return lines
    aid, outlet, matched = row["id"], row["outlet"], row["matched"]
    lines.append(f"stored:     article {aid} of {outlet_name(config, outlet)} ({outlet}), "
                 f"{row['length'] or 0} characters of text")
    lines.append(f"title:      {mail.clean_text(row['title'])}")
    lines.append(f"published:  {row['published'] or 'unknown'} "
                 f"(from {row['date_source'] or 'nowhere'})")
    lines.append(f"first seen: {row['first_seen']}"
                 + (f"; text changed {row['changed']}" if row["changed"] else ""))
    lines.append(_duplicate_line(store, row))
    lines += storylines.explain_lines(store, config, aid)
    if not matched:
        lines.append("watches:    not matched yet (the next pass matches it)")
    watches = active_watches(config, store)
    hits = {k for k, _ in match_batch([(w.name, w.compiled) for w in watches],
                                      [(aid, row["title"] or "", row["text"] or "")])}
    alerts = {a["watch"]: a for a in store.article_alerts(aid)}
    for w in watches:
        if w.name not in hits:
            verdict = "no match"
        elif w.outlets is not None and outlet not in w.outlets:
            verdict = f"matches, but the watch covers only {', '.join(w.outlets)}"
        else:
            verdict = "match"
        line = f"watch {w.name!r}: {verdict}"
        if w.name in alerts:
            alert = alerts.pop(w.name)
            line += f"; alert {alert['state']}"
            if alert["reason"]:
                line += f" ({alert['reason']})"
            if alert["state"] == "sent" and alert["sent"]:
                line += f" at {alert['sent']}, Message-ID {alert['message_id']}"
            elif alert["last_error"]:
                line += f"; last error: {alert['last_error']}"
        elif w.name in hits and matched:
            line += "; no alert (matched before this watch existed or was edited)"
        lines.append(line)
        if w.name in hits:  # which words: Лаврова for a watch on Lavrov
            forms = matched_forms(w.compiled, row["title"] or "", row["text"] or "")
            if forms:
                lines.append(f"  matched as: {', '.join(forms)}")
    for name, alert in alerts.items():
        lines.append(f"watch {name!r} (no longer configured): alert {alert['state']}"
                     + (f" ({alert['reason']})" if alert["reason"] else ""))
    return lines


def _fetch_line(fetch: dict | None) -> str:
    if not fetch:
        return "fetched:    never (no fetch of this URL is recorded)"
    status = f"HTTP {fetch['status']}" if fetch["status"] is not None else "no response"
    line = f"fetched:    {fetch['fetched']} ({status}"
    # `length` is the stored text's, in characters (not the page's bytes)
    line += (f", {fetch['length']} characters of text)" if fetch["length"] is not None
             else ")")
    if fetch["error"]:
        line += f": {fetch['error']}"
    return line


def _backoff_line(failure: dict) -> str:
    from . import clock

    times = "once" if failure["failures"] == 1 else f"{failure['failures']} times in a row"
    why = f"failed {times} ({failure['kind']}: {failure['reason']})"
    if failure["retry_after"] <= clock.now_iso():
        return f"backoff:    {why}; tried again next pass"
    until = f"not fetched again until {failure['retry_after']}"
    if failure["kind"] == "permanent":
        until += " or until its feed entry changes"
    return f"backoff:    {why}; {until}"


def _duplicate_line(store, row: dict) -> str:
    original = row["duplicate_of"]
    if original is not None:
        orig = store.article(original)
        return (f"duplicate:  of article {original}"
                + (f" ({orig['outlet']}: {orig['url']})" if orig else ""))
    copies = store.copy_count(row["id"])
    return "duplicate:  no" + (f"; {copies} cop{'ies' if copies != 1 else 'y'} point here"
                               if copies else "")


def _why_not_stored(store, config, url: str) -> str:
    from urllib.parse import urlsplit

    from .store import status as runs

    from .urls import same_site

    host = (urlsplit(url).hostname or "").lower()
    outlets = [o for o in config.outlets if same_site(url, o.hosts())]
    if not outlets:
        return f"no configured outlet fetches from {host or 'this host'}"
    notes = []
    for o in outlets:
        try:
            ok = not o.article_urls or o.article_pattern().search(url) is not None
        except Exception:  # noqa: BLE001
            ok = True
        notes.append(f"{o.id}: {'matches' if ok else 'does not match'} article_urls")
        last = runs.last_run(store, o.id)
        if last and last["status"] == "error":
            notes[-1] += f"; its last pass fetched nothing: {last['message']}"
        elif ok:
            notes[-1] += " (not found in its feeds, sitemaps or pages yet?)"
    return "; ".join(notes)
