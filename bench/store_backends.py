"""Per-article cost of the store's write path on SQLite and on PostgreSQL, same run.

    python bench/store_backends.py                 # 1,000 articles, batches of 50, 3 rounds
    NEWSWATCH_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/test python bench/store_backends.py

Synthetic ~500-word articles (10 % near-duplicate copies) go through the real batch writer
(`newswatch.store.batch.ArticleStore`: identity lock, exact and near-duplicate checks, insert,
bands, template learning, fetch log, folded index, story threads; the in-memory matcher is
left out; the sketches and folded index entries are the extraction workers' work, made
beforehand as in a pass) into a fresh SQLite file and, when NEWSWATCH_BENCH_POSTGRES (or
NEWSWATCH_TEST_POSTGRES) names a server, into a fresh schema there (dropped after), the two backends alternating for `--repeat`
rounds. Prints ms per article for each (the median of the rounds) and the ratio.
No crawling and no extraction: this is the store's share of a pass only.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswatch import clock, dedup  # noqa: E402
from newswatch.query.entry import archive_entry  # noqa: E402
from newswatch.store import open_db  # noqa: E402
from newswatch.store.batch import ArticleStore, WritePath  # noqa: E402

WORDS = ("minister talks border trade agreement officials capital delegation statement "
         "government council election parliament budget harbour railway province summit "
         "treaty envoy ceasefire reporters morning evening week university exchange").split()


def texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        if out and rng.random() < 0.1:
            base = rng.choice(out).split()
            base[rng.randrange(len(base))] = "changed"
            out.append(" ".join(base))
        else:
            out.append(" ".join(rng.choice(WORDS) + (str(rng.randrange(50)) if
                                                      rng.random() < 0.3 else "")
                                for _ in range(500)) + f" story{i}")
    return out


def run(target, bodies: list[str], batch: int) -> float:
    sketches = [dedup.sketch(text) for text in bodies]  # the pipeline's work, not the store's
    store = open_db(target)
    # the extraction workers' too: each page's folded index entry, for this backend
    folded = [archive_entry(f"Story {i}", text, store.backend) for i, text in enumerate(bodies)]
    writes = WritePath(store)
    # Matching is the in-memory FTS5 matcher on both backends: left out, it costs the same.
    arts = ArticleStore(store, writes, {}, match=lambda s: 0)
    start = time.perf_counter()
    for i, text in enumerate(bodies):
        url = f"https://o{i % 20}.example/news/{i}"
        arts.buffer.append({
            "url": url, "outlet": f"o{i % 20}", "fetched": clock.now_iso(),
            "fetched_url": url, "status": 200, "content_hash": dedup.content_hash(text),
            "article": SimpleNamespace(title=f"Story {i}", author=None, published=None,
                                       date_source="first_seen", language="en", text=text,
                                       paragraphs=[text]),
            "sketch": sketches[i], "folded": folded[i], "blocks": {}, "aliases": ()})
        if len(arts.buffer) >= batch:
            arts.flush()
    arts.flush()
    elapsed = time.perf_counter() - start
    assert writes.fatal is None, writes.fatal
    store.close()
    return elapsed * 1000 / len(bodies)


def pg_target(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def compare(bodies: list[str], batch: int, url: str | None, repeat: int) -> dict:
    """SQLite and PostgreSQL `repeat` times, alternating (a busy machine slows both alike
    within a round); ms/article of each round and the median of each, fresh stores each."""
    import statistics

    sqlite_ms, pg_ms = [], []
    admin = None
    if url:
        import psycopg

        admin = psycopg.connect(url, autocommit=True)
        admin.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    try:
        for r in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                sqlite_ms.append(run(Path(tmp) / "bench.db", bodies, batch))
            if admin is not None:
                schema = f"nwbench_{os.getpid()}_{r}"
                admin.execute(f'CREATE SCHEMA "{schema}"')
                try:
                    pg_ms.append(run(pg_target(url, schema), bodies, batch))
                finally:
                    admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        if admin is not None:
            admin.close()
    out = {"sqlite": sqlite_ms, "sqlite_median": statistics.median(sqlite_ms)}
    if pg_ms:
        out.update(postgresql=pg_ms, postgresql_median=statistics.median(pg_ms))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of both backends (median)")
    args = ap.parse_args()
    bodies = texts(args.articles)
    dedup.sketch(bodies[0])  # imports and the MinHash template, outside the timings
    url = os.environ.get("NEWSWATCH_BENCH_POSTGRES") or os.environ.get("NEWSWATCH_TEST_POSTGRES")
    r = compare(bodies, args.batch, url, args.repeat)
    rounds = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    print(f"sqlite:     {r['sqlite_median']:.2f} ms/article (rounds: {rounds(r['sqlite'])})")
    if not url:
        print("postgresql: skipped (set NEWSWATCH_BENCH_POSTGRES)")
        return 0
    print(f"postgresql: {r['postgresql_median']:.2f} ms/article "
          f"(rounds: {rounds(r['postgresql'])})")
    print(f"ratio:      {r['postgresql_median'] / r['sqlite_median']:.2f}x "
          "(PostgreSQL / SQLite medians, store write path)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
