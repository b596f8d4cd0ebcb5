"""`search` and `watch test`: stored articles a query matches."""

from __future__ import annotations

import json

import click

from .context import State, pass_state

QUERY_SYNTAX = """\b
Query syntax (the same as a watch's `query`):
  Lavrov                   a word: any case, accents ignored
  "North Korea"            a phrase: these words in this order
  Korea*                   a prefix: words starting with "korea"
  Lavrov Pyongyang         both (adjacent terms are ANDed)
  Lavrov OR Lawrow         either
  Russia NOT Putin         Russia but not Putin
  Lavrov AND ("North Korea" OR Pyongyang)
  Lavrov                   also Лавров, Лаврова (other scripts are folded)
  ~Sergei                  spelling variants too: Sergey, Serguei, Сергей
  @"Kim Jong Un"           any variant of an [[aliases]] entry
NOT binds tightest, then AND, then OR; use parentheses for anything else.
Operators may be in any case; a query that is only NOT is an error (exit 2).
"""


def print_articles(rows: list[dict], indent: str = "") -> None:
    for row in rows:
        click.echo(f"{indent}{(row.get('published') or '')[:10]:10}  {row['outlet']:12}  "
                   f"{row['title']}")
        click.echo(f"{indent}{'':10}  {row['url']}")
        if row.get("snippet"):
            click.echo(f"{indent}{'':10}  {row['snippet']}")
        if row.get("matched_as"):
            click.echo(f"{indent}{'':10}  matched as: {', '.join(row['matched_as'])}")
        if row.get("copy_of"):
            click.echo(f"{indent}{'':10}  copy of {row['copy_of']}")
        if row.get("copies"):
            click.echo(f"{indent}{'':10}  also, as a copy:")
            print_articles(row["copies"], indent + "    ")


def group_copies(db, rows: list[dict]) -> list[dict]:
    """Syndicated copies under their original (`copies`) when it matched too; a copy whose
    original did not match stays a result of its own, naming it (`copy_of`)."""
    by_id = {r["id"]: r for r in rows}
    out = []
    for row in rows:
        original = row.get("duplicate_of")
        if original is not None and original in by_id:
            by_id[original].setdefault("copies", []).append(row)
            continue
        if original is not None:
            orig = db.article(original)
            row["copy_of"] = f"{orig['outlet']}: {orig['url']}" if orig else f"article {original}"
        out.append(row)
    return out


def _positive(ctx, param, value: int) -> int:
    if value < 1:
        raise click.BadParameter(f"{value} is not a positive number of results")
    return value


@click.command(epilog=QUERY_SYNTAX, short_help="Search stored articles.")
@click.argument("query")
@click.option("--limit", type=int, default=20, show_default=True, callback=_positive,
              help="Most results to show (copies of a story included).")
@click.option("--outlet", metavar="OUTLET_ID", help="Only articles of this outlet.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the results as a JSON list of objects.")
@pass_state
def search(state: State, query: str, limit: int, outlet: str | None, as_json: bool) -> int:
    """Search stored articles for QUERY, best matches first.

    Prints date, outlet, title, URL and a snippet per article; syndicated copies that match
    are listed under their original."""
    from ..crawl import select_outlets
    from ..locks import check_database_path
    from ..query import compile_query
    from ..query import search as run_search

    check_database_path(state.config.database)
    if outlet is not None:
        select_outlets(state.config, [outlet])  # an unknown id: usage error, exit 2
    found = run_search(state.db, compile_query(query, aliases=dict(state.config.aliases)),
                       limit=limit, outlet=outlet,
                       include_duplicates=True)
    rows = group_copies(state.db, found)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print_articles(rows)
    copies = len(found) - len(rows)
    click.echo(f"{len(rows)} result{'s' if len(rows) != 1 else ''}"
               + (f" and {copies} cop{'ies' if copies != 1 else 'y'}" if copies else ""))
    return 0


@click.group()
def watch() -> None:
    """Try a query before saving it as a watch."""


@watch.command("test", epilog=QUERY_SYNTAX,
               short_help="Show stored articles a query would match.")
@click.argument("query")
@click.option("--limit", type=int, default=20, show_default=True, help="Most articles to show.")
@pass_state
def watch_test(state: State, query: str, limit: int) -> int:
    """Show the stored articles QUERY would match, with snippets and the words that
    matched ("matched as")."""
    from ..alerts import watch_test as matches

    rows = matches(state.db, query, limit=limit, aliases=state.config.aliases)
    print_articles(rows)
    click.echo(f"{len(rows)} stored article{'s' if len(rows) != 1 else ''} would match")
    return 0


COMMANDS = (search, watch)
