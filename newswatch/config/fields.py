"""Every config key, declared once: its section, kind, default and meaning.

The loader reads each key through its entry here (type check, default, range), the set of
allowed keys per section comes from here, and so does the README's "Configuration
reference" (`python -m newswatch.config.docs`). Rules that tie several keys together
(a digest needs a schedule, a watch needs recipients) stay in `load`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECURITY_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
MODES = ("immediate", "digest")
ALERT_UNITS = ("story", "thread")


class Required:
    """The key must be written."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = Required()


@dataclass(frozen=True)
class Inherit:
    """Absent: the value of another key (a dotted name such as "defaults.schedule")."""

    source: str


@dataclass(frozen=True)
class Derived:
    """Absent: computed by the loader from other keys, as `doc` says."""

    doc: str


@dataclass(frozen=True)
class Field:
    section: str  # "" is the top level; "outlets", "watches", "aliases": arrays of tables
    name: str
    kind: str  # a key of KINDS
    default: Any  # as a user would write it in TOML, or REQUIRED / Inherit / Derived
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}" if self.section else self.name


# What each kind accepts, as the reference names it.
KINDS = {
    "string": "string",
    "path": "path (string)",
    "id": "string of a-z, 0-9, _ and -",
    "email": "email address",
    "emails": "email address or array of them",
    "integer": "integer",
    "seconds": "seconds (number)",
    "boolean": "boolean",
    "duration": "duration",
    "size": "size",
    "cron": "crontab",
    "timezone": "IANA time zone",
    "choice": "one of",
    "urls": "array of http(s) URLs",
    "outlet_ids": "outlet id or array of them",
    "regex": "regular expression (RE2 syntax)",
    "selectors": "array of CSS selectors",
    "query": "query (see Queries)",
    "strings": "array of strings",
    "notify": "array of apprise URLs",
    "webhooks": "array of URLs or {url, secret, timeout} tables",
    "table": "table",
    "tables": "array of tables",
}

SECTIONS = {"": "the top level", "mail": "[mail]", "defaults": "[defaults]",
            "crawl": "[crawl]", "threads": "[threads]", "web": "[web]", "cluster": "[cluster]",
            "outlets": "[[outlets]]", "watches": "[[watches]]", "aliases": "[[aliases]]"}

