"""Story threads on labelled event sets: newswatch.threads against two baselines.

    python bench/threads.py                 # every set in ../shared/datasets/events
    python bench/threads.py --data DIR      # another folder of the same layouts
    python bench/threads.py --json          # one JSON object per set
    python bench/threads.py --stream 50000  # cost and memory on a synthetic stream

Layouts: `NAME.jsonl` (one article a line, `event_id` is the label) or `NAME_articles.jsonl`
+ `NAME_pairs.jsonl` (`a_id`, `b_id`, `same_chain`: the pairs are the labels, only pair
figures are printed).

Order: articles are fed in published order (ties and null dates keep the file order). A set
without dates puts every article at one instant, so the whole set sits inside the window and
only the text decides (a clock of one minute per article in file order, as before, leaked
the label into the time penalty: multinews' file lists each event's articles together); a
null date inside a dated set takes the previous article's time.

Near-copies: the later article of any pair with word 5-gram Jaccard >= 0.8 is dropped
before threading (for every method): in newswatch it would be stored as `duplicate_of` its
original by dedup and never reach the threads. Pairs touching a dropped copy are not scored.

Document frequencies: each set is threaded with idf counted online from its own articles as
they arrive, primed with the texts (never the labels) of the other sets, as a running store
has its archive.

Scorer: the hand weights by default: a grid over field weights (both weigh the
complete-link member cosine, the second also the title/lead cross cosine), time penalty, member
floor (threads.DEFAULT_MEMBER_FLOOR; 0 is the centroid alone), the thread's own bars (RULES:
off, the score bar threads.DEFAULT_TIGHT_CAP, with the cohesion bar threads.DEFAULT_COHESION)
and threshold,
chosen by leave-one-set-out cross-validation (tuned on the other sets, scored on the held-out
one: out-of-fold); the product defaults are the grid point chosen on all sets (in-fold).
Ties go to the stricter point (higher threshold, floor, time penalty: precision first).
`--learned`: a logistic model over the pair features (threads.PAIR_FEATURES), fitted with
numpy on the (article, candidate thread) pairs met while replaying a set's gold threads
(label: the candidate is the article's own event), as Miranda et al. 2018 fit theirs; per
held-out set, fitted and its probability threshold chosen on the other sets. The objective
per set is B-cubed F1 (pair F1 for pair sets) less 2 x the shortfall of pairwise precision
under 0.95.

Baselines: every original its own thread; single-link TF-IDF cosine (connected components
of all pairs at or above a fixed threshold, the threshold best for that very set by the same
objective: an oracle, so a favourable baseline).

Cost: ms per article is `ThreadIndex.assign` (tokenising included) with the defaults.
`--stream N` feeds N synthetic articles at the rate of 10^6 a year (about 8,200 in a 72 h
window) and prints the cost and the index size as the stream grows: both must stay flat.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import time
from collections import Counter, defaultdict
from itertools import product
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from newswatch import clock, dedup, threads  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "events"
COPY_JACCARD = 0.8
FAKE_STEP = 0.0
THRESHOLDS = [round(0.15 + 0.05 * i, 2) for i in range(8)]  # 0.15 .. 0.5 (hand weights)
PROBABILITIES = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]  # the model's thresholds
FIT_FEATURES = threads.PAIR_FEATURES
L2 = 1.0  # ridge on the coefficients (not the bias), in units of the summed log-loss
PENALTIES = [0.1, 0.3]  # steeper (0.6, 1.0) lost out of fold on basil and story_chains
FLOORS = [0.0, 0.2]  # 0.15 and 0.25 lost to 0.2 on every set but one (0.3+ cut recall hard)
WEIGHTS = [  # body-heavy, body-only and centroid-only weights were never chosen and are gone
    {"title": 0.2, "lead": 0.1, "body": 0.3, "names": 0.1, "member_min": 0.3},
    # the title against the thread's leads and the lead against its titles ("cross"): one
    # outlet's headline told in another's first lines
    {"title": 0.15, "lead": 0.1, "body": 0.3, "names": 0.1, "member_min": 0.3, "cross": 0.1},
]
# The thread's own bars (threads.DEFAULT_TIGHT_CAP, DEFAULT_COHESION): off, the score bar
# alone, both (two cohesion factors); tried only with the cross-cosine weights (WEIGHTS[1]).
RULES = [
    {"tight_cap": 0.0, "cohesion": 0.0},
    {"tight_cap": 0.35, "cohesion": 0.0},
    {"tight_cap": 0.35, "cohesion": 0.7, "cohesion_cap": 0.2},
    {"tight_cap": 0.35, "cohesion": 0.85, "cohesion_cap": 0.2},
]
SINGLE_LINK = [round(0.05 * i, 2) for i in range(2, 19)]


# -- data ---------------------------------------------------------------------------------

def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_sets(folder: Path) -> list[dict]:
    sets = []
    for path in sorted(folder.glob("*.jsonl")):
        name = path.stem
        if name.endswith("_pairs"):
            continue
        if name.endswith("_articles"):
            base = name[: -len("_articles")]
            pairs_path = folder / f"{base}_pairs.jsonl"
            if not pairs_path.exists():
                continue
            sets.append({"name": base, "articles": _read(path), "pairs": _read(pairs_path)})
        else:
            sets.append({"name": name, "articles": _read(path), "pairs": None})
    return sets


def ordered_docs(articles: list[dict]) -> list[threads.Doc]:
    dated = any(a.get("published") for a in articles)
    stamps, last = [], 0.0
    for i, a in enumerate(articles):
        if not dated:
            ts = i * FAKE_STEP
        elif a.get("published"):
            ts = last = clock.parse_iso(a["published"]).timestamp()
        else:
            ts = last
        stamps.append(ts)
    order = sorted(range(len(articles)), key=lambda i: (stamps[i], i))
    return [threads.Doc(articles[i]["id"], articles[i].get("title"), articles[i].get("text"),
                        stamps[i]) for i in order]


def drop_copies(docs: list[threads.Doc]) -> tuple[list[threads.Doc], int]:
    """Drop the later of any pair with word 5-gram Jaccard >= COPY_JACCARD."""
    kept, sets, post = [], [], defaultdict(list)
    dropped = 0
    for doc in docs:
        sh = set(dedup.shingles(dedup.normalise_text(doc.text).split()).tolist())
        common: Counter = Counter()
        for h in sh:
            for j in post[h]:
                common[j] += 1
        if any(c / (len(sh) + len(sets[j]) - c) >= COPY_JACCARD for j, c in common.items()):
            dropped += 1
            continue
        for h in sh:
            post[h].append(len(sets))
        sets.append(sh)
        kept.append(doc)
    return kept, dropped


# -- metrics ------------------------------------------------------------------------------

def _c2(n: int) -> int:
    return n * (n - 1) // 2


def event_scores(pred: dict, gold: dict) -> dict:
    ids = list(pred)
    cluster, label, cell = Counter(), Counter(), Counter()
    for i in ids:
        cluster[pred[i]] += 1
        label[gold[i]] += 1
        cell[(pred[i], gold[i])] += 1
    b3p = sum(cell[(pred[i], gold[i])] / cluster[pred[i]] for i in ids) / len(ids)
    b3r = sum(cell[(pred[i], gold[i])] / label[gold[i]] for i in ids) / len(ids)
    tp = sum(_c2(n) for n in cell.values())
    pp, gp = sum(_c2(n) for n in cluster.values()), sum(_c2(n) for n in label.values())
    return {"b3_p": b3p, "b3_r": b3r, "b3_f1": 2 * b3p * b3r / (b3p + b3r) if b3p + b3r else 0,
            "pair_p": tp / pp if pp else 1.0, "pair_r": tp / gp if gp else 1.0}


def pair_scores(pred: dict, pairs: list[tuple]) -> dict:
    tp = fp = fn = 0
    for a, b, same in pairs:
        joined = pred[a] == pred[b]
        tp += joined and same
        fp += joined and not same
        fn += same and not joined
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"pair_p": p, "pair_r": r}


def objective(s: dict) -> float:
    if "b3_f1" in s:
        f1 = s["b3_f1"]
    else:
        p, r = s["pair_p"], s["pair_r"]
        f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f1 - 2 * max(0.0, 0.95 - s["pair_p"])


def evaluate(ds: dict, pred: dict) -> dict:
    if ds["pairs"] is None:
        return event_scores(pred, ds["gold"])
    return pair_scores(pred, ds["gold_pairs"])


# -- methods ------------------------------------------------------------------------------

def prepare(sets: list[dict]) -> None:
    """Order, drop copies, and cache each set's features (they do not depend on the
    threshold: idf at an article's arrival is the same for every grid point)."""
    for ds in sets:
        docs, ds["dropped"] = drop_copies(ordered_docs(ds["articles"]))
        ds["docs"] = docs
        kept = {d.id for d in docs}
        if ds["pairs"] is None:
            ds["gold"] = {a["id"]: a["event_id"] for a in ds["articles"] if a["id"] in kept}
        else:
            ds["gold_pairs"] = [(p["a_id"], p["b_id"], bool(p["same_chain"]))
                                for p in ds["pairs"] if p["a_id"] in kept and p["b_id"] in kept]
    tokeniser = threads.ThreadIndex()
    for ds in sets:
        ds["terms"] = [tokeniser.terms(d) for d in ds["docs"]]
    for ds in sets:
        index = threads.ThreadIndex()
        for other in sets:
            if other is not ds:
                for terms in other["terms"]:
                    index.df.add(terms)
        ds["primed"] = (index.df.counts.copy(), index.df.n)
        ds["feats"] = [index.analyse(d) for d in ds["docs"]]


