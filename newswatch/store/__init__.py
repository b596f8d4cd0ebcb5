"""The only place with SQL: every table of newswatch.db behind one `Store` class.

Methods are grouped by table family (one mixin per module); their signatures are the
interface a second backend implements. Rows come back as dicts. Writes that must be one
unit run inside `store.transaction()` (a savepoint inside an open one) or
`store.write_transaction()` (takes the write lock up front); `store.errors` is what a
failed statement raises.
"""

from __future__ import annotations

from pathlib import Path

from .alerts import AlertsMixin
from .articles import ArticlesMixin
from .bands import BandsMixin
from .base import StoreBase
from .cache import CacheMixin
from .failures import FailuresMixin
from .health import HealthMixin
from .migrations import FTS_TOKENIZE, migrations
from .outbox import OutboxMixin
from .runs import RunsMixin
from .search import SearchMixin
from .templates import TemplatesMixin
from .threads import ThreadsMixin
from .views import ViewsMixin
from .watches import WatchesMixin


class Store(ArticlesMixin, RunsMixin, CacheMixin, TemplatesMixin, BandsMixin, HealthMixin,
            AlertsMixin, OutboxMixin, SearchMixin, ThreadsMixin, WatchesMixin, ViewsMixin,
            FailuresMixin, StoreBase):
    """newswatch.db on SQLite (sqlite-utils)."""


def open_db(path: str | Path, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the database, migrated, with the settings every process
    uses."""
    return Store.open(path, migrate=migrate)


__all__ = ["FTS_TOKENIZE", "Store", "migrations", "open_db"]
