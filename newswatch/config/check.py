"""Typed getters over parsed TOML tables that raise ConfigError at the offending line.

`Section` reads a table's keys through their entries in `fields.FIELDS`: the kind picks
the getter, the entry gives the default and the range.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Any, Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2

from ..errors import ConfigError
from .cron import cron_trigger
from .fields import CONFIG_KEYS, REQUIRED, SECTIONS, Derived, Field, Inherit, field
from .locate import Locator
from .model import re2_options
from .units import parse_duration, parse_size

_ADDR = r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ADDR}|[^<>@]*<{_ADDR}>")
_OUTLET_ID = re.compile(r"[a-z0-9_-]+")


def describe(value: Any) -> str:
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


_MISSING = object()


class Checker:
    """Typed getters that raise ConfigError at the offending line."""

    def __init__(self, file: str, locator: Locator):
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
            raise self.error(f"'{key}' must be a table ([{key}]), got {describe(value)}",
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
            raise self.error(f"'{key}' must be {article} {kind}, got {describe(value)}",
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
            raise self.error(f"'{key}' must be an array of strings, got {describe(value)}",
                             path + (key,))
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(
                    f"'{key}' must be an array of strings, but item {i + 1} is {describe(item)}",
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


    # -- kinds of fields.KINDS that need more than a type check

    def tables(self, data: dict, key: str) -> list[dict]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(f"'{key}' must be an array of tables ([[{key}]] sections), "
                             f"got {describe(value)}", (key,))
        return value

    def urls(self, table: dict, key: str, path: tuple) -> tuple[str, ...]:
        urls = self.strings(table, key, path)
        for i, url in enumerate(urls):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
                raise self.error(f"'{key}' entries must be http(s) URLs, got {url!r}",
                                 path + (key, i))
        return urls

    def regex(self, table: dict, key: str, path: tuple, default: Any) -> str:
        pattern = self.get(table, key, path, "string", default)
        try:
            re2.compile(pattern, re2_options())
        except re2.error as exc:
            reason = exc.args[0] if exc.args else str(exc)
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            try:
                re.compile(pattern)
            except re.error:
                what = f"'{key}' is not a valid regular expression: {reason}"
            else:
                what = (f"'{key}' uses a feature RE2 cannot run ({reason}); linear-time "
                        "RE2 syntax is required: no backreferences or lookarounds")
            raise self.error(what, path + (key,)) from None
        return pattern

    def selectors(self, table: dict, key: str, path: tuple) -> tuple[str, ...]:
        from cssselect import GenericTranslator, SelectorError

        selectors = self.strings(table, key, path)
        translator = GenericTranslator()
        for i, selector in enumerate(selectors):
            try:
                translator.css_to_xpath(selector)
            except SelectorError as exc:
                raise self.error(f"'{key}' entry {selector!r} is not a CSS selector: {exc}",
                                 path + (key, i)) from None
        return selectors

    def size(self, table: dict, key: str, path: tuple, default: int) -> int:
        if key not in table:
            return default
        value = table[key]
        size = parse_size(value)
        if size is None or size <= 0:
            raise self.error(f"'{key}' must be a size such as \"10MB\", \"512KB\" or a "
                             f"number of bytes, got {value!r}", path + (key,))
        return size

    def value(self, table: dict, f: Field, path: tuple, default: Any, timezone: str,
              where: str = "") -> Any:
        """One key read as its field entry says."""
        key, kind = f.name, f.kind
        if kind in ("string", "path", "id", "email", "query"):
            value = self.get(table, key, path, "string", default, where)
            if kind == "id" and not _OUTLET_ID.fullmatch(value):
                raise self.error(f"outlet id {value!r} may contain only a-z, 0-9, '_' and '-'",
                                 path + (key,))
            if kind == "email" and value is not None:
                self.email(value, key, path + (key,))
            if kind == "query" and not value.strip():
                raise self.error(f"{where}: '{key}' must not be empty", path + (key,))
            return value
        if kind == "integer":
            value = self.get(table, key, path, "integer", default, where)
            if f.maximum is not None and not f.minimum <= value <= f.maximum:
                raise self.error(f"'{key}' must be between {f.minimum} and {f.maximum}, "
                                 f"got {value}", path + (key,))
            if f.minimum is not None:
                self.positive(value, key, path, minimum=f.minimum)
            return value
        if kind == "seconds":
            value = self.get(table, key, path, "number", default, where)
            if value <= 0:
                raise self.error(f"'{key}' must be more than 0 seconds, got {value:g}",
                                 path + (key,))
            return value
        if kind == "boolean":
            return self.get(table, key, path, "boolean", default, where)
        if kind == "emails":
            return self.emails(table, key, path, default)
        if kind == "outlet_ids":
            return self.strings(table, key, path, default, single_ok=True)
        if kind == "strings":
            return self.strings(table, key, path, default)
        if kind == "duration":
            return self.duration(table, key, path, default)
        if kind == "cron":
            return self.cron(table, key, path, default, timezone)
        if kind == "timezone":
            return self.timezone(table, key, path, default)
        if kind == "choice":
            return self.choice(table, key, path, f.choices, default)
        readers = {"size": self.size, "regex": self.regex}
        if kind in readers:
            return readers[kind](table, key, path, default)
        if kind == "urls":
            return self.urls(table, key, path)
        if kind == "selectors":
            return self.selectors(table, key, path)
        if kind in ("notify", "webhooks"):
            from .channels import read_targets

            return read_targets(self, table, key, path, kind, default, describe)
        if kind == "table":
            return self.table(table, key, path)
        if kind == "tables":
            return self.tables(table, key)
        raise AssertionError(f"{f.key}: unknown kind {kind!r}")


def _as_value(f: Field, written: Any) -> Any:
    """A default as written in TOML (fields.FIELDS) as the loader returns it."""
    if f.kind == "duration":
        return parse_duration(written)
    if f.kind == "size":
        return parse_size(written)
    if f.kind == "seconds":
        return float(written)
    if isinstance(written, list) and f.kind != "tables":
        return tuple(written)
    return written


class Section:
    """One table's keys, read through their field entries. Unknown keys are refused on
    creation; `done()` checks that the loader read every declared key."""

    def __init__(self, check: Checker, section: str, table: dict, path: tuple, *,
                 timezone: str = "UTC", inherited: dict[str, Any] | None = None):
        self.check, self.section, self.table, self.path = check, section, table, path
        self.timezone = timezone
        self.inherited = inherited or {}
        self.seen: set[str] = set()
        check.keys(table, CONFIG_KEYS[section], path, SECTIONS[section])

    def __call__(self, name: str, *, default: Any = _MISSING, where: str = "") -> Any:
        f = field(self.section, name)
        self.seen.add(name)
        if default is _MISSING:
            default = self._default(f)
        return self.check.value(self.table, f, self.path, default, self.timezone, where)

    def _default(self, f: Field) -> Any:
        if f.default is REQUIRED:
            return _MISSING
        if isinstance(f.default, Inherit):
            return self.inherited[f.default.source]
        if isinstance(f.default, Derived):
            raise AssertionError(f"{f.key}: the loader must pass the derived default")
        return _as_value(f, f.default)

    def done(self) -> None:
        unread = set(CONFIG_KEYS[self.section]) - self.seen
        assert not unread, f"{SECTIONS[self.section]}: declared but never read: {sorted(unread)}"