def _fresh(ds: dict, make=threads.ThreadIndex, **params) -> threads.ThreadIndex:
    index = make(**params)
    counts, n = ds["primed"]
    index.df.counts[:] = counts
    index.df.n = n
    return index


def run_threads(ds: dict, make=threads.ThreadIndex, **params) -> dict:
    """{article id: thread id}; `make(**params)` builds the index (a subclass may)."""
    index = _fresh(ds, make, **params)
    pred = {}
    for f in ds["feats"]:
        index.df.add(f.terms)  # as analyse() did at this article's arrival
        pred[f.id] = index.place(f).thread_id
    return pred


def time_threads(ds: dict, **params) -> float:
    index = _fresh(ds, **params)
    start = time.perf_counter()
    for d in ds["docs"]:
        index.assign(d)
    return (time.perf_counter() - start) * 1000 / max(1, len(ds["docs"]))


def single_link(ds: dict) -> tuple[float, dict]:
    """Best fixed threshold for single-link TF-IDF cosine on this set (oracle)."""
    docs = ds["docs"]
    index = threads.ThreadIndex()
    toks = [Counter(index._tokens((d.title or "") + "\n" + (d.text or ""))) for d in docs]
    df = Counter(t for c in toks for t in c)
    vocab = {t: i for i, t in enumerate(t for t, n in df.items() if n >= 2)}
    x = np.zeros((len(docs), len(vocab)), dtype=np.float32)
    n = len(docs)
    for r, c in enumerate(toks):
        for t, k in c.items():
            if t in vocab:
                x[r, vocab[t]] = (1 + math.log(k)) * (math.log((1 + n) / (1 + df[t])) + 1)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sim = x @ x.T
    del x
    np.fill_diagonal(sim, 0)
    best = None
    for thr in SINGLE_LINK:
        parent = list(range(n))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i
        for a, b in zip(*np.nonzero(np.triu(sim >= thr))):
            parent[find(a)] = find(b)
        pred = {d.id: find(i) for i, d in enumerate(docs)}
        s = evaluate(ds, pred)
        if best is None or objective(s) > objective(best[1]):
            best = (thr, s)
    return best


