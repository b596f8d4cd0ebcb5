"""The PostgreSQL store: the same table families as SQLite's `Store` (the mixins of
`newswatch.store`), executed on psycopg 3, with PostgreSQL's own migrations and the few
methods whose SQL differs (`overrides`, and `bulk` for writes of many rows)."""

from __future__ import annotations

from ..tables import Tables
from .base import PgBase
from .bulk import PgBulk
from .overrides import PgOverrides
from .views import PgViews


class PgStore(PgBulk, PgOverrides, PgViews, Tables, PgBase):
    """The database on a PostgreSQL server."""


__all__ = ["PgStore"]
