"""Incremental fetching, measured against a generated local outlet.

    python bench/incremental_pass.py [--articles 2000] [--new 10]

Passes (each a real `newswatch crawl` process): first, unchanged, unchanged without
conditional GET (the baseline: validators dropped, so feeds and sitemaps are parsed in
full), and one after N new articles. Requests are counted by the server.

Targets (issue 6): the unchanged pass makes 0 article requests and takes <= 2% of the
first pass (pass time as recorded in `runs.ms`; the process start-up is shown apart);
the N-new pass fetches exactly N articles.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from outlet_server import Farm, outlets_toml  # noqa: E402


def crawl(config: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "newswatch", "--config", str(config), "crawl"],
                            cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if result.returncode:
        sys.exit(f"crawl failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def last_run_ms(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT ms FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--new", type=int, default=10)
    args = parser.parse_args()

    farm = Farm(outlets=1, articles=args.articles)
    outlet = farm.servers[0].outlet
    rows = []
    with tempfile.TemporaryDirectory(prefix="nw-incremental-") as tmp:
        config = Path(tmp) / "newswatch.toml"
        config.write_text('database = "newswatch.db"\n[crawl]\nworkers = 0\n\n'
                          + outlets_toml(farm.urls), encoding="utf-8")
        db = Path(tmp) / "newswatch.db"

        def measure(name: str, before=None):
            if before:
                before()
            start = farm.counts()
            wall = crawl(config)
            end = farm.counts()
            delta = {k: end[k] - start[k] for k in ("total", "article", "304", "bytes")}
            rows.append((name, delta, last_run_ms(db) / 1000, wall))

        measure("first pass")
        measure("unchanged")

        def drop_validators():
            with sqlite3.connect(db) as conn:
                conn.execute("DELETE FROM http_cache")

        measure("unchanged, no conditional GET (baseline)", drop_validators)
        measure(f"{args.new} new articles", lambda: outlet.add(args.new))
    farm.stop()

    print(f"generated outlet: {args.articles} articles (feed: latest 50, sitemap: all, "
          f"listing: latest 50); cpu cores: {os.cpu_count()}")
    print(f"{'pass':42} {'requests':>8} {'articles':>8} {'304s':>5} {'bytes':>10} "
          f"{'pass s':>8} {'process s':>9}")
    for name, d, secs, wall in rows:
        print(f"{name:42} {d['total']:>8} {d['article']:>8} {d['304']:>5} {d['bytes']:>10} "
              f"{secs:>8.2f} {wall:>9.2f}")
    first, unchanged, baseline, new = rows
    share = unchanged[2] / first[2] * 100 if first[2] else float("nan")
    checks = [
        ("unchanged pass makes 0 article requests", unchanged[1]["article"] == 0),
        (f"unchanged pass takes <= 2% of the first ({share:.2f}%)", share <= 2),
        (f"{args.new}-new pass fetches exactly {args.new} articles ({new[1]['article']})",
         new[1]["article"] == args.new),
    ]
    print(f"baseline: without conditional GET the unchanged pass moves "
          f"{baseline[1]['bytes']} bytes instead of {unchanged[1]['bytes']}")
    for text, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
