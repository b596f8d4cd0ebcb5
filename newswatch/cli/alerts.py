"""`alerts` (list, the default), `alerts retry`, `alerts backfill`."""

from __future__ import annotations

import click

from .context import State, pass_state


@click.group(invoke_without_command=True,
             short_help="List recent alerts; retry failed ones; backfill a watch.")
@click.pass_context
def alerts(ctx: click.Context) -> int:
    """Recent alerts and their states (`alerts list`, the default); retry failed messages;
    backfill a watch."""
    if ctx.invoked_subcommand is None:
        return ctx.invoke(list_alerts)
    return 0


@alerts.command("list", short_help="Recent alerts and their states (the default).")
@click.option("--limit", type=int, default=50, show_default=True, help="Most alerts to show.")
@pass_state
def list_alerts(state: State, limit: int = 50) -> int:
    """Recent alerts, newest first: when, state, watch, title; under each, why it was
    skipped, or each channel that carried it (email, a service and host, a webhook) with
    its state and, when it failed or waits for a retry, the reason."""
    from .. import alerts as core

    for row in core.list_alerts(state.db, limit):
        click.echo(f"{row['created'][:16]}  {row['state']:8}  {row['watch']:20}  {row['title']}")
        if row["state"] == "skipped" and row.get("reason"):
            click.echo(f"    skipped: {row['reason']}")
        deliveries = row["deliveries"]
        if len(deliveries) == 1 and deliveries[0]["channel"] == "email" and \
                deliveries[0]["state"] == "sent":
            continue  # the common case says nothing more than the state above
        for d in deliveries:
            line = f"    {d['label'] or d['channel']} [{d['channel']}]: {d['state']}"
            if d["state"] == "sent" and d["sent"]:
                line += f" {d['sent'][:16]}"
            elif d["state"] != "sent" and d["last_error"]:
                line += f": {d['last_error']}"
                if d["state"] == "pending" and d["next_attempt"]:
                    line += f" (attempt {d['attempts']}, next {d['next_attempt'][:16]})"
            click.echo(line)
    return 0


@alerts.command(short_help="Re-queue failed messages and send them.")
@click.option("--channel", metavar="KEY-OR-LABEL",
              help="Only this channel's failed messages: its key (email, webhook:...) or "
                   "label, as `alerts list` shows them.")
@pass_state
def retry(state: State, channel: str | None = None) -> int:
    """Queue the failed messages (of every channel, or of --channel) again and send them
    now."""
    from .. import alerts as core

    n = core.retry_failed(state.db, state.config, channel)
    noun = "message" if any(w.targets for w in state.config.watches) else "email"
    click.echo(f"{n} failed {noun}{'s' if n != 1 else ''} queued again")
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
