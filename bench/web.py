"""Server time of each page of the web view (`newswatch serve`) on a large store.

    python bench/web.py [--articles 100000] [--watches 1000] [--runs 30] [--dir DIR]

Generates (direct store writes, deterministic) a database of N articles over 10 outlets
and 30 days, with words from a made-up Zipf vocabulary, W browser-created watches, alerts
for about a tenth of the stories and a pass history per outlet. Then times every page
in-process through the ASGI app (Starlette's TestClient: the app's own time, no socket),
p50 and p95 over --runs requests each, and, in the same run, `newswatch search` for the
search page's query: in-process (`newswatch.query.search`) and as the command a user
runs (a new process). Target: p95 <= 200 ms per page.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newswatch import clock  # noqa: E402
from newswatch.store import open_db  # noqa: E402

SYLLABLES = "ka ro mi zu te la po ne vi sa do re gu an el or is ta ko mu li pe ba".split()
OUTLETS = [f"outlet{i}" for i in range(10)]


def vocabulary(rng: random.Random, n: int = 20000) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def generate(path: Path, articles: int, watches: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    cum = list(accumulate(1 / (i + 1) for i in range(len(vocab))))
    now = clock.now()
    store = open_db(path)
    conn = store.conn
    started = time.perf_counter()
    conn.execute("BEGIN")
    rows = []
    for i in range(1, articles + 1):
        words = rng.choices(vocab, cum_weights=cum, k=90)
        seen = clock.to_iso(now - timedelta(seconds=rng.randint(0, 30 * 86400)))
        rows.append((i, f"https://{OUTLETS[i % 10]}.example/news/{i}", OUTLETS[i % 10],
                     " ".join(words[:8]).capitalize(), "Staff", seen, "jsonld", "en",
                     ". ".join(" ".join(words[k:k + 15]) for k in range(8, 90, 15)),
                     seen, seen, f"h{i}", i - 1 if i % 50 == 0 else None, 200, 1))
        if len(rows) == 5000:
            _insert(conn, rows)
            rows = []
    _insert(conn, rows)
    common = vocab[40:400]
    for w in range(watches):
        a, b = rng.sample(common, 2)
        query = f"{a} AND {b}" if w % 3 else f'"{a} {b}" OR {rng.choice(vocab[400:2000])}'
        conn.execute("INSERT INTO web_watches (name, query, paused, created, updated) "
                     "VALUES (?, ?, 0, ?, ?)", [f"watch {w:04d}", query, clock.to_iso(now),
                                                clock.to_iso(now)])
        conn.execute("INSERT INTO watches (name, query, created, query_changed) "
                     "VALUES (?, ?, ?, ?)", [f"watch {w:04d}", query, "2000-01-01", "2000-01-01"])
    states = ["sent"] * 6 + ["skipped", "pending", "failed"]
    conn.executemany(
        "INSERT OR IGNORE INTO alerts (watch, article_id, created, state, reason) "
        "VALUES (?, ?, ?, ?, ?)",
        [(f"watch {rng.randrange(watches):04d}", rng.randint(1, articles), clock.to_iso(now),
          s, "published long ago, longer ago than alert_max_age (2d)" if s == "skipped"
          else None) for s in (rng.choice(states) for _ in range(articles // 10))])
    for outlet in OUTLETS:
        for k in range(96):
            t = now - timedelta(minutes=15 * k)
            conn.execute(
                "INSERT INTO runs (outlet, started, finished, status, pages, new_articles, "
                "duplicates, errors, ms, message, found) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [outlet, clock.to_iso(t), clock.to_iso(t + timedelta(seconds=20)), "ok", 40,
                 3, 1, 0, 20000, None, 40])
    conn.execute("COMMIT")  # no ANALYZE: newswatch never runs it on a real database
    store.close()
    return {"seconds": time.perf_counter() - started, "query": f"{common[5]} AND {common[9]}",
            "word": common[20]}


def _insert(conn, rows) -> None:
    conn.executemany(
        "INSERT INTO articles (id, url, outlet, title, author, published, date_source, "
        "language, text, first_seen, last_seen, content_hash, duplicate_of, status, matched) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def write_config(folder: Path) -> Path:
    outlets = "".join(f'[[outlets]]\nid = "{o}"\nfeeds = ["https://{o}.example/rss"]\n\n'
                      for o in OUTLETS)
    path = folder / "newswatch.toml"
    path.write_text('database = "newswatch.db"\n[mail]\nfrom = "n@example.org"\n'
                    'to = ["desk@example.org"]\noutbox_dir = "outbox"\n\n' + outlets)
    return path


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--watches", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--dir", type=Path, help="keep the generated store here")
    args = ap.parse_args()
    try:
        from starlette.testclient import TestClient
    except ImportError:
        print("bench/web.py: starlette is not installed (pip install -e '.[test]')")
        return 0
    from newswatch.config import load_config
    from newswatch.query import compile_query, search
    from newswatch.web import create_app

    folder = args.dir or Path(tempfile.mkdtemp(prefix="newswatch-web-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    config_path = write_config(folder)
    db = folder / "newswatch.db"
    if db.exists():
        db.unlink()
    info = generate(db, args.articles, args.watches)
    print(f"store: {args.articles:,} articles, {args.watches:,} watches, "
          f"{args.articles // 10:,} alerts tried; generated in {info['seconds']:.1f} s "
          f"({db.stat().st_size / 1e6:.0f} MB)")
    config = load_config(config_path)
    q = info["query"]
    pages = [
        ("alerts", "/alerts"),
        ("alerts, one watch", "/alerts?watch=watch%200007"),
        ("alerts, page 20", None),
        ("story", f"/stories/{args.articles // 2}"),
        ("search", f"/search?q={q.replace(' ', '+')}"),
        ("search, page 5", f"/search?q={info['word']}&page=5"),
        ("search, outlet+dates", f"/search?q={q.replace(' ', '+')}&outlet=outlet3"
                                 "&since=2000-01-01&until=2999-01-01"),
        ("watches", "/watches"),
        ("watch preview", f"/watches/preview?q={info['word']}"),
        ("outlets", "/outlets"),
    ]
    with TestClient(create_app(config), base_url="http://127.0.0.1:8080") as client:
        before = client.get("/alerts").text  # warm: compiles the watches once
        import re

        ids = [int(i) for i in re.findall(r'id="alert-(\d+)"', before)]
        results = []
        for name, path in pages:
            if path is None:
                path = f"/alerts?before={ids[-1] - 50 * 19}" if ids else "/alerts"
            client.get(path)
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code)
            results.append((name, path, statistics.median(times), percentile(times, 95)))
    store = open_db(db)
    compiled = compile_query(q)
    cli_inproc = []
    for _ in range(args.runs):
        t = time.perf_counter()
        search(store, compiled, limit=20)
        cli_inproc.append((time.perf_counter() - t) * 1000)
    store.close()
    cli_proc = []
    for _ in range(3):
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "newswatch", "--config", str(config_path),
                               "search", q, "--limit", "20"], capture_output=True, text=True)
        cli_proc.append((time.perf_counter() - t) * 1000)
        assert done.returncode == 0, done.stderr

    print("\n| page | path | p50 ms | p95 ms | p95 <= 200 ms |")
    print("|---|---|---:|---:|---|")
    for name, path, p50, p95 in results:
        print(f"| {name} | `{path[:60]}` | {p50:.1f} | {p95:.1f} | "
              f"{'yes' if p95 <= 200 else 'NO'} |")
    print(f"| `newswatch search` in-process (query.search) | `{q}` | "
          f"{statistics.median(cli_inproc):.1f} | {percentile(cli_inproc, 95):.1f} | |")
    print(f"| `newswatch search` as a command (new process) | `{q}` | "
          f"{statistics.median(cli_proc):.1f} | {max(cli_proc):.1f} | |")
    print(f"\nsame run, same query: search page p50 {results[4][2]:.1f} ms vs query.search "
          f"p50 {statistics.median(cli_inproc):.1f} ms (the page adds highlighting and "
          "rendering)")
    print(json.dumps({"articles": args.articles, "watches": args.watches, "runs": args.runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
