"""The procrastinate App of a config's queue, and the queue's schema.

The queue's tables live in their own PostgreSQL schema, `procrastinate` (every connection
of the App sets its search_path to it), beside newswatch's own tables in the same database:
one server and one backup for both, and no name of procrastinate's can meet one of the
store's. The schema is applied at start by whichever process comes first (a transaction-
level advisory lock serialises concurrent starts); an existing schema is left alone.
"""

from __future__ import annotations

import procrastinate

from ..errors import DatabaseError

SCHEMA = "procrastinate"
# An arbitrary constant: the advisory lock key of "someone is creating the queue schema".
SCHEMA_LOCK = 0x6E77_7175  # "nwqu"


def connect_kwargs() -> dict:
    return {"options": f"-c search_path={SCHEMA}"}


def make_app(url: str) -> procrastinate.App:
    """An App on the queue at `url` with newswatch's tasks; open it before use."""
    from .tasks import blueprint

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=url, kwargs=connect_kwargs(), min_size=1, max_size=4))
    app.add_tasks_from(blueprint, namespace="newswatch")
    return app


def ensure_schema(url: str) -> bool:
    """Create the queue's schema unless it exists. True if it was created now. A server
    that cannot be reached is a DatabaseError (exit 3) naming the URL without password."""
    import psycopg

    from ..store.pg.queue import ensure_queue_schema

    try:
        return ensure_queue_schema(url, SCHEMA, SCHEMA_LOCK,
                                   procrastinate.schema.SchemaManager.get_schema())
    except psycopg.Error as exc:
        raise DatabaseError(f"job queue {redact(url)}: {exc}".strip()) from exc


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
