"""Typed getters over parsed TOML tables that raise ConfigError at the offending line."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from .cron import cron_trigger
from .locate import Locator
from .units import parse_duration

_ADDR = r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ADDR}|[^<>@]*<{_ADDR}>")


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

