"""A watch's alerted stories as a feed document (`newswatch feed`, and the web UI's feed
URL): the store's rows, the outlet's display name and the snippet, rendered by
newswatch.channels.render_feed."""

from __future__ import annotations

from .matching import find_watch
from .messages import snippet
from .queue import outlet_name


def feed_stories(store, config, watch, limit: int = 50) -> list[dict]:
    """Newest first: {url, title, outlet, published, first_seen, snippet, thread: {id,
    title} or None}."""
    rows = store.watch_feed_stories(watch.name, limit)
    titles = store.thread_counts(r["thread_id"] for r in rows)
    return [{"url": r["url"], "title": r["title"], "outlet": outlet_name(config, r["outlet"]),
             "published": r["published"], "first_seen": r["first_seen"],
             "snippet": snippet(r["text"], watch.compiled),
             "thread": ({"id": r["thread_id"], "title": titles[r["thread_id"]].get("title")}
                        if r["thread_id"] in titles else None)}
            for r in rows]


def watch_feed(store, config, name: str, *, fmt: str = "atom", limit: int = 50,
               self_url: str | None = None) -> str:
    """The feed of the watch named `name` (UsageError if there is none)."""
    from ..channels import render_feed

    watch = find_watch(config, name)
    text = render_feed(watch.name, watch.query, feed_stories(store, config, watch, limit),
                       fmt=fmt, self_url=self_url)
    return text if text.endswith("\n") else text + "\n"