FIELDS: tuple[Field, ...] = (
    Field("", "database", "path", "newswatch.db",
          "SQLite database file (a relative path is taken from the config file's folder; "
          "sqlite:///path also works), or a PostgreSQL server: "
          "postgresql://user@host:5432/dbname"),
    Field("", "timezone", "timezone", "UTC",
          "time zone of the schedules and of the times shown in emails"),
    Field("", "contact", "string", "",
          "a URL or address where site owners can reach you, sent in the User-Agent"),
    Field("", "mail", "table", {}, "how alerts are sent"),
    Field("", "defaults", "table", {}, "values every outlet and watch takes unless it sets its own"),
    Field("", "crawl", "table", {}, "the crawler's limits"),
    Field("", "threads", "table", {}, "story threads: the reports of one event across outlets"),
    Field("", "web", "table", {}, "the web view (`newswatch serve`)"),
    Field("", "cluster", "table", {},
          "work distribution over several machines (see Scaling out)"),
    Field("", "outlets", "tables", [], "the news sites to follow, one [[outlets]] table each"),
    Field("", "watches", "tables", [], "the queries that alert, one [[watches]] table each"),
    Field("", "aliases", "tables", [],
          "names no transliteration reaches, for `@name` in queries, one [[aliases]] table "
          "each; none by default"),

    Field("mail", "from", "email", None,
          "sender address of alert emails; required once there is a watch or an operator"),
    Field("mail", "to", "emails", [], "recipients of every watch that names none"),
    Field("mail", "smtp_host", "string", None,
          "SMTP server; absent: each email is written as an .eml file into outbox_dir"),
    Field("mail", "smtp_port", "integer", Derived("25, or 587 with starttls, 465 with ssl"),
          "SMTP port", minimum=1, maximum=65535),
    Field("mail", "security", "choice", "none", "transport security",
          choices=tuple(SECURITY_PORTS)),
    Field("mail", "username", "string", None,
          "login name; the password is read only from $NEWSWATCH_SMTP_PASSWORD, never from "
          "this file"),
    Field("mail", "outbox_dir", "path", "outbox",
          "folder for .eml files, relative to the config file's folder"),
    Field("mail", "timeout", "seconds", 30, "overall deadline for handing one email over"),
    Field("mail", "tls_verify", "boolean", True,
          "verify the server's certificate (starttls, ssl)"),
    Field("mail", "operator", "email", None, "who receives outlet health warnings"),

    Field("defaults", "schedule", "cron", "*/15 * * * *",
          "when outlets are crawled"),
    Field("defaults", "alert_max_age", "duration", "2d",
          "no alert for stories published longer ago (a story with no known date alerts)"),
    Field("defaults", "max_stories", "integer", 50, "at most this many stories in one email",
          minimum=1),
    Field("defaults", "obey_robots", "boolean", True, "respect each site's robots.txt"),
    Field("defaults", "recheck", "duration", "48h",
          "articles first seen within this window are fetched again when their feed entry "
          "changes"),

    Field("defaults", "notify", "notify", [],
          'apprise URLs every watch notifies (Slack, Teams, Telegram, ntfy, `json://`, ...); '
          'write secrets as `${ENV_VAR}`, read from the environment'),
    Field("defaults", "webhooks", "webhooks", [],
          "native webhooks every watch posts to: `https://` URLs or "
          '`{url = "...", secret = "${ENV_VAR}", timeout = 10}` tables (secret: HMAC-SHA256 '
          "signing key; timeout: seconds per POST)"),

    Field("crawl", "workers", "integer", 0,
          "article-extraction processes; 0 means one per CPU core", minimum=0),
    Field("crawl", "download_timeout", "seconds", 30, "deadline for one download"),
    Field("crawl", "max_page_size", "size", "10MB",
          "larger responses are abandoned (after decompression too)"),

    Field("threads", "enabled", "boolean", True,
          "every stored original joins a story thread (emails group by thread)"),
    Field("threads", "window", "duration", "72h",
          "a report joins a thread only if the thread's last report is at most this much "
          "older"),
    Field("web", "password_hash", "string", None,
          "login password of the web view, as printed by `newswatch serve --hash-password` "
          "($NEWSWATCH_WEB_PASSWORD_HASH overrides it); required to listen on an address "
          "other than loopback"),
    Field("web", "secure_cookies", "boolean", Derived("`true` unless the server listens on "
                                                      "loopback"),
          "mark the session cookie Secure (sent over HTTPS only: set it false only when no "
          "TLS proxy is in front)"),
    Field("web", "session_hours", "integer", 12,
          "a login lasts this long", minimum=1, maximum=24 * 90),
    Field("cluster", "queue", "string",
          Derived("the `database` URL when that is PostgreSQL, else none"),
          "PostgreSQL URL (`postgresql://user@host:5432/dbname`) of the job queue; when set, "
          "`newswatch run` queues passes and `newswatch worker` processes run them; none: "
          "`newswatch run` runs the passes itself"),
    Field("cluster", "stalled_after", "seconds", 30,
          "a pass whose worker sent no heartbeat for this long (the worker died) is run "
          "again by another worker"),

    Field("outlets", "id", "id", REQUIRED,
          "short unique name used on the command line and in the database"),
    Field("outlets", "name", "string", Derived("the id"), "name shown in emails"),
    Field("outlets", "feeds", "urls", [], "RSS or Atom feeds"),
    Field("outlets", "sitemaps", "urls", [], "sitemaps, sitemap indexes, news sitemaps"),
    Field("outlets", "pages", "urls", [], "listing pages whose links are followed one level deep"
          "; an outlet needs at least one feed, sitemap or page"),
    Field("outlets", "article_urls", "regex", "",
          "which links are articles (searched in the URL); empty: every link on the outlet's "
          "hosts"),
    Field("outlets", "drop", "selectors", [], "CSS selectors removed before extraction"),
    Field("outlets", "schedule", "cron", Inherit("defaults.schedule"),
          "when this outlet is crawled"),
    Field("outlets", "obey_robots", "boolean", Inherit("defaults.obey_robots"),
          "respect robots.txt"),
    Field("outlets", "allow_private", "boolean", False,
          "allow loopback and private-network addresses (tests, intranet sites)"),
    Field("outlets", "timezone", "timezone", Inherit("timezone"),
          "time zone assumed for dates the site prints without one"),

    Field("watches", "name", "string", REQUIRED, "unique name, shown in the email subject"),
    Field("watches", "query", "query", REQUIRED, "what to look for"),
    Field("watches", "to", "emails", Inherit("mail.to"), "recipients"),
    Field("watches", "outlets", "outlet_ids", Derived("every outlet"),
          "only stories of these outlet ids"),
    Field("watches", "mode", "choice", Derived('`"digest"` when `digest` is set, '
                                               'else `"immediate"`'),
          "immediate: an email as soon as a pass finds new matches; digest: matches are "
          "collected and sent on the `digest` schedule", choices=MODES),
    Field("watches", "digest", "cron", None,
          'with `mode = "digest"`: when the digest goes out'),
    Field("watches", "send_empty", "boolean", False,
          "digests: also send an email when nothing matched"),
    Field("watches", "alert_max_age", "duration", Inherit("defaults.alert_max_age"),
          "no alert for stories published longer ago"),
    Field("watches", "max_stories", "integer", Inherit("defaults.max_stories"),
          "at most this many stories in one email", minimum=1),
    Field("watches", "alert", "choice", "story",
          'story: every matching report alerts; thread: only a thread\'s first matching '
          'report alerts, its later reports are listed in the next email as more coverage',
          choices=ALERT_UNITS),
    Field("watches", "notify", "notify", Inherit("defaults.notify"),
          "apprise URLs this watch notifies; `[]`: none"),
    Field("watches", "webhooks", "webhooks", Inherit("defaults.webhooks"),
          "native webhooks this watch posts to; `[]`: none"),

    Field("aliases", "name", "string", REQUIRED,
          'the name a query writes as `@"Kim Jong Un"` (any case, spacing or hyphens); it '
          "matches as written too"),
    Field("aliases", "variants", "strings", [],
          'other spellings of the name, any script (`["Ким Чен Ын", "Kim Jong-un"]`); '
          "Cyrillic ones also match their case forms (Ким Чен Ына)"),
)

BY_KEY: dict[tuple[str, str], Field] = {(f.section, f.name): f for f in FIELDS}

# Every key a user may write, by section ("" is the top level): the public surface.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    section: tuple(f.name for f in FIELDS if f.section == section) for section in SECTIONS
}


def field(section: str, name: str) -> Field:
    return BY_KEY[(section, name)]
