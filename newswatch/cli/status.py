"""`status`, `check` and `explain`: what newswatch knows, and why."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from .. import clock
from .context import State, pass_state


def status_data(db, config) -> dict:
    """Everything `newswatch status` shows, as data (also `--json`)."""
    import scheduler  # lazily, for the running daemon's state file only

    from ..alerts import status_counts, status_problems
    from ..config import cron_trigger
    from ..store import status as store
    from ..store.fold import refold_warning

    now = clock.now()
    daemon = (scheduler.read_state(config) or {}).get("outlets", {})
    day_ago = clock.to_iso(now - timedelta(days=1))
    backed_off = db.backed_off_counts(clock.to_iso(now))
    outlets = []
    for outlet in config.outlets:
        last = store.last_run(db, outlet.id)
        counts = store.article_counts(db, outlet.id, since=day_ago)
        next_run = cron_trigger(outlet.schedule, config.timezone).get_next_fire_time(None, now)
        state = daemon.get(outlet.id, {})
        outlets.append({
            "id": outlet.id, "name": outlet.name,
            "last_pass": last["started"] if last else None,
            "last_status": last["status"] if last else None,
            "last_result": ({"pages": last["pages"], "new": last["new_articles"],
                             "duplicates": last["duplicates"], "errors": last["errors"],
                             "ms": last["ms"], "message": last["message"]}
                            if last else None),
            "next_pass": state.get("next_pass") or (clock.to_iso(next_run) if next_run else None),
            "backoff_until": state.get("backoff_until"),
            "articles": counts["total"], "articles_24h": counts["since"],
            "error_streak": store.error_streak(db, outlet.id),
            # article URLs left alone after failing (spiders/failures.py)
            "backed_off": backed_off.get(outlet.id, 0),
        })
    return {"outlets": outlets, "alerts": status_counts(db),
            "mail_problems": status_problems(db),
            # the archive index holds entries older folding rules built (store refold)
            "refold": refold_warning(db)}


@click.command(short_help="Outlets, last passes, counts, pending alerts.")
@click.option("--json", "as_json", is_flag=True, help="Print it all as one JSON object.")
@pass_state
def status(state: State, as_json: bool) -> int:
    """Per outlet: last pass and its result, next pass, articles in total and in the last
    24 h, error streak; pending and failed alerts; health warnings."""
    from ..health import outlet_health
    from ..locks import check_database_path

    check_database_path(state.config.database)  # one clear line, as `crawl` and `check`
    data = status_data(state.db, state.config)
    data["health"] = outlet_health(state.db, state.config)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    click.echo(f"{'outlet':14} {'last pass':20} {'result':12} {'next pass':20} "
               f"{'articles':>8} {'24h':>5} {'errors':>6}")
    for o in data["outlets"]:
        click.echo(f"{o['id']:14} {(o['last_pass'] or 'never')[:19]:20} "
                   f"{(o['last_status'] or '-'):12} {(o['next_pass'] or '-')[:19]:20} "
                   f"{o['articles']:>8} {o['articles_24h']:>5} {o['error_streak']:>6}")
    for o in data["outlets"]:
        if o["last_status"] == "error":
            click.echo(f"error: {o['id']}: its last pass fetched nothing: "
                       f"{o['last_result']['message']}")
        if o["backed_off"]:
            click.echo(f"backoff: {o['id']}: {o['backed_off']} article URL"
                       f"{'s' if o['backed_off'] != 1 else ''} failed and wait before the "
                       "next try (`newswatch explain URL` says why and until when)")
    for warning in data["health"]:
        click.echo(f"warning: {warning['outlet']}: {warning['message']}")
    if data["refold"]:
        click.echo(f"warning: {data['refold']}")
    counts = data["alerts"]
    click.echo("alerts: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    for line in data["mail_problems"]:
        click.echo(f"mail: {line}")
    return 0


@click.command(short_help="Validate the config and exit.")
@pass_state
def check(state: State) -> int:
    """Validate the config and exit: 0 if it loads and its database folder exists and is
    writable, else `config error: FILE:LINE: ...` and exit 2, or `database error: ...`
    and exit 3."""
    from ..locks import check_database_path

    config = state.config
    from ..store.target import is_postgres

    if is_postgres(config.database):
        state.db  # noqa: B018 - a server that cannot be reached is a database error (exit 3)
    else:
        check_database_path(config.database)
    click.echo(f"config ok: {config.path}: {len(config.outlets)} outlets, "
               f"{len(config.watches)} watches")
    return 0


@click.command(short_help="Why did (or didn't) this URL alert?")
@click.argument("url")
@pass_state
def explain(state: State, url: str) -> int:
    """Why did (or didn't) URL alert: its canonical form, fetch, extracted length, date and
    its source, dedup decision, each watch's match, alert state."""
    from ..explain import explain as lines

    for line in lines(state.db, state.config, url):
        click.echo(line)
    return 0


COMMANDS = (status, check, explain)
