"""The TOML config file, checked in full before anything starts.

`load_config` either returns a complete, typed `Config` (defaults applied) or raises one
`ConfigError` naming the file and line of the first problem. tomllib gives no positions
for values, so `_Locator` maps key paths such as ("outlets", 2, "article_urls") to lines
by scanning the raw text itself.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# google-re2: a binding of RE2 itself, with no backtracking engine to fall back to. A
# pattern RE2 cannot run (backreferences, lookarounds) fails to compile instead of being
# handed to a slower engine, so every compiled article pattern matches in linear time.
import re2
from apscheduler.triggers.cron import CronTrigger

from .errors import ConfigError, QueryError

PASSWORD_ENV = "NEWSWATCH_SMTP_PASSWORD"
CONFIG_ENV = "NEWSWATCH_CONFIG"
DEFAULT_CONFIG_NAME = "newswatch.toml"

SECURITY_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
MODES = ("immediate", "digest")


# ---------------------------------------------------------------------------- model


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


@dataclass(frozen=True)
class CrawlConfig:
    workers: int  # extraction processes; 0 = one per core
    download_timeout: float
    max_page_size: int  # bytes


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
        return re2.compile(self.article_urls, _re2_options())


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


@dataclass(frozen=True)
class Config:
    path: Path
    database: Path
    timezone: str
    contact: str
    mail: MailConfig
    defaults: Defaults
    crawl: CrawlConfig
    outlets: tuple[Outlet, ...]
    watches: tuple[Watch, ...]

    def outlet(self, outlet_id: str) -> Outlet | None:
        return next((o for o in self.outlets if o.id == outlet_id), None)


# ------------------------------------------------------------------------------ cron

# APScheduler 3 numbers weekdays from Monday = 0; crontab from Sunday = 0 (and 7).
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_APS_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_PART = re.compile(r"(\*|[0-7]|[a-z]{3})(?:-([0-7]|[a-z]{3}))?(?:/(\d+))?")


def _cron_day(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token in _CRON_DAYS:
        return _CRON_DAYS.index(token)
    raise ValueError(f"unknown weekday {token!r}")


def _crontab_weekdays(text: str) -> str:
    """A crontab day-of-week field in APScheduler's terms, as explicit day names."""
    days: set[int] = set()
    for part in text.lower().split(","):
        m = _DOW_PART.fullmatch(part)
        if not m:
            raise ValueError(f"bad day-of-week {part!r}")
        first, last, step = m.group(1), m.group(2), int(m.group(3) or 1)
        if step < 1:
            raise ValueError(f"bad step in day-of-week {part!r}")
        if first == "*":
            if last:
                raise ValueError(f"bad day-of-week {part!r}")
            lo, hi = 0, 6
        else:
            lo = _cron_day(first)
            hi = _cron_day(last) if last else (7 if m.group(3) else lo)
        if lo > hi:
            raise ValueError(f"day-of-week range {part!r} runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_APS_DAYS[(d - 1) % 7] for d in sorted(days, key=lambda d: (d - 1) % 7))


def cron_trigger(expr: str, timezone: Any = "UTC") -> CronTrigger:
    """An APScheduler trigger for a 5-field crontab expression with crontab's meaning.

    Day-of-week numbers are translated to names (0 and 7 = Sunday, 1-5 = Monday to
    Friday) because APScheduler 3's `from_crontab` reads 0 as Monday. Raises ValueError.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    if fields[2] != "*" and fields[4] != "*":
        # crontab runs when EITHER field matches; APScheduler requires both. Refuse
        # rather than silently run on fewer days than the user expects.
        raise ValueError(
            "day-of-month and day-of-week are both restricted; crontab would run when "
            "either matches, which cannot be scheduled exactly: restrict only one"
        )
    fields[4] = _crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


# ----------------------------------------------------------------------- small parsers

_DURATION = re.compile(r"(?:\d+[wdhms])+")
_DURATION_PART = re.compile(r"(\d+)([wdhms])")
_DURATION_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2,
               "gb": 1024**3, "gib": 1024**3}
_ADDR = r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ADDR}|[^<>@]*<{_ADDR}>")
_OUTLET_ID = re.compile(r"[a-z0-9_-]+")


def parse_duration(text: str) -> timedelta | None:
    """"2d", "48h", "30m", "90s", "1w", or combinations like "1d12h"; None if malformed."""
    compact = text.replace(" ", "").lower()
    if not _DURATION.fullmatch(compact):
        return None
    parts = {}
    for number, unit in _DURATION_PART.findall(compact):
        key = _DURATION_UNITS[unit]
        parts[key] = parts.get(key, 0) + int(number)
    return timedelta(**parts)


def parse_size(value: Any) -> int | None:
    """Bytes from an integer or "10MB" / "512KB" (binary multiples); None if malformed."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    m = _SIZE.fullmatch(value.strip())
    if not m:
        return None
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # errors are reported as ConfigError, not on stderr
    return options


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date/time"


# --------------------------------------------------------------------------- locator


class _Locator:
    """Maps key paths to 1-based line numbers by scanning TOML text already known to
    be valid. Table headers and `key =` lines are recorded, as are array elements and
    inline-table keys; an unknown path falls back to its nearest recorded parent."""

    _BARE = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.lines: dict[tuple, int] = {}
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        try:
            self._scan()
        except Exception:  # noqa: BLE001 - positions are a courtesy; never mask the real error
            pass

    def line(self, path: Iterable) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    # -- scanning
    def _line_at(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def _record(self, path: tuple, line: int) -> None:
        for i in range(1, len(path) + 1):
            self.lines.setdefault(path[:i], line)

    def _skip(self, newlines: bool) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            else:
                return

    def _scan(self) -> None:
        text, n = self.text, len(self.text)
        table: tuple = ()
        aot_index: dict[tuple, int] = {}
        while True:
            self._skip(newlines=True)
            if self.pos >= n:
                return
            start = self.pos
            if text[self.pos] == "[":
                is_aot = text.startswith("[[", self.pos)
                self.pos += 2 if is_aot else 1
                keys = self._key()
                self._skip(newlines=False)
                self.pos += 2 if is_aot else 1
                path: list = []
                for i, key in enumerate(keys):
                    path.append(key)
                    logical = tuple(path)
                    if is_aot and i == len(keys) - 1:
                        aot_index[logical] = aot_index.get(logical, -1) + 1
                        path.append(aot_index[logical])
                    elif logical in aot_index:
                        path.append(aot_index[logical])
                table = tuple(path)
                self.lines[table] = self._line_at(start)
                self._record(table, self._line_at(start))
            else:
                keys = self._key()
                self._skip(newlines=False)
                self.pos += 1  # '='
                path = table + tuple(keys)
                self._record(path, self._line_at(start))
                self._value(path)

    def _key(self) -> list[str]:
        keys = []
        while True:
            self._skip(newlines=False)
            c = self.text[self.pos]
            if c == '"':
                end = self._basic_string_end(self.pos)
                keys.append(tomllib.loads("k = " + self.text[self.pos:end])["k"])
                self.pos = end
            elif c == "'":
                end = self.text.index("'", self.pos + 1)
                keys.append(self.text[self.pos + 1:end])
                self.pos = end + 1
            else:
                m = self._BARE.match(self.text, self.pos)
                keys.append(m.group(0))
                self.pos = m.end()
            self._skip(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return keys

    def _basic_string_end(self, pos: int) -> int:
        i = pos + 1
        while self.text[i] != '"':
            i += 2 if self.text[i] == "\\" else 1
        return i + 1

    def _value(self, path: tuple) -> None:
        self._skip(newlines=False)
        text = self.text
        if text.startswith('"""', self.pos) or text.startswith("'''", self.pos):
            quote = text[self.pos:self.pos + 3]
            i = self.pos + 3
            while not text.startswith(quote, i):
                i += 2 if (quote == '"""' and text[i] == "\\") else 1
            i += 3
            while i < len(text) and text[i] == quote[0]:  # up to two quotes end the content
                i += 1
            self.pos = i
        elif text[self.pos] == '"':
            self.pos = self._basic_string_end(self.pos)
        elif text[self.pos] == "'":
            self.pos = text.index("'", self.pos + 1) + 1
        elif text[self.pos] == "[":
            self.pos += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if text[self.pos] == "]":
                    self.pos += 1
                    return
                if text[self.pos] == ",":
                    self.pos += 1
                    continue
                self._record(path + (index,), self._line_at(self.pos))
                self._value(path + (index,))
                index += 1
        elif text[self.pos] == "{":
            self.pos += 1
            while True:
                self._skip(newlines=True)
                if text[self.pos] == "}":
                    self.pos += 1
                    return
                if text[self.pos] == ",":
                    self.pos += 1
                    continue
                start = self.pos
                keys = self._key()
                self._skip(newlines=False)
                self.pos += 1  # '='
                self._record(path + tuple(keys), self._line_at(start))
                self._value(path + tuple(keys))
        else:
            start = self.pos
            while self.pos < len(text) and text[self.pos] not in ",]}\n#":
                self.pos += 1
            if self.pos == start:
                self.pos += 1


# -------------------------------------------------------------------------- checking

_MISSING = object()


class _Checker:
    """Typed getters that raise ConfigError at the offending line."""

    def __init__(self, file: str, locator: _Locator):
        self.file = file
        self.loc = locator

    def error(self, what: str, path: Iterable) -> ConfigError:
        return ConfigError(what, self.file, self.loc.line(path))

    def keys(self, table: dict, allowed: Iterable[str], path: tuple, where: str) -> None:
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                what = f"unknown key '{key}' in {where}"
                close = difflib.get_close_matches(key, allowed, n=1)
                if close:
                    what += f" (did you mean '{close[0]}'?)"
                raise self.error(what, path + (key,))

    def table(self, parent: dict, key: str, path: tuple) -> dict:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            raise self.error(f"'{key}' must be a table ([{key}]), got {_describe(value)}",
                             path + (key,))
        return value

    def get(self, table: dict, key: str, path: tuple, kind: str, default: Any = _MISSING,
            where: str = "") -> Any:
        if key not in table:
            if default is _MISSING:
                raise self.error(f"{where or 'table'} is missing required key '{key}'", path)
            return default
        value = table[key]
        checks = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
        }
        if not checks[kind](value):
            article = "an" if kind[0] in "aeiou" else "a"
            raise self.error(f"'{key}' must be {article} {kind}, got {_describe(value)}",
                             path + (key,))
        return float(value) if kind == "number" else value

    def strings(self, table: dict, key: str, path: tuple, default: Any = (),
                single_ok: bool = False) -> tuple[str, ...]:
        if key not in table:
            return default
        value = table[key]
        if single_ok and isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            raise self.error(f"'{key}' must be an array of strings, got {_describe(value)}",
                             path + (key,))
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(
                    f"'{key}' must be an array of strings, but item {i + 1} is {_describe(item)}",
                    path + (key, i))
        return tuple(value)

    def positive(self, value: float, key: str, path: tuple, minimum: float = 1) -> None:
        if value < minimum:
            raise self.error(f"'{key}' must be at least {minimum}, got {value}", path + (key,))

    def duration(self, table: dict, key: str, path: tuple, default: timedelta) -> timedelta:
        if key not in table:
            return default
        value = table[key]
        parsed = parse_duration(value) if isinstance(value, str) else None
        if parsed is None or parsed <= timedelta(0):
            raise self.error(
                f"'{key}' must be a duration such as \"2d\", \"48h\", \"30m\", \"90s\" or "
                f"\"1w\", got {value!r}", path + (key,))
        return parsed

    def cron(self, table: dict, key: str, path: tuple, default: Any, timezone: str) -> Any:
        expr = self.get(table, key, path, "string", default)
        if expr is None or key not in table:
            return expr
        try:
            cron_trigger(expr, timezone)
        except ValueError as exc:
            raise self.error(
                f"'{key}' is not a valid 5-field crontab expression {expr!r}: {exc}",
                path + (key,)) from None
        return expr

    def timezone(self, table: dict, key: str, path: tuple, default: str) -> str:
        name = self.get(table, key, path, "string", default)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.error(f"'{key}' is not a known time zone: {name!r} "
                             "(use an IANA name such as 'UTC' or 'Europe/London')",
                             path + (key,)) from None
        return name

    def email(self, value: str, key: str, path: tuple) -> None:
        if not _EMAIL.fullmatch(value.strip()):
            raise self.error(f"'{key}' is not an email address: {value!r}", path)

    def emails(self, table: dict, key: str, path: tuple, default: Any) -> tuple[str, ...]:
        values = self.strings(table, key, path, default, single_ok=True)
        if key in table:
            for i, value in enumerate(values):
                self.email(value, key, path + (key, i) if isinstance(table[key], list)
                           else path + (key,))
        return values

    def choice(self, table: dict, key: str, path: tuple, choices: Iterable[str],
               default: str) -> str:
        value = self.get(table, key, path, "string", default)
        choices = list(choices)
        if value not in choices:
            what = f"'{key}' must be one of {', '.join(choices)}, got {value!r}"
            close = difflib.get_close_matches(value, choices, n=1)
            if close:
                what += f" (did you mean '{close[0]}'?)"
            raise self.error(what, path + (key,))
        return value


def _resolve(folder: Path, value: str) -> Path:
    return folder / Path(value).expanduser()


# --------------------------------------------------------------------------- loading

_TOP_KEYS = ("database", "timezone", "contact", "mail", "defaults", "crawl", "outlets",
             "watches")
_MAIL_KEYS = ("from", "to", "smtp_host", "smtp_port", "security", "username", "outbox_dir",
              "timeout", "tls_verify", "operator")
_DEFAULTS_KEYS = ("schedule", "alert_max_age", "max_stories", "obey_robots", "recheck")
_CRAWL_KEYS = ("workers", "download_timeout", "max_page_size")
_OUTLET_KEYS = ("id", "name", "feeds", "sitemaps", "pages", "article_urls", "drop", "schedule",
                "obey_robots", "allow_private", "timezone")
_WATCH_KEYS = ("name", "query", "to", "outlets", "mode", "digest", "send_empty",
               "alert_max_age", "max_stories")

# Every key a user may write, by section ("" is the top level): the public surface, also
# used by the docs test to check that the README documents each one.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "": _TOP_KEYS, "mail": _MAIL_KEYS, "defaults": _DEFAULTS_KEYS, "crawl": _CRAWL_KEYS,
    "outlets": _OUTLET_KEYS, "watches": _WATCH_KEYS,
}


def find_config(cli_path: str | os.PathLike | None = None) -> Path:
    """`--config PATH`, else $NEWSWATCH_CONFIG, else ./newswatch.toml; it must exist."""
    if cli_path:
        path, source = Path(cli_path), "named by --config"
    elif os.environ.get(CONFIG_ENV):
        path, source = Path(os.environ[CONFIG_ENV]), f"named by {CONFIG_ENV}"
    else:
        path, source = Path(DEFAULT_CONFIG_NAME), "the default"
    path = path.expanduser()
    if path.is_dir():
        raise ConfigError(f"config file ({source}) is a directory", str(path))
    if not path.is_file():
        hint = ("" if source != "the default" else
                f"; pass --config PATH or set {CONFIG_ENV} (newswatch.example.toml is a "
                "commented starting point)")
        raise ConfigError(f"config file not found ({source}){hint}", str(path))
    return path


def load_config(path: str | os.PathLike) -> Config:
    """Parse and check the whole file; a ConfigError names the first problem."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("config file not found", file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", file) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError("not UTF-8 text", file, line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, file, text) from None
    check = _Checker(file, _Locator(text))
    return _build(data, check, Path(path).absolute())


def _syntax_error(exc: tomllib.TOMLDecodeError, file: str, text: str) -> ConfigError:
    message = str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if m:
        what = f"invalid TOML: {message[:m.start()]} (column {m.group(2)})"
        return ConfigError(what, file, int(m.group(1)))
    m = re.search(r"\s*\(at end of document\)$", message)
    if m:
        return ConfigError(f"invalid TOML: {message[:m.start()]} (at end of file)", file,
                           text.count("\n") + 1)
    return ConfigError(f"invalid TOML: {message}", file)


def _build(data: dict, check: _Checker, path: Path) -> Config:
    folder = path.parent
    check.keys(data, _TOP_KEYS, (), "the top level")

    database = check.get(data, "database", (), "string", "newswatch.db")
    timezone = check.timezone(data, "timezone", (), "UTC")
    contact = check.get(data, "contact", (), "string", "")

    mail_table = check.table(data, "mail", ())
    outlets_raw = _array_of_tables(check, data, "outlets")
    watches_raw = _array_of_tables(check, data, "watches")
    mail = _mail(check, mail_table, folder, bool(watches_raw), "mail" in data)
    defaults = _defaults(check, check.table(data, "defaults", ()), timezone)
    crawl = _crawl(check, check.table(data, "crawl", ()))

    outlets: list[Outlet] = []
    seen_ids: dict[str, int] = {}
    for i, table in enumerate(outlets_raw):
        outlet = _outlet(check, table, ("outlets", i), defaults, timezone)
        if outlet.id in seen_ids:
            raise check.error(
                f"duplicate outlet id '{outlet.id}' (first used on line "
                f"{check.loc.line(('outlets', seen_ids[outlet.id], 'id'))})",
                ("outlets", i, "id"))
        seen_ids[outlet.id] = i
        outlets.append(outlet)

    watches: list[Watch] = []
    seen_names: dict[str, int] = {}
    for i, table in enumerate(watches_raw):
        watch = _watch(check, table, ("watches", i), defaults, mail, seen_ids, timezone)
        if watch.name in seen_names:
            raise check.error(
                f"duplicate watch name '{watch.name}' (first used on line "
                f"{check.loc.line(('watches', seen_names[watch.name], 'name'))})",
                ("watches", i, "name"))
        seen_names[watch.name] = i
        watches.append(watch)

    return Config(path=path, database=_resolve(folder, database), timezone=timezone,
                  contact=contact, mail=mail, defaults=defaults, crawl=crawl,
                  outlets=tuple(outlets), watches=tuple(watches))


def _array_of_tables(check: _Checker, data: dict, key: str) -> list[dict]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise check.error(f"'{key}' must be an array of tables ([[{key}]] sections), "
                          f"got {_describe(value)}", (key,))
    return value


def _mail(check: _Checker, t: dict, folder: Path, has_watches: bool,
          present: bool) -> MailConfig:
    p = ("mail",)
    if "password" in t:
        raise check.error(f"'password' is not read from the config file; set {PASSWORD_ENV} "
                          "in the environment instead", p + ("password",))
    check.keys(t, _MAIL_KEYS, p, "[mail]")
    from_addr = check.get(t, "from", p, "string", None)
    if from_addr is not None:
        check.email(from_addr, "from", p + ("from",))
    to = check.emails(t, "to", p, ())
    smtp_host = check.get(t, "smtp_host", p, "string", None) or None
    security = check.choice(t, "security", p, SECURITY_PORTS, "none")
    smtp_port = check.get(t, "smtp_port", p, "integer", SECURITY_PORTS[security])
    if not 1 <= smtp_port <= 65535:
        raise check.error(f"'smtp_port' must be between 1 and 65535, got {smtp_port}",
                          p + ("smtp_port",))
    username = check.get(t, "username", p, "string", None) or None
    outbox_dir = check.get(t, "outbox_dir", p, "string", "outbox")
    timeout = check.get(t, "timeout", p, "number", 30.0)
    if timeout <= 0:
        raise check.error(f"'timeout' must be more than 0 seconds, got {timeout:g}",
                          p + ("timeout",))
    tls_verify = check.get(t, "tls_verify", p, "boolean", True)
    operator = check.get(t, "operator", p, "string", None)
    if operator is not None:
        check.email(operator, "operator", p + ("operator",))
    if from_addr is None and (has_watches or operator):
        needs = "watches are configured" if has_watches else "'operator' is set"
        where = p if present else ("watches", 0)
        raise check.error(f"[mail] is missing required key 'from' (the sender address), "
                          f"needed because {needs}", where)
    return MailConfig(from_addr=from_addr, to=to, smtp_host=smtp_host, smtp_port=smtp_port,
                      security=security, username=username,
                      outbox_dir=_resolve(folder, outbox_dir), timeout=timeout,
                      tls_verify=tls_verify, operator=operator)


def _defaults(check: _Checker, t: dict, timezone: str) -> Defaults:
    p = ("defaults",)
    check.keys(t, _DEFAULTS_KEYS, p, "[defaults]")
    schedule = check.cron(t, "schedule", p, "*/15 * * * *", timezone)
    alert_max_age = check.duration(t, "alert_max_age", p, timedelta(days=2))
    max_stories = check.get(t, "max_stories", p, "integer", 50)
    check.positive(max_stories, "max_stories", p)
    obey_robots = check.get(t, "obey_robots", p, "boolean", True)
    recheck = check.duration(t, "recheck", p, timedelta(hours=48))
    return Defaults(schedule=schedule, alert_max_age=alert_max_age, max_stories=max_stories,
                    obey_robots=obey_robots, recheck=recheck)


def _crawl(check: _Checker, t: dict) -> CrawlConfig:
    p = ("crawl",)
    check.keys(t, _CRAWL_KEYS, p, "[crawl]")
    workers = check.get(t, "workers", p, "integer", 0)
    check.positive(workers, "workers", p, minimum=0)
    download_timeout = check.get(t, "download_timeout", p, "number", 30.0)
    if download_timeout <= 0:
        raise check.error(f"'download_timeout' must be more than 0 seconds, got "
                          f"{download_timeout:g}", p + ("download_timeout",))
    size_value = t.get("max_page_size", "10MB")
    size = parse_size(size_value)
    if size is None or size <= 0:
        raise check.error(f"'max_page_size' must be a size such as \"10MB\", \"512KB\" or a "
                          f"number of bytes, got {size_value!r}", p + ("max_page_size",))
    return CrawlConfig(workers=workers, download_timeout=download_timeout, max_page_size=size)


def _url_list(check: _Checker, t: dict, key: str, p: tuple) -> tuple[str, ...]:
    urls = check.strings(t, key, p)
    for i, url in enumerate(urls):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            raise check.error(f"'{key}' entries must be http(s) URLs, got {url!r}",
                              p + (key, i))
    return urls


def _article_pattern(check: _Checker, pattern: str, p: tuple) -> None:
    try:
        re2.compile(pattern, _re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else str(exc)
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        try:
            re.compile(pattern)
        except re.error:
            what = f"'article_urls' is not a valid regular expression: {reason}"
        else:
            what = (f"'article_urls' uses a feature RE2 cannot run ({reason}); linear-time "
                    "RE2 syntax is required: no backreferences or lookarounds")
        raise check.error(what, p + ("article_urls",)) from None


def _css_selectors(check: _Checker, selectors: tuple[str, ...], p: tuple) -> None:
    from cssselect import GenericTranslator, SelectorError

    translator = GenericTranslator()
    for i, selector in enumerate(selectors):
        try:
            translator.css_to_xpath(selector)
        except SelectorError as exc:
            raise check.error(f"'drop' entry {selector!r} is not a CSS selector: {exc}",
                              p + ("drop", i)) from None


def _outlet(check: _Checker, t: dict, p: tuple, defaults: Defaults, timezone: str) -> Outlet:
    check.keys(t, _OUTLET_KEYS, p, "[[outlets]]")
    outlet_id = check.get(t, "id", p, "string", where="[[outlets]]")
    if not _OUTLET_ID.fullmatch(outlet_id):
        raise check.error(f"outlet id {outlet_id!r} may contain only a-z, 0-9, '_' and '-'",
                          p + ("id",))
    name = check.get(t, "name", p, "string", outlet_id)
    feeds = _url_list(check, t, "feeds", p)
    sitemaps = _url_list(check, t, "sitemaps", p)
    pages = _url_list(check, t, "pages", p)
    if not (feeds or sitemaps or pages):
        raise check.error(f"outlet '{outlet_id}' needs at least one of 'feeds', 'sitemaps' "
                          "or 'pages'", p)
    article_urls = check.get(t, "article_urls", p, "string", "")
    _article_pattern(check, article_urls, p)
    drop = check.strings(t, "drop", p)
    _css_selectors(check, drop, p)
    outlet_tz = check.timezone(t, "timezone", p, timezone)
    schedule = check.cron(t, "schedule", p, defaults.schedule, timezone)
    obey_robots = check.get(t, "obey_robots", p, "boolean", defaults.obey_robots)
    allow_private = check.get(t, "allow_private", p, "boolean", False)
    return Outlet(id=outlet_id, name=name, feeds=feeds, sitemaps=sitemaps, pages=pages,
                  article_urls=article_urls, drop=drop, schedule=schedule,
                  obey_robots=obey_robots, allow_private=allow_private, timezone=outlet_tz)


def _watch(check: _Checker, t: dict, p: tuple, defaults: Defaults, mail: MailConfig,
           outlet_ids: dict[str, int], timezone: str) -> Watch:
    check.keys(t, _WATCH_KEYS, p, "[[watches]]")
    name = check.get(t, "name", p, "string", where="[[watches]]")
    if not name.strip():
        raise check.error("watch 'name' must not be empty", p + ("name",))
    query = check.get(t, "query", p, "string", where=f"watch '{name}'")
    if not query.strip():
        raise check.error(f"watch '{name}': 'query' must not be empty", p + ("query",))
    from .query import compile_query  # lazily: query pulls in more than config needs

    try:
        compiled = compile_query(query)
    except QueryError as exc:
        raise check.error(f"watch '{name}': bad query: {exc}", p + ("query",)) from None

    to = check.emails(t, "to", p, ()) or mail.to
    if not to:
        raise check.error(f"watch '{name}' has no recipients: set 'to' here or in [mail]", p)

    outlets = check.strings(t, "outlets", p, single_ok=True) or None
    for i, outlet_id in enumerate(outlets or ()):
        if outlet_id not in outlet_ids:
            what = f"watch '{name}' names unknown outlet '{outlet_id}'"
            close = difflib.get_close_matches(outlet_id, list(outlet_ids), n=1)
            if close:
                what += f" (did you mean '{close[0]}'?)"
            where = p + ("outlets", i) if isinstance(t["outlets"], list) else p + ("outlets",)
            raise check.error(what, where)

    # A digest schedule on its own implies digest mode.
    mode = check.choice(t, "mode", p, MODES, "digest" if "digest" in t else "immediate")
    digest = check.cron(t, "digest", p, None, timezone)
    if mode == "digest" and digest is None:
        raise check.error(f"watch '{name}' has mode = \"digest\" but no 'digest' schedule "
                          "(a cron expression such as \"0 8 * * 1-5\")", p + ("mode",))
    if mode == "immediate" and digest is not None:
        raise check.error(f"watch '{name}' has a 'digest' schedule but mode = \"immediate\"",
                          p + ("digest",))
    send_empty = check.get(t, "send_empty", p, "boolean", False)
    alert_max_age = check.duration(t, "alert_max_age", p, defaults.alert_max_age)
    max_stories = check.get(t, "max_stories", p, "integer", defaults.max_stories)
    check.positive(max_stories, "max_stories", p)
    return Watch(name=name, query=query, compiled=compiled, to=to, outlets=outlets, mode=mode,
                 digest=digest, send_empty=send_empty, alert_max_age=alert_max_age,
                 max_stories=max_stories)
