"""`alerts` (list, the default), `alerts retry`, `alerts backfill`."""

from __future__ import annotations

import click

from .context import State, pass_state


@click.group(invoke_without_command=True,
             short_help="List recent alerts; retry failed ones; backfill a watch.")
@click.pass_context
def alerts(ctx: click.Context) -> int:
    """Recent alerts and their states (`alerts list`, the default); retry failed emails;
    backfill a watch."""
    if ctx.invoked_subcommand is None:
        return ctx.invoke(list_alerts)
    return 0


@alerts.command("list", short_help="Recent alerts and their states (the default).")
@click.option("--limit", type=int, default=50, show_default=True, help="Most alerts to show.")
@pass_state
def list_alerts(state: State, limit: int = 50) -> int:
    """Recent alerts, newest first: when, state, watch, title."""
    from .. import alerts as core

    for row in core.list_alerts(state.db, limit):
        click.echo(f"{row['created'][:16]}  {row['state']:8}  {row['watch']:20}  {row['title']}")
    return 0


@alerts.command(short_help="Re-queue failed emails and send them.")
@pass_state
def retry(state: State) -> int:
    """Queue the failed emails again and send them now."""
    from .. import alerts as core

    n = core.retry_failed(state.db)
    click.echo(f"{n} failed email{'s' if n != 1 else ''} queued again")
    core.flush(state.db, state.config)
    return 0


@alerts.command(short_help="Send a watch's matches among stored stories, once.")
@click.argument("watch")
@click.option("--days", type=int, required=True,
              help="How far back: stories stored in the last N days.")
@pass_state
def backfill(state: State, watch: str, days: int) -> int:
    """Send WATCH's matches among the stories stored in the last N days, once.

    WATCH is a watch's `name` in the config; stories it already alerted are not sent
    again."""
    from .. import alerts as core

    n = core.backfill(state.db, state.config, watch, days)
    click.echo(f"{n} stor{'ies' if n != 1 else 'y'} queued for {watch}")
    core.flush(state.db, state.config)
    return 0


COMMANDS = (alerts,)
