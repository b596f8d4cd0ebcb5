"""Story threads in the product: every stored original joins a thread (newswatch.threads)
inside the pass's write transaction; copies follow their original's thread; emails learn
which thread each story belongs to.

The ThreadIndex lives in memory for the whole pass and is loaded from the store once;
each batch writes only the rows it changed. Another process (a pass over other outlets)
may have saved since: the state carries a version, checked while the batch holds the write
lock, and a stale copy is reloaded before assigning.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import timedelta

import numpy as np

from . import clock
from .threads import FIELDS, Doc, ThreadIndex


def _ts(article: dict) -> float:
    for key in ("published", "first_seen"):
        value = article.get(key)
        if value:
            try:
                return clock.parse_iso(value).timestamp()
            except ValueError:
                continue
    return clock.now().timestamp()


class Storylines:
    """The pass's thread index. `assign(article_ids)` threads the batch's new articles."""

    def __init__(self, store, config=None):
        threads = getattr(config, "threads", None)
        self.store = store
        self.enabled = threads.enabled if threads is not None else True
        window = threads.window if threads is not None else timedelta(hours=72)
        self.window_hours = window.total_seconds() / 3600.0
        self.index: ThreadIndex | None = None
        self.version = -1

    # -- state -------------------------------------------------------------------------

    def _load(self) -> None:
        rows = self.store.thread_state()
        meta = dict(rows["meta"])
        self.version = int(meta.get("version") or 0)
        rows["meta"] = [(k, v) for k, v in rows["meta"] if k != "clock" or v is not None]
        self.index = ThreadIndex.from_rows(rows, window_hours=self.window_hours)
        self._snapshot()

    def _snapshot(self) -> None:
        index = self.index
        self._df = index.df.counts.copy()
        self._n = index.df.n
        self._threads = {tid: (t.first, t.last, t.size) for tid, t in index.threads.items()}
        # a thread's term rows by field (_Thread.slots): the members and bars included, which
        # the complete-link and cohesion bars read after a reload
        self._terms = {tid: t.slots() for tid, t in index.threads.items()}

    def _save(self, touched: set) -> None:
        """Write the rows that changed since the snapshot (the threads in `touched`, the
        expired ones, the document-frequency buckets that moved)."""
        index = self.index
        gone = [tid for tid in self._threads if tid not in index.threads]
        threads, terms, dropped = [], [], []
        slots: dict = {}
        # A store that keeps each slot whole (PostgreSQL) needs only the fields that went.
        whole = getattr(self.store, "saves_thread_slots_whole", False)
        for tid in touched:
            t = index.threads.get(tid)
            if t is None:
                continue
            threads.append((tid, t.first, t.last, t.size))
            old, new = self._terms.get(tid, {}), t.slots()
            slots[tid] = new
            if whole:
                dropped += [(tid, f, None) for f in old.keys() - new.keys()]
                continue
            for f in old.keys() | new.keys():
                before, after = old.get(f, {}), new.get(f, {})
                terms += [(tid, f, term, w) for term, w in after.items()
                          if before.get(term) != w]
                dropped += [(tid, f, term) for term in before if term not in after]
        moved = np.flatnonzero(index.df.counts != self._df)
        df = [(int(b), int(index.df.counts[b] - self._df[b])) for b in moved]
        meta = {"n_docs": index.df.n, "version": self.version + 1}
        if math.isfinite(index.clock):
            meta["clock"] = index.clock
        self.store.save_thread_state(meta=meta, threads=threads, gone=gone, terms=terms,
                                     dropped=dropped, df=df, slots=slots)
        self.version += 1
        for tid in gone:
            self._threads.pop(tid, None)
            self._terms.pop(tid, None)
        for tid in touched:
            t = index.threads.get(tid)
            if t is not None:
                self._threads[tid] = (t.first, t.last, t.size)
                self._terms[tid] = slots[tid]
        self._df[moved] = index.df.counts[moved]

    # -- assignment --------------------------------------------------------------------

    def assign(self, article_ids) -> None:
        """Thread the articles of a batch that have no thread yet. Caller holds the batch's
        transaction (after its inserts, so it holds the write lock)."""
        if not self.enabled:
            return
        rows = self.store.unthreaded_articles([i for i in article_ids if i is not None])
        if not rows:
            return
        if self.index is None or self.store.thread_state_version() != self.version:
            self._load()
        index = self.index
        now = clock.now().timestamp()
        originals = sorted((r for r in rows if r["duplicate_of"] is None),
                           key=lambda r: (min(_ts(r), now), r["id"]))
        touched: set = set()
        decided: list[tuple] = []  # written at once: on a server one statement, not 50
        for r in originals:
            ts = min(_ts(r), now)  # a date in the future must not expire the window
            if ts < index.clock - index.window:
                # Older than every active thread: its event's thread has expired.
                decided.append((r["id"], r["id"], json.dumps(
                    {"new": True, "score": 0.0, "older_than_window": True})))
                continue
            decision = index.assign(Doc(r["id"], r["title"], r["text"], ts))
            touched.add(decision.thread_id)
            reasons = {"new": decision.new, "score": decision.score, **decision.reasons}
            decided.append((r["id"], decision.thread_id, json.dumps(reasons, default=str)))
        # A copy's original may be in this batch: its thread is decided above.
        batch = {article_id: tid for article_id, tid, _ in decided}
        threads = self.store.article_threads([r["duplicate_of"] for r in rows
                                              if r["duplicate_of"] is not None])
        for r in rows:
            if r["duplicate_of"] is not None:
                tid = (r["original_thread"] or batch.get(r["duplicate_of"])
                       or threads.get(r["duplicate_of"]))
                if tid is not None:
                    decided.append((r["id"], tid, None))
        self.store.set_article_threads(decided)
        self._save(touched)


# -- emails ------------------------------------------------------------------------------

def _outlet_name(config, outlet_id: str) -> str:
    outlet = config.outlet(outlet_id) if hasattr(config, "outlet") else None
    return outlet.name if outlet is not None else outlet_id


def email_stories(store, config, watch, stories: list, message_id: str) -> list:
    """The email's stories with their threads filled in, plus (for `alert = "thread"`)
    the later reports of alerted threads not listed yet, as more coverage (recorded as
    listed in this email: caller holds the transaction)."""
    from .mail import Story

    stories = list(stories)
    if getattr(watch, "alert", "story") == "thread":
        cover = store.unlisted_coverage(watch.name)
        stories += [Story(url=c["url"], title=c["title"],
                          outlet=_outlet_name(config, c["outlet"]), published=c["published"],
                          first_seen=c["first_seen"], id=c["id"], coverage=True)
                    for c in cover]
        store.mark_coverage_listed([c["alert_id"] for c in cover], message_id)
    tids = store.article_threads([s.id for s in stories if s.id is not None])
    counts = store.thread_counts(tids.values())
    out = []
    for s in stories:
        tid = tids.get(s.id)
        info = counts.get(tid)
        if info is None:
            out.append(s)
            continue
        out.append(dataclasses.replace(
            s, thread_id=tid, thread_title=info.get("title"),
            thread_reports=info["reports"],
            thread_outlets=[_outlet_name(config, o) for o in info["outlets"]]))
    return out


# -- explain -----------------------------------------------------------------------------

def explain_lines(store, config, article_id: int) -> list[str]:
    """`explain` lines: the article's thread (first report, reports, outlets) and why it
    joined (the decision's scores and shared terms)."""
    row = store.article_thread(article_id)
    if not row or row["thread_id"] is None:
        return ["thread:     none (stored before story threads, or threads are disabled)"]
    tid = row["thread_id"]
    info = store.thread_counts([tid]).get(tid, {"reports": 1, "outlets": [], "title": None})
    outlets = ", ".join(_outlet_name(config, o) for o in info["outlets"])
    n = info["reports"]
    lines = [f"thread:     {tid} \"{info.get('title') or '(untitled)'}\": {n} "
             f"report{'s' if n != 1 else ''}" + (f" ({outlets})" if outlets else "")]
    why = json.loads(row["thread_reasons"]) if row["thread_reasons"] else None
    if why is None:
        lines.append("            joined as a copy of its original (duplicate_of)")
        return lines
    # "cross": its title against the thread's leads or its lead against the titles (one
    # outlet's headline is often in another's first paragraph); "member" and "member_min":
    # its body against the closest and the farthest of the thread's last reports
    scores = ", ".join(f"{f} {why[f]}" for f in (*FIELDS, "cross", "member", "member_min",
                                                 "hours")
                       if f in why)
    shared = ", ".join(why.get("shared") or [])
    if why.get("older_than_window"):
        lines.append("            started it: published before every active thread's window")
    elif why.get("new"):
        line = f"            started it: no active thread scored high enough ({why.get('compared', 0)} compared"
        if "nearest" in why:
            line += (f"; nearest: thread {why['nearest']} at "
                     f"{why.get('vetoed_score', why['nearest_score'])}")
            kept = [text for key, text in (
                ("conflict", "it names other people and places"),
                ("below_member_floor", "far from one of its last reports (member_min)"),
                ("below_thread_score", "below the score its reports joined with "
                                       f"({why.get('thread_score_bar')})"),
                ("below_thread_cohesion", "further from its last reports than they are from "
                                          f"one another (member_min under "
                                          f"{why.get('thread_member_bar')})")) if why.get(key)]
            if kept:
                line += ", kept out: " + "; ".join(kept)
        lines.append(line + ")")
    else:
        lines.append(f"            joined with score {why.get('score')} "
                     f"({why.get('compared', 0)} threads compared)")
    if scores:
        lines.append(f"            similarity: {scores}")
    if shared:
        lines.append(f"            shared terms: {shared}")
    return lines
