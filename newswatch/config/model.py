"""What `load_config` returns: frozen, typed, with every default applied."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# google-re2: a binding of RE2 itself, with no backtracking engine to fall back to. A
# pattern RE2 cannot run (backreferences, lookarounds) fails to compile instead of being
# handed to a slower engine, so every compiled article pattern matches in linear time.
import re2

PASSWORD_ENV = "NEWSWATCH_SMTP_PASSWORD"


def re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # errors are reported as ConfigError, not on stderr
    return options


@dataclass(frozen=True)
class MailConfig:
    from_addr: str | None
    to: tuple[str, ...]
    smtp_host: str | None  # None: messages are written as .eml files into outbox_dir
    smtp_port: int
    security: str  # none | starttls | ssl
    username: str | None
    outbox_dir: Path
    timeout: float
    tls_verify: bool
    operator: str | None

    @property
    def password(self) -> str | None:
        # Read at use time and never kept on the object, so it cannot leak into a repr,
        # a log line or a pickled config.
        return os.environ.get(PASSWORD_ENV) or None


@dataclass(frozen=True)
class Defaults:
    schedule: str
    alert_max_age: timedelta
    max_stories: int
    obey_robots: bool
    recheck: timedelta
    notify: tuple[Any, ...] = ()  # newswatch.channels.Target (apprise)
    webhooks: tuple[Any, ...] = ()  # newswatch.channels.Target (webhook)


@dataclass(frozen=True)
class CrawlConfig:
    workers: int  # extraction processes; 0 = one per core
    download_timeout: float
    max_page_size: int  # bytes


@dataclass(frozen=True)
class ThreadsConfig:
    enabled: bool = True
    window: timedelta = timedelta(hours=72)


@dataclass(frozen=True)
class WebConfig:
    password_hash: str | None = None  # $NEWSWATCH_WEB_PASSWORD_HASH wins (web.auth)
    secure_cookies: bool | None = None  # None: true unless listening on loopback
    session_hours: int = 12


@dataclass(frozen=True)
class ClusterConfig:
    queue: str | None = None  # PostgreSQL URL of the job queue; None: no cluster
    stalled_after: float = 30.0  # seconds without a worker heartbeat


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    pages: tuple[str, ...]
    article_urls: str  # RE2 syntax; "" accepts every link on the outlet's hosts
    drop: tuple[str, ...]
    schedule: str
    obey_robots: bool
    allow_private: bool
    timezone: str

    def hosts(self) -> frozenset[str]:
        """The outlet's origins: hostnames of its feeds, sitemaps and pages (lower case),
        with the port when it is not the scheme's default (two outlets on one host)."""
        hosts = set()
        for url in (*self.feeds, *self.sitemaps, *self.pages):
            parts = urlsplit(url)
            host = parts.hostname
            if host:
                port = parts.port
                default = {"http": 80, "https": 443}.get(parts.scheme)
                hosts.add(host.lower() if port in (None, default) else f"{host.lower()}:{port}")
        return frozenset(hosts)

    def article_pattern(self) -> re2._Regexp:
        """The compiled `article_urls` pattern (use `.search(url)`)."""
        return re2.compile(self.article_urls, re2_options())


@dataclass(frozen=True)
class Watch:
    name: str
    query: str
    compiled: Any = field(compare=False, repr=False)  # newswatch.query.Query
    to: tuple[str, ...] = ()
    outlets: tuple[str, ...] | None = None  # None: every outlet
    mode: str = "immediate"
    digest: str | None = None
    send_empty: bool = False
    alert_max_age: timedelta = timedelta(days=2)
    max_stories: int = 50
    alert: str = "story"  # story | thread
    notify: tuple[Any, ...] = ()  # newswatch.channels.Target (apprise)
    webhooks: tuple[Any, ...] = ()  # newswatch.channels.Target (webhook)

    @property
    def targets(self) -> tuple[Any, ...]:
        """Every channel besides email, in config order."""
        return (*self.notify, *self.webhooks)


@dataclass(frozen=True)
class Config:
    path: Path
    database: Path  # or a store.target.PostgresTarget (os.PathLike) for a server
    timezone: str
    contact: str
    mail: MailConfig
    defaults: Defaults
    crawl: CrawlConfig
    outlets: tuple[Outlet, ...]
    watches: tuple[Watch, ...]
    threads: ThreadsConfig = ThreadsConfig()
    web: WebConfig = WebConfig()
    cluster: ClusterConfig = ClusterConfig()
    # [[aliases]]: (name, variants) pairs, for compile_query(q, aliases=config.aliases)
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def outlet(self, outlet_id: str) -> Outlet | None:
        return next((o for o in self.outlets if o.id == outlet_id), None)

    def target(self, key: str) -> Any:
        """The configured channel (newswatch.channels.Target) with this key, or None."""
        for t in (*self.defaults.notify, *self.defaults.webhooks,
                  *(t for w in self.watches for t in w.targets)):
            if t.key == key:
                return t
        return None

