"""`crawl` (one pass now), `run` (the daemon) and `_pass` (the daemon's child, hidden)."""

from __future__ import annotations

import logging

import click

from ..errors import LockedError
from .context import State, pass_state

log = logging.getLogger("newswatch.scheduler")


@click.command(short_help="Run one pass now over all or the named outlets, then exit.")
@click.argument("outlets", nargs=-1, metavar="[OUTLET_ID]...")
@click.option("--no-mail", is_flag=True, help="Store and match, but send nothing.")
@pass_state
def crawl(state: State, outlets: tuple[str, ...], no_mail: bool) -> int:
    """Run one pass now over all outlets, or the named OUTLET_IDs, then send the alerts.

    Prints one line per outlet: links found, new, updated, duplicates, errors. Exit 5 if
    another process is crawling one of them."""
    from ..crawl import run_pass
    from ..locks import pass_lock

    config = state.config
    with pass_lock(config, list(outlets)):
        results = run_pass(config, list(outlets) or None, verbose=state.verbose,
                           deliver=not no_mail)
    for r in results:
        click.echo(f"{r.outlet}: {r.found} found, {r.new} new, {r.updated} updated, "
                   f"{r.duplicates} duplicates, {r.errors} errors")
    return 0


@click.command(short_help="The daemon: crawl each outlet on its schedule.")
@pass_state
def run(state: State) -> int:
    """The daemon: crawl each outlet on its own `schedule` until SIGTERM or Ctrl-C.

    Missed runs are made up once at start; an outlet that keeps failing backs off; each
    pass runs in a child process (`newswatch status` shows the next passes)."""
    config = state.config  # a bad config stops here, before anything starts
    import scheduler  # lazily: the daemon never imports the CLI, the CLI only runs it

    return scheduler.main(config, verbose=state.verbose, log_format=state.log_format)


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
