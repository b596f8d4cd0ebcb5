"""`newswatch store ...`: the database itself (moving a SQLite store to PostgreSQL,
re-folding the archive index after the folding rules changed)."""

from __future__ import annotations

import json

import click

from .context import State, pass_state


@click.group(short_help="Manage the database (copy a SQLite store to PostgreSQL, refold).")
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


@store.command(short_help="Fold the archive index again where older folding rules built it.")
@click.option("--batch", type=click.IntRange(1), default=500, show_default=True,
              help="Articles per transaction.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the result as one JSON object (progress stays on stderr).")
@pass_state
def refold(state: State, batch: int, as_json: bool) -> int:
    """Build the folded index (titles and texts transliterated, Russian case endings
    removed: what `Lavrov` finds "Лаврова" with) again for every article an older version
    of the folding rules indexed, so queries in the current form find them; `newswatch
    status` says when there are any. A batch per transaction: newswatch may keep running,
    and a refold stopped halfway goes on from there next time."""
    from ..locks import check_database_path
    from ..store.fold import refold as run_refold

    check_database_path(state.config.database)

    def progress(done: int, total: int) -> None:
        click.echo(f"refolded {done}/{total} articles", err=True)

    result = run_refold(state.db, batch=batch, progress=progress)
    if as_json:  # {"refolded", "version", "left"}: for a script that upgrades and checks
        click.echo(json.dumps(result))
        return 0
    left = f", {result['left']} left (stored meanwhile by an older newswatch)" \
        if result["left"] else ""
    click.echo(f"refolded {result['refolded']} article{'s' if result['refolded'] != 1 else ''}"
               f" with fold version {result['version']}{left}")
    return 0


COMMANDS = (store,)
