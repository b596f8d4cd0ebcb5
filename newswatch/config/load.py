"""Finding and loading the config file: the whole file is checked before anything runs."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import re2

from ..errors import ConfigError, QueryError
from .check import Checker, describe
from .locate import Locator
from .model import (PASSWORD_ENV, Config, CrawlConfig, Defaults, MailConfig, Outlet, Watch,
                    re2_options)
from .units import parse_size

CONFIG_ENV = "NEWSWATCH_CONFIG"
DEFAULT_CONFIG_NAME = "newswatch.toml"

SECURITY_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
MODES = ("immediate", "digest")
_OUTLET_ID = re.compile(r"[a-z0-9_-]+")


def _resolve(folder: Path, value: str) -> Path:
    return folder / Path(value).expanduser()



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
    check = Checker(file, Locator(text))
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


def _build(data: dict, check: Checker, path: Path) -> Config:
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


def _array_of_tables(check: Checker, data: dict, key: str) -> list[dict]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise check.error(f"'{key}' must be an array of tables ([[{key}]] sections), "
                          f"got {describe(value)}", (key,))
    return value


def _mail(check: Checker, t: dict, folder: Path, has_watches: bool,
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


def _defaults(check: Checker, t: dict, timezone: str) -> Defaults:
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


def _crawl(check: Checker, t: dict) -> CrawlConfig:
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


def _url_list(check: Checker, t: dict, key: str, p: tuple) -> tuple[str, ...]:
    urls = check.strings(t, key, p)
    for i, url in enumerate(urls):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            raise check.error(f"'{key}' entries must be http(s) URLs, got {url!r}",
                              p + (key, i))
    return urls


def _article_pattern(check: Checker, pattern: str, p: tuple) -> None:
    try:
        re2.compile(pattern, re2_options())
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


def _css_selectors(check: Checker, selectors: tuple[str, ...], p: tuple) -> None:
    from cssselect import GenericTranslator, SelectorError

    translator = GenericTranslator()
    for i, selector in enumerate(selectors):
        try:
            translator.css_to_xpath(selector)
        except SelectorError as exc:
            raise check.error(f"'drop' entry {selector!r} is not a CSS selector: {exc}",
                              p + ("drop", i)) from None


def _outlet(check: Checker, t: dict, p: tuple, defaults: Defaults, timezone: str) -> Outlet:
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


def _watch(check: Checker, t: dict, p: tuple, defaults: Defaults, mail: MailConfig,
           outlet_ids: dict[str, int], timezone: str) -> Watch:
    check.keys(t, _WATCH_KEYS, p, "[[watches]]")
    name = check.get(t, "name", p, "string", where="[[watches]]")
    if not name.strip():
        raise check.error("watch 'name' must not be empty", p + ("name",))
    query = check.get(t, "query", p, "string", where=f"watch '{name}'")
    if not query.strip():
        raise check.error(f"watch '{name}': 'query' must not be empty", p + ("query",))
    from ..query import compile_query  # lazily: query pulls in more than config needs

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
