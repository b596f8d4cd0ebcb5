"""Per-article cost of the store's write path on SQLite and on PostgreSQL, same run.

    python bench/store_backends.py                 # 1,000 articles, batches of 50
    NEWSWATCH_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/test python bench/store_backends.py

Synthetic ~500-word articles (10 % near-duplicate copies) go through the real batch writer
(`newswatch.store.batch.ArticleStore`: identity lock, exact and near-duplicate checks, insert,
bands, template learning, fetch log; the in-memory matcher is left out) into a fresh
SQLite file and, when NEWSWATCH_BENCH_POSTGRES (or NEWSWATCH_TEST_POSTGRES) names a server,
into a fresh schema there (dropped after). Prints ms per article for each and the ratio.
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
            "sketch": sketches[i], "blocks": {}, "aliases": ()})
        if len(arts.buffer) >= batch:
            arts.flush()
    arts.flush()
    elapsed = time.perf_counter() - start
    assert writes.fatal is None, writes.fatal
    store.close()
    return elapsed * 1000 / len(bodies)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=50)
    args = ap.parse_args()
    bodies = texts(args.articles)
    dedup.sketch(bodies[0])  # imports and the MinHash template, outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_ms = run(Path(tmp) / "bench.db", bodies, args.batch)
    print(f"sqlite:     {sqlite_ms:.2f} ms/article")
    url = os.environ.get("NEWSWATCH_BENCH_POSTGRES") or os.environ.get("NEWSWATCH_TEST_POSTGRES")
    if not url:
        print("postgresql: skipped (set NEWSWATCH_BENCH_POSTGRES)")
        return 0
    import psycopg

    schema = f"nwbench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in url else "?"
            pg_ms = run(f"{url}{sep}options=-csearch_path%3D{schema}", bodies, args.batch)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"postgresql: {pg_ms:.2f} ms/article")
    print(f"ratio:      {pg_ms / sqlite_ms:.2f}x (PostgreSQL / SQLite, store write path)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
