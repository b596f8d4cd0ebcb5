"""Every user-facing failure has one error type here, mapped to a message and exit code
in one place (`report`), so the CLI, the daemon and tests agree on what a user sees.

Exit codes: 0 ok (for `crawl`: the pass ran and its alerts were delivered; pages that
failed are counted, not fatal), 1 unexpected error, 2 config, query or usage error,
3 database error, 4 mail error (for `crawl`: alert emails left pending or failed after
the pass), 5 the outlet is being crawled by another process, 6 no outlet could be fetched
at all in a pass."""

from __future__ import annotations


class NewswatchError(Exception):
    """Base of all errors newswatch reports to a user."""

    prefix = "error"
    exit_code = 1

    def message(self) -> str:
        return f"{self.prefix}: {self}"


class ConfigError(NewswatchError):
    """A bad config file: `config error: FILE:LINE: what is wrong`, exit 2."""

    prefix = "config error"
    exit_code = 2

    def __init__(self, what: str, file: str | None = None, line: int | None = None):
        super().__init__(what)
        self.what = what
        self.file = file
        self.line = line

    def message(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{self.prefix}: {where}{self.what}"


class QueryError(NewswatchError):
    """A watch or search query that cannot be compiled."""

    prefix = "query error"
    exit_code = 2


class DatabaseError(NewswatchError):
    """The database cannot be opened or written (disk full, read-only, corrupt)."""

    prefix = "database error"
    exit_code = 3


class MailError(NewswatchError):
    """Mail could not be handed to the SMTP server (the alert stays pending, or failed)."""

    prefix = "mail error"
    exit_code = 4


class LockedError(NewswatchError):
    """Another pass of the same outlet is running."""

    prefix = "busy"
    exit_code = 5


class FetchError(NewswatchError):
    """A pass in which no outlet could be fetched at all (every outlet's discovery failed:
    refused, unreachable, out of scope). Pages failing on an outlet that answered are not
    this: they are counted in the pass and retried later."""

    prefix = "crawl error"
    exit_code = 6


class UsageError(NewswatchError):
    """A command line that names something that does not exist."""

    prefix = "usage error"
    exit_code = 2


def report(exc: NewswatchError) -> tuple[str, int]:
    """The one place an error becomes (message, exit code)."""
    return exc.message(), exc.exit_code
