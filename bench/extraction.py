"""Extraction benchmark: newswatch.extract vs trafilatura, side by side, in one run.

    python bench/extraction.py [--data DIR] [--limit N] [--misses] [--folds K]

DIR (default: ../shared/datasets/extraction relative to the repository root) holds one
folder per dataset (`zyte`, `fundus`), each with `manifest.json` and `html/*.html.gz`.
Without it the bench says so and exits 0.

Body metric: the Zyte article-extraction benchmark's own (scrapinghub/
article-extraction-benchmark, evaluate.py `string_shingle_matching` and
`metrics_from_tp_fp_fns`), reproduced here: tokens are `\\w+` matches, 4-token shingles
counted as multisets, per page tp/fp/fn normalised by their sum; precision is the mean of
per-page precision (pages with tp+fp > 0), recall the mean of per-page recall (tp+fn > 0),
F1 the harmonic mean of the two means; a page with fp = fn = 0 scores 1.

Title exact: whitespace-normalised equality with the ground truth. Date-day: the
predicted day equals the ground truth's day, either in UTC or in the ground truth's own
offset (a date-only prediction cannot know the offset). Author recall: share of
ground-truth author names found (case-insensitive) in the predicted author string. These
three exist only for datasets with that ground truth (fundus).

Compared: `newswatch` = newswatch.extract.extract_article (what the crawler calls);
`traf-default` = trafilatura.extract(html, url) with its true defaults (comments kept);
`traf-best` = trafilatura's best single setting, favor_precision=True,
include_comments=False. Times are per page, sequential, one process; trafilatura's metadata
for the title/date/author columns comes from a second, untimed call with
with_metadata=True so the timed call is exactly plain `trafilatura.extract`.

K-fold by site (issue 17): the pages of both datasets are pooled and split into K folds by
site (host without "www.", so one site's pages are never on both sides). For each of
newswatch's own rules (`newswatch.extract.rules.RULES`), on each fold: the rule is kept when
switching it off lowers F1 on the other K-1 folds (a tie drops it: simpler code that ties
wins); the held-out fold is then scored with the rules kept on its training folds. Printed
per rule: the F1 gain of the rule on the training folds (mean over folds) and the gain of
the fold's decision on the held-out pages (0 where it was dropped), and overall: in-fold
and out-of-fold F1 of all rules, of no rule, of the per-fold selection, and of
trafilatura's default and best settings. trafilatura's and htmldate's results are cached
per page inside the run, so each rule setting costs only newswatch's own work.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def shingles(text: str, n: int = 4) -> Counter:
    toks = _TOKEN.findall(text or "")
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))
                   if toks[i:i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    a, b = shingles(true), shingles(pred)
    tp = fp = fn = 0.0
    for key in a.keys() | b.keys():
        t, p = a.get(key, 0), b.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s > 0 else (tp, fp, fn)


def _precision(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def prf(scores: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    ps = [_precision(*s) for s in scores if s[0] + s[1] > 0]
    rs = [_recall(*s) for s in scores if s[0] + s[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _ws(s) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def date_ok(pred: str | None, truth: str | None) -> bool:
    if not pred or not truth:
        return False
    try:
        t = datetime.fromisoformat(truth.strip())
    except ValueError:
        return pred[:10] == truth[:10]
    days = {t.date().isoformat()}
    if t.tzinfo is not None:
        days.add(t.astimezone(timezone.utc).date().isoformat())
    return pred[:10] in days


def author_recall(pred: str | None, truth: list[str]) -> float | None:
    if not truth:
        return None
    p = (pred or "").casefold()
    return sum(1 for a in truth if a.casefold().strip() in p) / len(truth)


# --- extractors -----------------------------------------------------------------------------

def run_newswatch(html: str, url: str) -> dict:
    from newswatch.extract import extract_article

    t = time.perf_counter()
    art = extract_article(html, url)
    ms = (time.perf_counter() - t) * 1000
    return {"text": art.text, "title": art.title, "date": art.published,
            "author": art.author, "ms": ms, "source": art.body_source}


def _traf_runner(**kw):
    def run(html: str, url: str, meta: bool) -> dict:
        import trafilatura

        t = time.perf_counter()
        text = trafilatura.extract(html, url=url, **kw) or ""
        ms = (time.perf_counter() - t) * 1000
        out = {"text": text, "ms": ms, "title": None, "date": None, "author": None}
        if meta:
            doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, **kw)
            if doc is not None:
                out.update(title=doc.title, date=doc.date, author=doc.author)
        return out
    return run


EXTRACTORS = {
    "newswatch": lambda html, url, meta: run_newswatch(html, url),
    "traf-default": _traf_runner(),
    "traf-best": _traf_runner(favor_precision=True, include_comments=False),
}


def load(dataset_dir: Path, limit: int | None):
    manifest = json.loads((dataset_dir / "manifest.json").read_text(encoding="utf-8"))
    items = manifest["items"][:limit] if limit else manifest["items"]
    for item in items:
        html = gzip.decompress((dataset_dir / item["file"]).read_bytes()).decode(
            "utf-8", errors="replace")
        yield item, html


def bench_dataset(name: str, dataset_dir: Path, limit: int | None, misses: bool) -> dict:
    rows: dict[str, dict] = {k: {"scores": [], "ms": [], "title": [], "date": [],
                                 "author": []} for k in EXTRACTORS}
    page_misses = []
    for item, html in load(dataset_dir, limit):
        truth_body = item.get("articleBody") if "articleBody" in item else item.get("body_text")
        has_meta = "title" in item
        for ex, run in EXTRACTORS.items():
            out = run(html, item["url"], has_meta)
            r = rows[ex]
            r["ms"].append(out["ms"])
            s = tp_fp_fn(truth_body or "", out["text"])
            r["scores"].append(s)
            if has_meta:
                r["title"].append(_ws(out["title"]) == _ws(item.get("title")))
                r["date"].append(date_ok(out["date"], item.get("publishing_date")))
                a = author_recall(out["author"], item.get("authors") or [])
                if a is not None:
                    r["author"].append(a)
            if ex == "newswatch":
                p, rc = _precision(*s), _recall(*s)
                why = []
                if p < 0.9 or rc < 0.9:
                    why.append(f"body P={p:.2f} R={rc:.2f} ({out['source']})")
                if has_meta and not r["title"][-1]:
                    why.append(f"title {out['title']!r} != {item.get('title')!r}")
                if has_meta and not r["date"][-1]:
                    why.append(f"date {out['date']} != {item.get('publishing_date')}")
                if why:
                    page_misses.append(f"  {name}/{item.get('id', '')[:40]}: " + "; ".join(why))
    if misses and page_misses:
        print(f"misses ({name}):")
        print("\n".join(page_misses))
    return rows


def _fmt(v, fmt="{:.3f}"):
    return "-" if v is None else fmt.format(v)


# --- k-fold by site ---------------------------------------------------------------------------

def _site(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").removeprefix("www.")


def _folds(pages: list[dict], k: int) -> list[int]:
    """Fold of each page: sites shuffled by a fixed hash, then dealt round-robin."""
    import hashlib

    sites = sorted({p["site"] for p in pages},
                   key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    fold_of = {s: i % k for i, s in enumerate(sites)}
    return [fold_of[p["site"]] for p in pages]


class _Cache:
    """trafilatura.extract and htmldate.find_date memoised per page for one run: the rule
    settings differ only in newswatch's own work on their results."""

    def __init__(self):
        import htmldate
        import trafilatura

        self.page = None
        self.memo: dict = {}
        self._traf, self._date = trafilatura.extract, htmldate.find_date
        trafilatura.extract = self._wrap(self._traf)
        htmldate.find_date = self._wrap(self._date)

    def _wrap(self, fn):
        def cached(tree, *args, **kw):
            key = (self.page, fn.__name__, args, tuple(sorted(kw.items())))
            if key not in self.memo:
                self.memo[key] = fn(tree, *args, **kw)
            return self.memo[key]
        return cached

    def close(self):
        import htmldate
        import trafilatura

        trafilatura.extract, htmldate.find_date = self._traf, self._date


