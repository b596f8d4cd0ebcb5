"""`crawl` (one pass now), `run` (the daemon) and `_pass` (the daemon's child, hidden)."""

from __future__ import annotations

import logging

import click

from ..errors import FetchError, LockedError, MailError
from .context import State, pass_state

log = logging.getLogger("newswatch.scheduler")


@click.command(short_help="Run one pass now over all or the named outlets, then exit.")
@click.argument("outlets", nargs=-1, metavar="[OUTLET_ID]...")
@click.option("--no-mail", is_flag=True, help="Store and match, but send nothing.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing when all is well; problems go to stderr, one line each "
                   "(for cron, which mails whatever is printed).")
@pass_state
def crawl(state: State, outlets: tuple[str, ...], no_mail: bool, quiet: bool) -> int:
    """Run one pass over all outlets, or the named OUTLET_IDs, then send the alerts.

    Prints one line per outlet: links found, new, updated, duplicates, errors. Exit 0 when
    the pass ran and its alerts went out (pages that failed are counted, not fatal); 6 when
    no outlet could be fetched at all; 4 when alert emails are left undelivered (pending
    or failed); 5 if another process is crawling one of the outlets."""
    from ..crawl import run_pass
    from ..locks import pass_lock

    if quiet:
        # Warnings are summed up below, one line per problem; only errors are logged.
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.ERROR)
    config = state.config
    with pass_lock(config, list(outlets)):
        results = run_pass(config, list(outlets) or None, verbose=state.verbose,
                           deliver=not no_mail)
    if not quiet:
        for r in results:
            click.echo(f"{r.outlet}: {r.found} found, {r.new} new, {r.updated} updated, "
                       f"{r.duplicates} duplicates, {r.errors} errors")
    failed = [r for r in results if r.status == "error"]
    undelivered = [] if no_mail else _undelivered(state.db)
    if quiet:
        # Without --quiet the log has said all of this already.
        for r in failed:
            click.echo(f"{r.outlet}: no page could be fetched: {r.cause}", err=True)
        for row in undelivered:
            via = row.get("label") or "email"
            click.echo(f"alert for {row['watch']!r} via {via} {_email_state(row)}: "
                       f"{row['last_error']}", err=True)
    if results and len(failed) == len(results):
        raise FetchError(f"no outlet could be fetched ({len(failed)} tried)")
    if undelivered:
        raise MailError(f"{len(undelivered)} alert message{'s' if len(undelivered) != 1 else ''}"
                        " not delivered (`newswatch status` shows them)")
    return 0


def _undelivered(store) -> list[dict]:
    """Messages (every channel) failed or waiting for a retry after the pass (the outbox's problems, less
    the sent ones with a refused recipient: those were delivered to the rest)."""
    far_future = "9999"  # refused_since: no sent email qualifies
    return [r for r in store.outbox_problems(far_future) if r["state"] != "sent"]


def _email_state(row: dict) -> str:
    if row["state"] == "failed":
        return "failed (`newswatch alerts retry` sends it again)"
    return f"not sent yet, next try {row['next_attempt']}"


@click.command(short_help="The daemon: crawl each outlet on its schedule.")
@click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True,
              metavar="N", help="Cluster mode only: passes this machine runs at once beside "
              "the scheduler (a `newswatch worker --concurrency N`); 0 only schedules.")
@pass_state
def run(state: State, workers: int) -> int:
    """The daemon: crawl each outlet on its own `schedule` until SIGTERM or Ctrl-C.

    Missed runs are made up once at start; an outlet that keeps failing backs off; each
    pass runs in a child process (`newswatch status` shows the next passes). In cluster
    mode (a PostgreSQL `database`) due passes go to the job queue, for this machine's
    worker and any `newswatch worker` elsewhere."""
    config = state.config  # a bad config stops here, before anything starts
    import scheduler  # lazily: the daemon never imports the CLI, the CLI only runs it

    return scheduler.main(config, verbose=state.verbose, log_format=state.log_format,
                          workers=workers)


@click.command("_pass", hidden=True)
@click.argument("outlets", nargs=-1, required=True, metavar="OUTLET_ID...")
@pass_state
def daemon_pass(state: State, outlets: tuple[str, ...]) -> int:
    """The daemon's child: one pass over those OUTLET_IDs no other process is crawling
    (busy ones are left to it). Exit 5 if all were busy."""
    from ..crawl import run_pass
    from ..locks import available_locks

    config = state.config
    with available_locks(config, list(outlets)) as (free, busy):
        for outlet_id in busy:
            log.warning("pass outlet=%s skipped: busy (another process is crawling it)",
                        outlet_id)
        if not free:
            return LockedError.exit_code
        run_pass(config, free, verbose=state.verbose)
    return 0


COMMANDS = (crawl, run, daemon_pass)
