"""`newswatch store ...`: the database itself (moving a SQLite store to PostgreSQL)."""

from __future__ import annotations

import click

from .context import State, pass_state


@click.group(short_help="Manage the database (copy a SQLite store to PostgreSQL).")
def store() -> None:
    """The database itself."""


@store.command(short_help="Copy a whole SQLite store into an empty PostgreSQL database.")
@click.argument("source", metavar="SOURCE")
@click.argument("target", metavar="TARGET")
@pass_state
def copy(state: State, source: str, target: str) -> int:
    """Copy every table of the SQLite store SOURCE (a file, or sqlite:///path) into the
    PostgreSQL database TARGET (postgresql://user@host:5432/dbname), ids kept, so alerts
    and emails still point at their articles and nothing is sent twice. TARGET must hold no
    articles, alerts or emails yet (it is created and migrated if needed); run it with
    newswatch stopped."""
    from ..store.copy import copy_store

    counts = copy_store(source, target)
    click.echo(f"copied {sum(counts.values())} rows into {len(counts)} tables: "
               + ", ".join(f"{t} {n}" for t, n in counts.items() if n))
    return 0


COMMANDS = (store,)
