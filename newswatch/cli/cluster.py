"""`worker`: the cluster's worker process (newswatch.cluster.worker)."""

from __future__ import annotations

import click

from .context import State, pass_state


@click.command(short_help="Cluster mode: run queued passes and send their alerts.")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="N", help="Passes run at once (one child process each).")
@pass_state
def worker(state: State, concurrency: int) -> int:
    """Cluster mode (a PostgreSQL `database`, or [cluster] queue): take outlet passes from
    the job queue that `newswatch run` fills, each in its own child process, and send the
    alerts they produce, until SIGTERM or Ctrl-C. Start one per machine (N = its cores)."""
    config = state.config
    from ..cluster.worker import main

    return main(config, concurrency=concurrency, verbose=state.verbose,
                log_format=state.log_format)


COMMANDS = (worker,)
