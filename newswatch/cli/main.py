"""The `newswatch` group: global options, the commands of each family, and the one place
where an error becomes a message on stderr and an exit code (`NewswatchGroup.invoke`, via
`newswatch.errors.report`)."""

from __future__ import annotations

import sqlite3
import sys

import click

from .. import __version__
from ..errors import DatabaseError, NewswatchError, report
from . import alerts, cluster, crawl, demo, feed, search, serve, status, store
from .context import State
from .logs import setup_logging

EXIT_CODES = """\b
Exit codes: 0 ok, 1 unexpected error, 2 config, query or usage error,
3 database error, 4 alerts not delivered, 5 the outlet is being crawled by another process,
6 no outlet could be fetched.
"""


class NewswatchGroup(click.Group):
    """Maps newswatch's errors to their messages and exit codes, and a command's returned
    code to the process's exit code (click itself ignores return values)."""

    def invoke(self, ctx: click.Context):
        try:
            code = super().invoke(ctx)
        except NewswatchError as exc:
            fail(exc)
        except sqlite3.Error as exc:
            # A database failure outside the places that report it themselves (disk full,
            # read-only file): the same message and exit code as DatabaseError.
            fail(DatabaseError(str(exc)))
        except Exception as exc:
            psycopg = sys.modules.get("psycopg")  # loaded only when a server is in use
            if psycopg is not None and isinstance(exc, psycopg.Error):
                fail(DatabaseError(" ".join(str(exc).split())))
            raise
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None
        if isinstance(code, int) and code:
            raise click.exceptions.Exit(code)
        return code


def fail(exc: NewswatchError):
    message, code = report(exc)
    click.echo(message, err=True)
    raise click.exceptions.Exit(code) from None


@click.group(cls=NewswatchGroup, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="newswatch",
                      message="%(prog)s %(version)s")
@click.option("--config", "config_path", metavar="PATH",
              help="Config file. Default: $NEWSWATCH_CONFIG, else ./newswatch.toml.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging, Scrapy's own included.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one JSON object per line, for log shippers.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool, log_format: str) -> None:
    """Watch news outlets; email new stories that match.

    Each command reads the config (see --config); `newswatch COMMAND --help` explains its
    arguments."""
    ctx.obj = State(config_path=config_path, verbose=verbose, log_format=log_format)
    setup_logging(verbose, log_format)


for family in (crawl, cluster, search, status, alerts, feed, demo, serve, store):
    for command in family.COMMANDS:
        cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """The console script and `python -m newswatch`: returns the exit code."""
    try:
        cli.main(args=argv, prog_name="newswatch")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
