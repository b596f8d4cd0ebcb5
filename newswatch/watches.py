"""Which watches run: the config's, then the ones created in the web view (stored in the
database), merged in one place so the crawl, the alert queue, `explain` and the web view
agree.

A stored watch takes its defaults from the config (recipients from [mail] to, alert_max_age
and max_stories from [defaults]); a config watch of the same name wins (the stored one is
shown as shadowed). A paused stored watch matches nothing, and its pending alerts wait.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from . import clock
from .config.model import Watch
from .errors import QueryError, UsageError

NAME_MAX = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@functools.lru_cache(maxsize=4096)
def _compiled(query: str, aliases: tuple = ()):
    """`query` compiled with the config's [[aliases]] (`Config.aliases`, hashable pairs),
    as config watches are: `@"Kim Jong Un"` means the same in a browser-made watch."""
    from .query import compile_query

    return compile_query(query, aliases=dict(aliases))


def _stored_rows(store) -> list[dict]:
    read = getattr(store, "stored_watches", None)  # a backend without the web's table
    return read() if read is not None else []


def _json_list(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    items = tuple(json.loads(value))
    return items or None


def to_watch(row: dict, config) -> Watch | None:
    """The Watch a stored row stands for (None if its query no longer compiles)."""
    key = (row["name"], row["query"], row["recipients"], row["outlets"],
           tuple(config.mail.to), config.defaults.alert_max_age, config.defaults.max_stories,
           config.aliases)
    if key in _made:
        return _made[key]
    watch = _make(row, config)
    if len(_made) > 8192:  # bounded: edits make new keys
        _made.clear()
    _made[key] = watch
    return watch


_made: dict[tuple, Watch | None] = {}


def _make(row: dict, config) -> Watch | None:
    try:
        compiled = _compiled(row["query"], config.aliases)
    except QueryError:
        return None
    return Watch(name=row["name"], query=row["query"], compiled=compiled,
                 to=_json_list(row["recipients"]) or tuple(config.mail.to),
                 outlets=_json_list(row["outlets"]), mode="immediate",
                 alert_max_age=config.defaults.alert_max_age,
                 max_stories=config.defaults.max_stories)


def active_watches(config, store) -> tuple[Watch, ...]:
    """The config's watches, then every stored watch that is not paused or shadowed."""
    watches = list(config.watches)
    names = {w.name for w in watches}
    for row in _stored_rows(store):
        if row["paused"] or row["name"] in names:
            continue
        watch = to_watch(row, config)
        if watch is not None:
            watches.append(watch)
            names.add(watch.name)
    return tuple(watches)


def known_watch_names(config, store) -> list[str]:
    """Names whose pending alerts stay pending: config watches and every stored watch,
    paused ones included."""
    return [w.name for w in config.watches] + [r["name"] for r in _stored_rows(store)]


@dataclass(frozen=True)
class WatchForm:
    """A stored watch as the web form submits it, checked."""

    name: str
    query: str
    outlets: tuple[str, ...]
    recipients: tuple[str, ...]

    def columns(self) -> dict:
        return {"name": self.name, "query": self.query,
                "outlets": json.dumps(list(self.outlets)) if self.outlets else None,
                "recipients": json.dumps(list(self.recipients)) if self.recipients else None}


def check_form(config, store, *, name: str, query: str, outlets, recipients: str,
               watch_id: int | None = None) -> WatchForm:
    """Validate what the form sent; UsageError or QueryError says what is wrong."""
    name = " ".join((name or "").split())
    if not name:
        raise UsageError("give the watch a name")
    if len(name) > NAME_MAX:
        raise UsageError(f"a watch name has at most {NAME_MAX} characters")
    if any(w.name == name for w in config.watches):
        raise UsageError(f"the config already has a watch named {name!r}")
    for row in _stored_rows(store):
        if row["name"] == name and row["id"] != watch_id:
            raise UsageError(f"there is already a watch named {name!r}")
    _compiled(query, config.aliases)  # raises QueryError with the position
    known = {o.id for o in config.outlets}
    picked = tuple(dict.fromkeys(o for o in outlets if o))
    unknown = [o for o in picked if o not in known]
    if unknown:
        raise UsageError(f"unknown outlet {unknown[0]!r}")
    to = tuple(dict.fromkeys(a for a in re.split(r"[\s,;]+", recipients or "") if a))
    bad = [a for a in to if not _EMAIL.match(a)]
    if bad:
        raise UsageError(f"{bad[0]!r} is not an email address")
    if not to and not config.mail.to:
        raise UsageError("give recipients: the config's [mail] has no 'to'")
    return WatchForm(name=name, query=query, outlets=picked, recipients=to)


def create(store, form: WatchForm) -> int:
    return store.create_stored_watch(**form.columns(), now=clock.now_iso())


def update(store, watch_id: int, form: WatchForm) -> bool:
    return store.update_stored_watch(watch_id, **form.columns(), now=clock.now_iso())
