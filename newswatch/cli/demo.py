"""`demo`: the offline demo."""

from __future__ import annotations

import click


@click.command(short_help="Offline demo: crawl a bundled local site, show the alerts.")
@click.option("--dir", "directory", default="newswatch-demo", show_default=True,
              metavar="PATH", help="Where to write the demo's config, database and emails.")
def demo(directory: str) -> int:
    """Offline demo: serve a bundled fixture site on 127.0.0.1, crawl it once, show the
    alert emails (written as .eml files). Needs no config."""
    from ..demo import run_demo

    return run_demo(directory)


COMMANDS = (demo,)
