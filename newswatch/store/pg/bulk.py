"""Bulk writes on PostgreSQL: one statement over arrays (`unnest`) where SQLite runs one
statement per row. On SQLite a statement is a function call; on a server it is a round
trip and a parse, and a pass writes thousands of thread-state rows (bench/store_backends.py).

An upsert over arrays must not name one key twice (PostgreSQL refuses to update a row twice
in one statement), so each set is keyed first, the last row of a key winning as it did
when the rows were written one by one."""

from __future__ import annotations

import json
from typing import Sequence

from .base import text_array


def int_array(values) -> str:
    """An integer array as one text literal (`%s::integer[]`): psycopg dumps a list
    element by element in Python, and a batch's document frequencies are thousands."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


def bytea_array(values) -> str:
    """A bytea array as one text literal (hex elements), for the same reason."""
    return "{" + ",".join(['"\\\\x' + bytes(v).hex() + '"' for v in values]) + "}"


def _last_per_key(rows: Sequence[tuple], width: int) -> list[tuple]:
    return list({tuple(r[:width]): tuple(r) for r in rows}.values())


def _columns(rows: Sequence[tuple], *types) -> list[list]:
    """One list per column, each value as its column's type (psycopg dumps an array
    of one Python type only: a weight may come as 1 or as 0.5)."""
    return [[t(r[i]) for r in rows] for i, t in enumerate(types)]


class PgBulk:
    saves_thread_slots_whole = True  # save_thread_state reads `slots`, not the term changes

    def set_article_threads(self, rows: Sequence[tuple[int, int, str | None]]) -> None:
        """As the SQLite store's, in one statement."""
        if rows:
            rows = _last_per_key(rows, 1)
            self.conn.execute(
                "UPDATE articles a SET thread_id = r.thread_id, thread_reasons = r.reasons "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS r(id, thread_id, reasons) "
                "WHERE a.id = r.id",
                [[int(r[0]) for r in rows], [int(r[1]) for r in rows],
                 text_array(r[2] for r in rows)])

    def thread_terms(self) -> list[tuple]:
        """As the SQLite store's: the rows read out of the slots (m014)."""
        return [(tid, field, term, weight)
                for tid, field, terms in self.conn.execute(
                    "SELECT thread_id, field, terms FROM thread_slots").fetchall()
                for term, weight in json.loads(terms).items()]

    def save_thread_state(self, *, meta: dict[str, float], threads: Sequence[tuple],
                          gone: Sequence[int], terms: Sequence[tuple],
                          dropped: Sequence[tuple], df: Sequence[tuple],
                          slots: dict | None = None) -> None:
        """As the SQLite store's, in six statements at most; the touched threads' `slots`
        (thread -> field -> term -> weight, whole) replace their rows (m014), so `terms`
        is not read and `dropped` only tells which fields went (its term may be None)."""
        if slots is None:
            raise TypeError("the PostgreSQL store saves a thread's slots whole: pass slots=")
        run = self.conn.execute
        if meta:
            run("INSERT INTO thread_meta (key, value) SELECT * FROM "
                "unnest(%s::text[], %s::float8[]) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value", [text_array(meta), [float(v) for v in meta.values()]])
        if gone:
            ids = sorted({int(i) for i in gone})
            run("DELETE FROM thread_slots WHERE thread_id = ANY(%s::bigint[])", [ids])
            run("DELETE FROM threads WHERE id = ANY(%s::bigint[])", [ids])
        if threads:
            run("INSERT INTO threads (id, first_ts, last_ts, size) SELECT * FROM "
                "unnest(%s::bigint[], %s::float8[], %s::float8[], %s::integer[]) "
                "ON CONFLICT (id) DO UPDATE SET first_ts = excluded.first_ts, "
                "last_ts = excluded.last_ts, size = excluded.size",
                _columns(_last_per_key(threads, 1), int, float, float, int))
        rows = [(int(tid), f, json.dumps(ts, separators=(",", ":")))
                for tid, fields in slots.items() for f, ts in fields.items()]
        kept = {(r[0], r[1]) for r in rows}
        went = sorted({(int(t), f) for t, f, _ in dropped} - kept)
        if went:
            run("DELETE FROM thread_slots s USING unnest(%s::bigint[], %s::text[]) "
                "AS d(thread_id, field) WHERE s.thread_id = d.thread_id AND s.field = d.field",
                [[t for t, _ in went], text_array(f for _, f in went)])
        if rows:
            run("INSERT INTO thread_slots (thread_id, field, terms) SELECT * FROM "
                "unnest(%s::bigint[], %s::text[], %s::text[]) "
                "ON CONFLICT (thread_id, field) DO UPDATE SET terms = excluded.terms",
                [[r[0] for r in rows], text_array(r[1] for r in rows),
                 text_array(r[2] for r in rows)])
        if df:
            summed: dict[int, int] = {}
            for bucket, delta in df:
                summed[int(bucket)] = summed.get(int(bucket), 0) + int(delta)
            run("INSERT INTO thread_df (bucket, count) SELECT * FROM "
                "unnest(%s::text::integer[], %s::text::integer[]) ON CONFLICT (bucket) "
                "DO UPDATE SET count = thread_df.count + excluded.count",
                [int_array(summed), int_array(summed.values())])
