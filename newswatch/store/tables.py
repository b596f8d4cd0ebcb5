"""Every table family's methods in one class, on whichever base executes them (SQLite's
`Store`, PostgreSQL's `PgStore`)."""

from __future__ import annotations

from .alerts import AlertsMixin
from .articles import ArticlesMixin
from .bands import BandsMixin
from .cache import CacheMixin
from .failures import FailuresMixin
from .health import HealthMixin
from .outbox import OutboxMixin
from .runs import RunsMixin
from .search import SearchMixin
from .status import StatusMixin
from .templates import TemplatesMixin
from .threads import ThreadsMixin
from .views import ViewsMixin
from .watches import WatchesMixin


class Tables(ArticlesMixin, RunsMixin, CacheMixin, TemplatesMixin, BandsMixin, HealthMixin,
             AlertsMixin, OutboxMixin, SearchMixin, StatusMixin, ThreadsMixin, WatchesMixin,
             ViewsMixin, FailuresMixin):
    """The interface both backends implement."""
