"""The `newswatch` command line, on click: the group and its global options in
`newswatch.cli.main`, one module per command family (crawl, search, alerts, status, demo).
Errors become messages and exit codes in one place, the group's `invoke`."""


def build_parser():
    """The visible command tree as an argparse parser: only for tests/test_docs.py, which
    walks argparse subparsers. Remove once it walks `newswatch.cli.main.cli` itself."""
    import argparse

    import click

    from .main import cli

    def add(parser: argparse.ArgumentParser, group: click.Group) -> None:
        sub = parser.add_subparsers()
        for name, command in group.commands.items():
            if not command.hidden:
                child = sub.add_parser(name)
                if isinstance(command, click.Group):
                    add(child, command)

    parser = argparse.ArgumentParser(prog="newswatch")
    add(parser, cli)
    return parser
