"""Names across scripts and spellings: recall and precision of folding, ~ and aliases.

    python bench/names.py [--data bench/names_cases.tsv] [--no-cost]

Reads the labelled cases (query, text, should_match; invented sentences, see the file's
header), runs every query through newswatch.query.match_batch, and prints per feature:
recall on the cases it claims, precision, false positives on its hard negatives, and the
same figures with the feature switched off (fold: the plain index as before; ~: the ~
dropped; aliases: the alias's name as a phrase).  Then the matching cost of bench/matching.py
(10,000 watches x 1,000 articles) with the plain index and with the folded one, in the same
run.  Targets: recall >= 0.95, precision >= 0.99, folded cost <= 2 s.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newswatch.store import FTS_TOKENIZE  # noqa: E402
from newswatch.query import compile_query, match_batch  # noqa: E402

DATA = Path(__file__).resolve().parent / "names_cases.tsv"


def load(path: Path):
    aliases, cases = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        feature, query, label, text = line.split("\t")
        if feature == "define":
            aliases[query] = text.split("|")
        else:
            cases.append((feature, query, label == "1", text))
    return aliases, cases


def plain_hits(query, text: str) -> bool:
    """Today's matching: the plain (title, text) index only."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='{FTS_TOKENIZE}')")
    conn.execute("INSERT INTO t(rowid, title, text) VALUES (1, '', ?)", (text,))
    found = conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (query.fts,)).fetchall()
    conn.close()
    return bool(found)


def run(cases, aliases, mode: str) -> list[bool]:
    out = []
    for feature, source, _, text in cases:
        if mode == "off" and feature == "tilde":
            source = source.replace("~", "")
        if mode == "off" and feature == "alias":
            source = re.sub(r'@"([^"]*)"', r'"\1"', source)
        q = compile_query(source, aliases)
        if mode == "off" and feature == "fold":
            out.append(plain_hits(q, text))
        else:
            out.append(bool(match_batch([("w", q)], [(1, "", text)])))
    return out


def scores(rows):
    tp = sum(1 for want, got in rows if want and got)
    fp = sum(1 for want, got in rows if not want and got)
    pos = sum(1 for want, _ in rows if want)
    neg = len(rows) - pos
    recall = tp / pos if pos else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    return pos, neg, recall, precision, fp


def quality(cases, aliases) -> None:
    on, off = run(cases, aliases, "on"), run(cases, aliases, "off")
    print(f"{'feature':>8} {'pos':>4} {'neg':>4} | {'recall':>6} {'prec':>6} {'FP':>3} "
          f"| without: {'recall':>6} {'prec':>6} {'FP':>3}")
    for feature in ("fold", "tilde", "alias", "all"):
        idx = [i for i, c in enumerate(cases) if feature in ("all", c[0])]
        a = scores([(cases[i][2], on[i]) for i in idx])
        b = scores([(cases[i][2], off[i]) for i in idx])
        print(f"{feature:>8} {a[0]:>4} {a[1]:>4} | {a[2]:>6.3f} {a[3]:>6.3f} {a[4]:>3} "
              f"| without: {b[2]:>6.3f} {b[3]:>6.3f} {b[4]:>3}")
    for i, (feature, source, want, text) in enumerate(cases):
        if on[i] != want:
            print(f"  miss ({feature}, want {int(want)}): {source}  |  {text}")


# Latin -> Cyrillic letters, only to make synthetic Russian-looking words for the cost run
_CYR = str.maketrans("abcdefghijklmnopqrstuvwxyz", "абкдефгхийклмнопкрстуввкыз")


def cost() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from matching import BATCH, Corpus  # noqa: E402

    corpus = Corpus(7)
    docs = [(i + 1, *corpus.article()) for i in range(BATCH)]
    # a third of the articles in Cyrillic letters: folding has work to do on them
    mixed = [(i, t.translate(_CYR), x.translate(_CYR)) if i % 3 == 0 else (i, t, x)
             for i, t, x in docs]
    queries = [compile_query(corpus.watch()) for _ in range(10000)]

    def before(docs):
        """match_batch as it was before folding: one (title, text) index, each distinct
        expression run once."""
        conn = sqlite3.connect(":memory:")
        conn.execute(f"CREATE VIRTUAL TABLE b USING fts5(title, text, content='', "
                     f"tokenize='{FTS_TOKENIZE}')")
        with conn:
            conn.executemany("INSERT INTO b(rowid, title, text) VALUES (?, ?, ?)", docs)
        n = 0
        for fts in {q.fts for q in queries}:
            n += len(conn.execute("SELECT rowid FROM b WHERE b MATCH ?", (fts,)).fetchall())
        conn.close()
        return n

    # a tenth of the watches written with ~ (single-word ones, the names' typical shape)
    tilde = [compile_query("~" + q.source) if i % 10 == 0 and q.source[0].isalpha() else q
             for i, q in enumerate(queries)]
    n_tilde = sum(1 for q in tilde if "~" in q.source)
    print(f"\nmatching cost, {len(queries)} watches x {len(docs)} articles, seconds "
          f"(first run in this process, and best of 3: the machine is shared)")
    print(f"  {'':<44} {'first':>6} {'best':>6}")
    for label, fn in [
        ("plain index, as before folding (baseline)", lambda: before(docs)),
        ("folded index (match_batch)", lambda: match_batch(list(enumerate(queries)), docs)),
        (f"folded, ~ on {n_tilde} of the watches", lambda: match_batch(list(enumerate(tilde)), docs)),
        ("plain, a third of the articles Cyrillic", lambda: before(mixed)),
        ("folded, a third of the articles Cyrillic", lambda: match_batch(list(enumerate(queries)), mixed)),
        ("folded, Cyrillic third, ~ watches", lambda: match_batch(list(enumerate(tilde)), mixed)),
    ]:
        times = [_timed(fn) for _ in range(3)]
        print(f"  {label:<44} {times[0]:6.3f} {min(times):6.3f}")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-cost", action="store_true")
    args = ap.parse_args(argv)
    aliases, cases = load(args.data)
    quality(cases, aliases)
    if not args.no_cost:
        cost()


if __name__ == "__main__":
    main()
