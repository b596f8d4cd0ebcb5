"""`feed WATCH`: the watch's latest matching stories as Atom 1.0, JSON Feed 1.1 or RSS 2.0."""

from __future__ import annotations

import click

from .context import State, pass_state


@click.command(short_help="A watch's latest matching stories as a feed (Atom, JSON, RSS).")
@click.argument("watch")
@click.option("--format", "fmt", type=click.Choice(["atom", "json", "rss"]), default="atom",
              show_default=True, help="Atom 1.0, JSON Feed 1.1 or RSS 2.0.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Most stories in the feed.")
@pass_state
def feed(state: State, watch: str, fmt: str, limit: int) -> int:
    """Print WATCH's latest matching stories as a feed: one entry per story, its id the
    canonical URL (a reader never shows it twice), updated when first seen, the snippet,
    the outlet as author. WATCH is a watch's `name` in the config."""
    from ..alerts.feeds import watch_feed

    click.echo(watch_feed(state.db, state.config, watch, fmt=fmt, limit=limit), nl=False)
    return 0


COMMANDS = (feed,)