# -- grid and cross-validation -------------------------------------------------------------

def _grid_point(key):
    return key, {ds["name"]: evaluate(ds, run_threads(ds, **params(key))) for ds in _GRID_SETS}


_GRID_SETS: list = []


def grid(sets: list[dict]) -> dict:
    """scores[(weights index, penalty, threshold, floor, rules index)][set name] -> metrics,
    the points spread over the machine's cores (forked: the prepared sets are shared)."""
    keys = [(wi, pen, thr, floor, ri)
            for wi, pen, thr, floor, ri in product(range(len(WEIGHTS)), PENALTIES, THRESHOLDS,
                                                   FLOORS, range(len(RULES)))
            if ri == 0 or wi == 1]
    _GRID_SETS[:] = sets
    return map_points(_grid_point, keys)


def map_points(fn, keys) -> dict:
    """dict(map(fn, keys)) over the machine's cores (forked, so the workers share the
    module state the caller set up: the prepared sets); fn returns (key, value)."""
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: one core
        return dict(map(fn, keys))
    with ctx.Pool(os.cpu_count() or 1) as pool:
        return dict(pool.map(fn, keys, chunksize=1))


# -- learned scorer ----------------------------------------------------------------------

def training_pairs(ds: dict) -> tuple[np.ndarray, np.ndarray]:
    """(article, candidate) pair features met while replaying the set's gold threads."""
    index = _fresh(ds)
    xs, ys, thread_of = [], [], {}
    for f in ds["feats"]:
        index.df.add(f.terms)
        index.expire(max(index.clock, f.ts))
        target = thread_of.get(ds["gold"][f.id])
        if target not in index.threads:  # a new event, or its thread left the window
            target = thread_of[ds["gold"][f.id]] = f.id
        for th in index.candidates(f):
            x = index.pair_features(f, th)
            xs.append([x[k] for k in FIT_FEATURES])
            ys.append(th.id == target)
        index.join(f, target)
    return np.array(xs, dtype=float).reshape(-1, len(FIT_FEATURES)), np.array(ys, float)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> dict:
    """Ridge logistic regression by Newton steps (a handful of features: exact and quick)."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    ridge = np.full(a.shape[1], l2)
    ridge[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (p - y) + ridge * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(ridge + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {"bias": round(float(w[0]), 3),
            **{k: round(float(v), 3) for k, v in zip(FIT_FEATURES, w[1:])}}


def cross_validate(sets: list[dict]):
    """Per held-out set: model fitted and threshold chosen on the others. Returns
    (out-of-fold {name: (params, scores)}, defaults params, in-fold {name: scores})."""
    pairs = {ds["name"]: training_pairs(ds) for ds in sets if ds["pairs"] is None}

    def fit(names):
        xs = [pairs[n][0] for n in names if n in pairs]
        ys = [pairs[n][1] for n in names if n in pairs]
        return fit_logistic(np.vstack(xs), np.concatenate(ys))

    def tune(model, tuning):
        runs = {thr: {ds["name"]: evaluate(ds, run_threads(ds, model=model, threshold=thr))
                      for ds in tuning} for thr in PROBABILITIES}
        thr = max(runs, key=lambda t: (sum(objective(s) for s in runs[t].values()), t))
        return thr, runs[thr]

    names = [ds["name"] for ds in sets]
    oof = {}
    for held in sets:
        others = [ds for ds in sets if ds is not held] or sets
        model = fit([ds["name"] for ds in others])
        thr, _ = tune(model, others)
        p = {"model": model, "threshold": thr}
        oof[held["name"]] = (p, evaluate(held, run_threads(held, **p)))
    model = fit(names)
    thr, in_fold = tune(model, sets)
    return oof, {"model": model, "threshold": thr}, in_fold


def choose(scores: dict, names: list[str]):
    # ties: the stricter point (precision first); rounded so float noise is a tie
    return max(scores, key=lambda k: (round(sum(objective(scores[k][n]) for n in names), 9),
                                      k[2], k[3], k[1], k[4]))


def params(key) -> dict:
    return {"weights": WEIGHTS[key[0]], "time_penalty": key[1], "threshold": key[2],
            "member_floor": key[3], **RULES[key[4]]}


def _fmt(s: dict) -> str:
    keys = ["b3_p", "b3_r", "b3_f1", "pair_p", "pair_r"]
    return "  ".join(f"{s[k]:.3f}" if k in s else "  -  " for k in keys)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--stream", type=int, default=0, metavar="N")
    ap.add_argument("--learned", action="store_true", help="the logistic scorer")
    args = ap.parse_args(argv)
    if args.stream:
        return stream(args.stream)
    if not args.data.is_dir() or not any(args.data.glob("*.jsonl")):
        print(f"skipped: no labelled event sets in {args.data}")
        return 0
    sets = load_sets(args.data)
    prepare(sets)
    names = [ds["name"] for ds in sets]
    if not args.learned:
        scores = grid(sets)
        key = choose(scores, names)
        default, in_fold = params(key), {n: scores[key][n] for n in names}
        oof = {}
        for n in names:
            k = choose(scores, [m for m in names if m != n] or names)
            oof[n] = (params(k), scores[k][n])
    else:
        oof, default, in_fold = cross_validate(sets)
    results = []
    for ds in sets:
        n = ds["name"]
        chosen, held = oof[n]
        singles = evaluate(ds, {d.id: d.id for d in ds["docs"]})
        sl_thr, sl = single_link(ds)
        ms = time_threads(ds, **default)
        results.append({
            "set": n, "articles": len(ds["docs"]), "dropped_copies": ds["dropped"],
            **{key: round(v, 4) for key, v in held.items()},
            "ms_per_article": round(ms, 3),
            "chosen": chosen,
            "in_fold": {key: round(v, 4) for key, v in in_fold[n].items()},
            "singletons": {key: round(v, 4) for key, v in singles.items()},
            "single_link": {"threshold": sl_thr, **{key: round(v, 4) for key, v in sl.items()}},
        })
    if args.json:
        for r in results:
            print(json.dumps(r))
        print(json.dumps({"defaults": default}))
        return 0
    print(f"defaults (chosen on all sets): {default}, "
          f"window {threads.DEFAULT_WINDOW_HOURS:g} h")
    print(f"{'set':<18}{'method':<42}  b3_p   b3_r   b3_f1  pair_p pair_r")
    for r in results:
        head = f"{r['set']} ({r['articles']}, -{r['dropped_copies']} copies)"
        print(head)
        c = r["chosen"]
        label = (f"w{WEIGHTS.index(c['weights'])} p{c['time_penalty']} f{c['member_floor']}"
                 f" r{RULES.index({k: c[k] for k in RULES[-1] if k in c})}"
                 if "weights" in c else "model")
        rows = [
            (f"threads out-of-fold t={c['threshold']} {label}", r),
            ("threads in-fold (defaults)", r["in_fold"]),
            ("every article its own thread", r["singletons"]),
            (f"single-link cos>={r['single_link']['threshold']} (oracle)", r["single_link"]),
        ]
        for label, s in rows:
            print(f"{'':<18}{label:<42}  {_fmt(s)}")
        print(f"{'':<18}{'cost':<42}  {r['ms_per_article']:.2f} ms/article")
    return 0


# -- synthetic stream (cost, memory) --------------------------------------------------------

def stream(n: int) -> int:
    rng = random.Random(20261124)
    vocab = [f"w{i}" for i in range(60_000)]
    zipf = [1 / (i + 1) for i in range(len(vocab))]
    common = rng.choices(vocab[:2000], weights=zipf[:2000], k=200_000)
    per_hour = 1_000_000 / (365 * 24)
    index = threads.ThreadIndex()
    events: list[tuple[list[str], float]] = []
    # wall time, and this process's CPU time (the wall figure counts other processes' turns
    # on a shared machine); only assign() is timed, not the generator
    wall = cpu = total_wall = total_cpu = 0.0
    # memory as the index's own counts (tracemalloc would slow every allocation several times)
    print(f"{'articles':>9} {'ms wall':>8} {'ms cpu':>7} {'threads':>8} {'postings':>9} "
          f"{'terms':>8}")
    for i in range(n):
        ts = i * 3600 / per_hour
        if not events or rng.random() < 0.4:  # a new event: its own rare words
            events.append((rng.sample(vocab[2000:], 30), ts))
            events = [e for e in events if ts - e[1] < 3 * 86400]
        words, _ = rng.choice(events)
        body = [rng.choice(common) if rng.random() < 0.7 else rng.choice(words)
                for _ in range(400)]
        doc = threads.Doc(i, " ".join(rng.sample(words, 6)), " ".join(body), ts)
        w0, c0 = time.perf_counter(), time.process_time()
        index.assign(doc)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        if (i + 1) % max(1, n // 10) == 0:
            k = max(1, n // 10)
            terms = sum(len(v) for t in index.threads.values() for v in t.sums.values())
            terms += sum(len(m) for t in index.threads.values() for m in t.members)
            print(f"{i + 1:>9} {wall * 1000 / k:>8.2f} {cpu * 1000 / k:>7.2f} {len(index):>8} "
                  f"{len(index.postings):>9} {terms:>8}")
            total_wall, total_cpu, wall, cpu = total_wall + wall, total_cpu + cpu, 0.0, 0.0
    print(f"mean {total_wall * 1000 / n:.2f} ms/article wall, {total_cpu * 1000 / n:.2f} cpu "
          "(the archive size does not enter: only the window)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
