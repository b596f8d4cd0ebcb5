"""A message's stories grouped by story thread: one grouping for every channel, the email
(`newswatch.mail.render`) and the chat message (`newswatch.channels.render`), so both show
the same blocks in the same order."""

from __future__ import annotations

from typing import Any, Callable, Hashable, Sequence, TypeVar

T = TypeVar("T")

OUTLETS_SHOWN = 4  # outlets named in a thread's line; the rest are an ellipsis


def thread_groups(items: Sequence[T],
                  thread_of: Callable[[T], tuple[Hashable | None, bool, Any]]) -> list[dict]:
    """`items` (newest story first, coverage after) grouped by thread: groups in the order of
    their first item (so of their newest story), each {"thread": that item, "reports": the
    new stories, "coverage": the later reports of a thread already alerted}, both oldest
    first, so the thread's first report leads. `thread_of(item)` -> (thread id or None for
    a story without thread: a group of its own; coverage; sort key, oldest first)."""
    groups: dict = {}
    keys: dict[int, Any] = {}
    for n, item in enumerate(items):
        tid, coverage, when = thread_of(item)
        keys[n] = when
        g = groups.setdefault(tid if tid is not None else ("story", n),
                              {"thread": item, "reports": [], "coverage": []})
        g["coverage" if coverage else "reports"].append((n, item))
    out = []
    for g in groups.values():
        out.append({"thread": g["thread"],
                    "reports": [it for n, it in sorted(g["reports"], key=lambda p: keys[p[0]])],
                    "coverage": [it for n, it in sorted(g["coverage"],
                                                         key=lambda p: keys[p[0]])]})
    return out


def outlets_shown(outlets: Sequence[str], ellipsis: str = "...") -> str:
    """The first outlets of a thread, comma-separated, `ellipsis` for the rest."""
    names = [o for o in dict.fromkeys(outlets) if o]
    return ", ".join(names[:OUTLETS_SHOWN] + ([ellipsis] if len(names) > OUTLETS_SHOWN else []))