def kfold(datasets: list[Path], limit: int | None, k: int) -> list[str]:
    from newswatch.extract import extract_article
    from newswatch.extract.rules import ALL, RULES

    pages = []
    for d in datasets:
        for item, html in load(d, limit):
            truth = item.get("articleBody") if "articleBody" in item else item.get("body_text")
            pages.append({"id": f"{d.name}/{item.get('id')}", "html": html, "url": item["url"],
                          "truth": truth or "", "site": _site(item["url"]),
                          "traf": {name: EXTRACTORS[name](html, item["url"], False)["text"]
                                   for name in ("traf-default", "traf-best")}})
    fold = _folds(pages, k)
    cache = _Cache()
    scores: dict[frozenset, list] = {}

    def score(rules: frozenset, i: int) -> tuple:
        per = scores.setdefault(rules, [None] * len(pages))
        if per[i] is None:
            cache.page = pages[i]["id"]
            text = extract_article(pages[i]["html"], pages[i]["url"], rules=rules).text
            per[i] = tp_fp_fn(pages[i]["truth"], text)
        return per[i]

    def f1(rules, idx) -> float:
        return prf([score(rules, i) for i in idx])[2]

    def f1_traf(name, idx) -> float:
        return prf([tp_fp_fn(pages[i]["truth"], pages[i]["traf"][name]) for i in idx])[2]

    try:
        folds = [([i for i in range(len(pages)) if fold[i] != f],
                  [i for i in range(len(pages)) if fold[i] == f]) for f in range(k)]
        gains_in = {r: [] for r in RULES}
        kept = [set() for _ in range(k)]
        for f, (train, _test) in enumerate(folds):
            base = f1(ALL, train)
            for r in RULES:
                g = base - f1(ALL - {r}, train)
                gains_in[r].append(g)
                if g > 0:
                    kept[f].add(r)
        # held out: each page scored once, under its own fold's decision
        held = {r: ([], []) for r in RULES}  # (with the fold's decision, without the rule)
        selected = []
        for f, (_train, test) in enumerate(folds):
            for i in test:
                selected.append(score(frozenset(kept[f]), i))
                for r in RULES:
                    held[r][0].append(score(ALL if r in kept[f] else ALL - {r}, i))
                    held[r][1].append(score(ALL - {r}, i))
        everything = range(len(pages))
        lines = [f"k-fold by site: {len(pages)} pages, {len({p['site'] for p in pages})} "
                 f"sites, {k} folds (F1; in-fold = mean over folds on the training folds)",
                 f"{'rule':<17} {'kept in':>7} {'in-fold gain':>12} {'out-of-fold gain':>16} "
                 f"{'gain if always on':>17}"]
        for r in RULES:
            n_kept = sum(r in s for s in kept)
            out_gain = prf(held[r][0])[2] - prf(held[r][1])[2]
            always = f1(ALL, everything) - f1(ALL - {r}, everything)
            lines.append(f"{r:<17} {n_kept:>3}/{k:<3} {statistics.mean(gains_in[r]):+12.4f} "
                         f"{out_gain:+16.4f} {always:+17.4f}")
        lines.append(f"{'setting':<26} {'in-fold F1':>10} {'out-of-fold F1':>14}")

        def row(name, fn_in, out):
            lines.append(f"{name:<26} {fn_in:10.4f} {out:14.4f}")
        row("newswatch, all rules", statistics.mean(f1(ALL, tr) for tr, _ in folds),
            f1(ALL, everything))
        row("newswatch, no rule", statistics.mean(f1(frozenset(), tr) for tr, _ in folds),
            f1(frozenset(), everything))
        row("newswatch, rules selected",
            statistics.mean(f1(frozenset(kept[f]), tr) for f, (tr, _) in enumerate(folds)),
            prf(selected)[2])
        for name in ("traf-default", "traf-best"):
            row(name, statistics.mean(f1_traf(name, tr) for tr, _ in folds),
                f1_traf(name, everything))
        return lines
    finally:
        cache.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "extraction")
    ap.add_argument("--limit", type=int, default=None, help="pages per dataset")
    ap.add_argument("--misses", action="store_true", help="list newswatch's per-page misses")
    ap.add_argument("--folds", type=int, default=5, help="k of the k-fold by site (0: none)")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"extraction bench skipped: no dataset folder at {args.data}")
        return 0
    datasets = [d for d in sorted(args.data.iterdir()) if (d / "manifest.json").is_file()]
    if not datasets:
        print(f"extraction bench skipped: no */manifest.json under {args.data}")
        return 0
    import logging

    logging.disable(logging.WARNING)  # trafilatura/htmldate chatter
    f1 = {}
    header = (f"{'dataset':<8} {'extractor':<13} {'pages':>5} {'P':>6} {'R':>6} {'F1':>6} "
              f"{'title':>6} {'date':>6} {'author':>6} {'ms/page':>8}")
    lines = [header]
    for d in datasets:
        rows = bench_dataset(d.name, d, args.limit, args.misses)
        for ex, r in rows.items():
            p, rc, f = prf(r["scores"])
            f1[(d.name, ex)] = f
            mean = (lambda xs: sum(xs) / len(xs) if xs else None)
            lines.append(
                f"{d.name:<8} {ex:<13} {len(r['scores']):>5} {p:6.3f} {rc:6.3f} {f:6.3f} "
                f"{_fmt(mean(r['title'])):>6} {_fmt(mean(r['date'])):>6} "
                f"{_fmt(mean(r['author'])):>6} {statistics.median(r['ms']):8.1f}")
    print("\n".join(lines))
    if ("zyte", "newswatch") in f1:
        print(f"zyte F1 {f1[('zyte', 'newswatch')]:.3f} vs {f1[('zyte', 'traf-best')]:.3f}")
    if args.folds > 1:
        print()
        print("\n".join(kfold(datasets, args.limit, args.folds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
