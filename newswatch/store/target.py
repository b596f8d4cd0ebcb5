"""Which database `database = ...` names: a SQLite file (a path, or `sqlite:///path`) or a
PostgreSQL server (`postgresql://user@host:5432/dbname`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(value) -> bool:
    return isinstance(value, PostgresTarget) or (
        isinstance(value, str) and value.lower().startswith(_PG_SCHEMES))


def sqlite_path(value: str) -> str:
    """The file of `sqlite:///path` (`sqlite:////abs` and `sqlite:///rel`), else `value`."""
    if value.lower().startswith("sqlite:///"):
        return value[len("sqlite:///"):]
    return value


class PostgresTarget(os.PathLike):
    """A PostgreSQL connection URL. As a path (`os.fspath`) it names where the files that
    live beside a database file (pass locks, the daemon's state) go: `state_dir`, the config
    file's folder, so they never land in a folder named after the URL."""

    def __init__(self, url: str, state_dir: str | Path = "."):
        self.url = url
        self.state_dir = Path(state_dir)

    @property
    def dbname(self) -> str:
        name = urlsplit(self.url).path.lstrip("/")
        return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "postgres"

    def __fspath__(self) -> str:
        return str(self.state_dir / f"{self.dbname}.pg")

    @property
    def parent(self) -> Path:  # as Path(self).parent: the folder of the files beside it
        return self.state_dir

    @property
    def name(self) -> str:
        return Path(self).name

    def __str__(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        return f"PostgresTarget({redact(self.url)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PostgresTarget) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))
