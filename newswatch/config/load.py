"""Finding and loading the config file: the whole file is checked before anything runs.

Each key is read through its entry in `fields.FIELDS` (type, default, range); what ties
several keys together is checked here, per section.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ConfigError, QueryError
from .check import Checker, Section
from .fields import SECURITY_PORTS
from .locate import Locator
from .model import (PASSWORD_ENV, ClusterConfig, Config, CrawlConfig, Defaults, MailConfig,
                    Outlet, ThreadsConfig, Watch, WebConfig)

CONFIG_ENV = "NEWSWATCH_CONFIG"
DEFAULT_CONFIG_NAME = "newswatch.toml"

def _resolve(folder: Path, value: str) -> Path:
    return folder / Path(value).expanduser()


def _database(check: Checker, folder: Path, value: str):
    """A SQLite path (relative to the config's folder) or a PostgreSQL target."""
    from ..store.target import PostgresTarget, is_postgres, sqlite_path

    if is_postgres(value):
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise check.error(f"'database': the port of {parts.netloc!r} is not a number",
                              ("database",)) from None
        return PostgresTarget(value, folder)
    if "://" in value and not value.lower().startswith("sqlite:///"):
        raise check.error(f"'database' must be a file path, sqlite:///path or a "
                          f"postgresql://user@host:5432/dbname URL, got {value!r}",
                          ("database",))
    path = sqlite_path(value)
    if not path.strip():
        raise check.error("'database' must name a file", ("database",))
    return _resolve(folder, path)


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
    top = Section(check, "", data, ())
    database = top("database")
    timezone = top("timezone")
    contact = top("contact")
    mail_table = top("mail")
    outlets_raw = top("outlets")
    watches_raw = top("watches")
    aliases_raw = top("aliases")
    defaults_table = top("defaults")
    mail = _mail(check, mail_table, folder, _emails(watches_raw, mail_table, defaults_table),
                 "mail" in data)
    defaults = _defaults(check, defaults_table, timezone)
    crawl = _crawl(check, top("crawl"))
    threads = _threads(check, top("threads"))
    web = _web(check, top("web"))
    cluster = _cluster(check, top("cluster"), database)
    top.done()

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

    aliases = _aliases(check, aliases_raw)
    watches: list[Watch] = []
    seen_names: dict[str, int] = {}
    for i, table in enumerate(watches_raw):
        watch = _watch(check, table, ("watches", i), defaults, mail, seen_ids, timezone,
                       aliases)
        if watch.name in seen_names:
            raise check.error(
                f"duplicate watch name '{watch.name}' (first used on line "
                f"{check.loc.line(('watches', seen_names[watch.name], 'name'))})",
                ("watches", i, "name"))
        seen_names[watch.name] = i
        watches.append(watch)

    return Config(path=path, database=_database(check, folder, database), timezone=timezone,
                  contact=contact, mail=mail, defaults=defaults, crawl=crawl,
                  outlets=tuple(outlets), watches=tuple(watches), threads=threads, web=web,
                  cluster=cluster, aliases=aliases)


def _aliases(check: Checker, tables: list) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """[[aliases]] entries, each checked by `names.alias_table` (with the others: a name
    given twice is an error on its second line)."""
    from ..names import AliasError, alias_table

    out: list[tuple[str, tuple[str, ...]]] = []
    for i, t in enumerate(tables):
        p = ("aliases", i)
        read = Section(check, "aliases", t, p)
        name, variants = read("name", where="[[aliases]]"), read("variants")
        read.done()
        try:
            alias_table([{"name": n, "variants": v} for n, v in out]
                        + [{"name": name, "variants": variants}])
        except AliasError as exc:
            raise check.error(str(exc), p + ("name",)) from None
        out.append((name, variants))
    return tuple(out)


def _emails(watches: list, mail: dict, defaults: dict) -> bool:
    """Whether some watch sends email (then [mail] needs `from`): one with recipients, or
    one with no other channel (it will be told it needs recipients)."""
    def channels(w) -> bool:
        return any(w.get(k, defaults.get(k)) for k in ("notify", "webhooks")
                   if isinstance(w, dict))

    return any(not isinstance(w, dict) or w.get("to") or mail.get("to") or not channels(w)
               for w in watches)


def _mail(check: Checker, t: dict, folder: Path, has_watches: bool,
          present: bool) -> MailConfig:
    p = ("mail",)
    if "password" in t:
        raise check.error(f"'password' is not read from the config file; set {PASSWORD_ENV} "
                          "in the environment instead", p + ("password",))
    read = Section(check, "mail", t, p)
    from_addr = read("from")
    to = read("to")
    smtp_host = read("smtp_host") or None
    security = read("security")
    smtp_port = read("smtp_port", default=SECURITY_PORTS[security])
    username = read("username") or None
    outbox_dir = read("outbox_dir")
    timeout = read("timeout")
    tls_verify = read("tls_verify")
    operator = read("operator")
    read.done()
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
    read = Section(check, "defaults", t, ("defaults",), timezone=timezone)
    defaults = Defaults(schedule=read("schedule"), alert_max_age=read("alert_max_age"),
                        max_stories=read("max_stories"), obey_robots=read("obey_robots"),
                        recheck=read("recheck"), notify=read("notify"),
                        webhooks=read("webhooks"))
    read.done()
    return defaults


def _crawl(check: Checker, t: dict) -> CrawlConfig:
    read = Section(check, "crawl", t, ("crawl",))
    crawl = CrawlConfig(workers=read("workers"), download_timeout=read("download_timeout"),
                        max_page_size=read("max_page_size"))
    read.done()
    return crawl


def _threads(check: Checker, t: dict) -> ThreadsConfig:
    read = Section(check, "threads", t, ("threads",))
    threads = ThreadsConfig(enabled=read("enabled"), window=read("window"))
    read.done()
    return threads


def _web(check: Checker, t: dict) -> WebConfig:
    read = Section(check, "web", t, ("web",))
    web = WebConfig(password_hash=read("password_hash") or None,
                    secure_cookies=read("secure_cookies", default=None),
                    session_hours=read("session_hours"))
    read.done()
    return web


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def _cluster(check: Checker, t: dict, database: str) -> ClusterConfig:
    read = Section(check, "cluster", t, ("cluster",))
    queue = read("queue", default=None)
    stalled_after = read("stalled_after")
    read.done()
    if queue is None and database.startswith(POSTGRES_SCHEMES):
        queue = database
    if queue is not None and not queue.startswith(POSTGRES_SCHEMES):
        raise check.error(f"[cluster] queue must be a postgresql:// URL, got {queue!r}",
                          ("cluster", "queue"))
    return ClusterConfig(queue=queue, stalled_after=stalled_after)


def _outlet(check: Checker, t: dict, p: tuple, defaults: Defaults, timezone: str) -> Outlet:
    read = Section(check, "outlets", t, p, timezone=timezone, inherited={
        "timezone": timezone, "defaults.schedule": defaults.schedule,
        "defaults.obey_robots": defaults.obey_robots})
    outlet_id = read("id", where="[[outlets]]")
    name = read("name", default=outlet_id)
    feeds, sitemaps, pages = read("feeds"), read("sitemaps"), read("pages")
    if not (feeds or sitemaps or pages):
        raise check.error(f"outlet '{outlet_id}' needs at least one of 'feeds', 'sitemaps' "
                          "or 'pages'", p)
    outlet = Outlet(id=outlet_id, name=name, feeds=feeds, sitemaps=sitemaps, pages=pages,
                    article_urls=read("article_urls"), drop=read("drop"),
                    timezone=read("timezone"), schedule=read("schedule"),
                    obey_robots=read("obey_robots"), allow_private=read("allow_private"))
    read.done()
    return outlet


def _watch(check: Checker, t: dict, p: tuple, defaults: Defaults, mail: MailConfig,
           outlet_ids: dict[str, int], timezone: str, aliases: tuple = ()) -> Watch:
    read = Section(check, "watches", t, p, timezone=timezone, inherited={
        "mail.to": mail.to, "defaults.alert_max_age": defaults.alert_max_age,
        "defaults.max_stories": defaults.max_stories, "defaults.notify": defaults.notify,
        "defaults.webhooks": defaults.webhooks})
    name = read("name", where="[[watches]]")
    if not name.strip():
        raise check.error("watch 'name' must not be empty", p + ("name",))
    query = read("query", where=f"watch '{name}'")
    from ..query import compile_query  # lazily: query pulls in more than config needs

    try:
        compiled = compile_query(query, aliases=dict(aliases))
    except QueryError as exc:
        raise check.error(f"watch '{name}': bad query: {exc}", p + ("query",)) from None

    to = read("to") or mail.to  # an empty list also means mail.to
    notify, webhooks = read("notify"), read("webhooks")
    if not (to or notify or webhooks):
        raise check.error(f"watch '{name}' has no recipients: set 'to' here or in [mail] "
                          "(or 'notify' / 'webhooks')", p)

    outlets = read("outlets", default=()) or None
    for i, outlet_id in enumerate(outlets or ()):
        if outlet_id not in outlet_ids:
            what = f"watch '{name}' names unknown outlet '{outlet_id}'"
            close = difflib.get_close_matches(outlet_id, list(outlet_ids), n=1)
            if close:
                what += f" (did you mean '{close[0]}'?)"
            where = p + ("outlets", i) if isinstance(t["outlets"], list) else p + ("outlets",)
            raise check.error(what, where)

    mode = read("mode", default="digest" if "digest" in t else "immediate")
    digest = read("digest")
    if mode == "digest" and digest is None:
        raise check.error(f"watch '{name}' has mode = \"digest\" but no 'digest' schedule "
                          "(a cron expression such as \"0 8 * * 1-5\")", p + ("mode",))
    if mode == "immediate" and digest is not None:
        raise check.error(f"watch '{name}' has a 'digest' schedule but mode = \"immediate\"",
                          p + ("digest",))
    watch = Watch(name=name, query=query, compiled=compiled, to=to, outlets=outlets, mode=mode,
                  digest=digest, send_empty=read("send_empty"),
                  alert_max_age=read("alert_max_age"), max_stories=read("max_stories"),
                  alert=read("alert"), notify=notify, webhooks=webhooks)
    read.done()
    return watch
