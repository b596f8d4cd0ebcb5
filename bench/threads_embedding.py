"""Story threads with a local sentence-embedding model as extra score terms, against the
TF-IDF scorer alone, on the labelled event sets: a measurement (the product ships no
embedding; the issue allows one only from a local path, the TF-IDF path staying the default).

    pip install 'sentence-transformers>=2.2'
    python bench/threads_embedding.py --model DIR           # a sentence-transformers folder
    python bench/threads_embedding.py --model DIR --data DIR

`--model` (or NEWSWATCH_EMBED_MODEL) must be a folder on disk: nothing is fetched
(HF_HUB_OFFLINE is set). Skips cleanly (exit 0) without sentence-transformers, a model or
the sets.

What it prints, all from one run:
- the model's cost per article (title and first EMBED_WORDS words) beside the TF-IDF
  threads' own (`ThreadIndex.assign`, defaults);
- on the sets with topics (events of one kind, the hard negatives): how well each cosine
  separates same-event pairs from same-topic pairs (ROC AUC), the embedding against the
  body TF-IDF cosine;
- bench/threads.py's grid (hand weights with the cross cosine, both bar rules, both time
  penalties, thresholds to 0.7) with and without the embedding terms: "emb", the cosine
  with the mean embedding of the thread's reports, and "emb_min", the least cosine with
  its last threads.MEMBERS reports; chosen leave-one-set-out as bench/threads.py chooses,
  out-of-fold and in-fold objective summed over the sets, and per set what was chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import threads as bench  # noqa: E402  (bench/threads.py)
from newswatch import threads, tfidf  # noqa: E402

EMBED_WORDS = 200   # all-MiniLM-style models read 256 word pieces at most
THRESHOLDS = [round(0.15 + 0.05 * i, 2) for i in range(12)]  # the terms add weight: to 0.7
BASE = bench.WEIGHTS[1]
VARIANTS = {  # name -> weights ("base": bench/threads.py's cross-cosine weights alone)
    "base": dict(BASE),
    "emb 0.1": {**BASE, "emb": 0.1},
    "emb 0.2": {**BASE, "emb": 0.2},
    "emb 0.3": {**BASE, "emb": 0.3},
    "emb_min 0.2": {**BASE, "emb_min": 0.2},
    "emb+min 0.1": {**BASE, "emb": 0.1, "emb_min": 0.1},
    "half tf-idf": {**{k: v / 2 for k, v in BASE.items()}, "emb": 0.2, "emb_min": 0.2},
}
RULE_KEYS = (0, 2)  # bench.RULES: no bars, the product's bars


class EmbeddingIndex(threads.ThreadIndex):
    """ThreadIndex with two more pair features from precomputed unit embeddings by id."""

    def __init__(self, *, embeddings: dict, **params):
        super().__init__(**params)
        self.embeddings = embeddings
        self.sums: dict = {}      # thread id -> sum of its reports' embeddings
        self.last: dict = {}      # thread id -> its last MEMBERS reports' embeddings

    def pair_features(self, feats, thread):
        x = super().pair_features(feats, thread)
        e, total = self.embeddings[feats.id], self.sums[thread.id]
        x["emb"] = max(0.0, float(e @ total) / (float(np.linalg.norm(total)) or 1.0))
        x["emb_min"] = max(0.0, min(float(e @ m) for m in self.last[thread.id]))
        return x

    def place(self, feats):
        decision = super().place(feats)
        e, tid = self.embeddings[feats.id], decision.thread_id
        self.sums[tid] = self.sums[tid] + e if tid in self.sums else e.copy()
        self.last[tid] = [*self.last.get(tid, [])[-(threads.MEMBERS - 1):], e]
        return decision


def embed_sets(sets: list[dict], encode) -> tuple[dict, float]:
    """{set name: {article id: unit vector}} for the kept articles, and ms per article."""
    out, n, start = {}, 0, time.perf_counter()
    for ds in sets:
        texts = [(d.title or "") + ". " + " ".join((d.text or "").split()[:EMBED_WORDS])
                 for d in ds["docs"]]
        vecs = np.asarray(encode(texts), dtype=np.float32)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        out[ds["name"]] = {d.id: v for d, v in zip(ds["docs"], vecs)}
        n += len(texts)
    return out, (time.perf_counter() - start) * 1000 / max(1, n)


def auc(pos: list[float], neg: list[float]) -> float:
    """ROC AUC: the chance that a random positive scores above a random negative."""
    if not pos or not neg:
        return float("nan")
    values = np.concatenate([pos, neg])
    ranks = values.argsort(kind="stable").argsort() + 1.0
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2)
                 / (len(pos) * len(neg)))


def separation(ds: dict, embeddings: dict) -> dict | None:
    """AUC of same-event against same-topic pairs: the embedding and the body cosine."""
    topic = {a["id"]: a.get("topic") for a in ds["articles"]}
    if ds["pairs"] is not None or not any(topic.values()):
        return None
    feats = {f.id: f for f in ds["feats"]}
    ids, gold = list(feats), ds["gold"]
    scores = {"embedding": ([], []), "body tf-idf": ([], [])}
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            same = gold[a] == gold[b]
            if not same and (topic[a] is None or topic[a] != topic[b]):
                continue
            scores["embedding"][not same].append(float(embeddings[a] @ embeddings[b]))
            scores["body tf-idf"][not same].append(
                tfidf.dot(feats[a].vectors["body"], feats[b].vectors["body"]))
    return {k: auc(*v) for k, v in scores.items()}


_STATE: dict = {}


def _point(key):
    variant, penalty, threshold, rule = key
    p = {"weights": VARIANTS[variant], "time_penalty": penalty, "threshold": threshold,
         "member_floor": 0.0, **bench.RULES[rule]}
    return key, {ds["name"]: bench.evaluate(ds, bench.run_threads(
        ds, partial(EmbeddingIndex, embeddings=_STATE["emb"][ds["name"]]), **p))
        for ds in _STATE["sets"]}


def grid(sets: list[dict], embeddings: dict) -> dict:
    keys = [(v, pen, thr, r) for v in VARIANTS for pen in bench.PENALTIES
            for thr in THRESHOLDS for r in RULE_KEYS]
    _STATE.update(sets=sets, emb=embeddings)
    return bench.map_points(_point, keys)


def total(scores: dict, key, names) -> float:
    return round(sum(bench.objective(scores[key][n]) for n in names), 9)


def choose(scores: dict, names, variants) -> tuple:
    # ties: the plainer scorer ("base" first: only what helps is kept), then the stricter
    # point (the terms add weight, so thresholds of different scorers do not compare)
    keys = [k for k in scores if k[0] in variants]
    return max(keys, key=lambda k: (total(scores, k, names), -list(VARIANTS).index(k[0]),
                                    k[2], k[1], k[3]))


def compare(scores: dict, names: list[str]) -> list[dict]:
    """Per candidate family (base alone, base or one embedding variant, all): out-of-fold
    and in-fold objectives and the per-set out-of-fold choice."""
    families = [("tf-idf alone", ["base"])]
    families += [(f"or {v}", ["base", v]) for v in VARIANTS if v != "base"]
    families.append(("any", list(VARIANTS)))
    out = []
    for label, variants in families:
        held = {}
        for n in names:
            k = choose(scores, [m for m in names if m != n] or names, variants)
            held[n] = (k, scores[k][n])
        k_in = choose(scores, names, variants)
        out.append({"family": label, "in_fold": total(scores, k_in, names),
                    "in_fold_point": k_in, "held": held,
                    "oof": round(sum(bench.objective(s) for _, s in held.values()), 9)})
    return out


def _brief(s: dict) -> str:
    """B-cubed F1 / pairwise precision (pair sets: pairwise precision / recall)."""
    if "b3_f1" in s:
        return f"{s['b3_f1']:.3f}/{s['pair_p']:.3f}"
    return f"P{s['pair_p']:.3f}/R{s['pair_r']:.3f}"


def load_encoder(folder: Path):
    """The encode function of the sentence-transformers model in `folder` (never fetched)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(folder), device="cpu")
    return lambda texts: model.encode(texts, batch_size=32, show_progress_bar=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=bench.DATA)
    ap.add_argument("--model", default=os.environ.get("NEWSWATCH_EMBED_MODEL"))
    args = ap.parse_args(argv)
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        print("skipped: sentence-transformers is not installed "
              "(pip install 'sentence-transformers>=2.2')")
        return 0
    if not args.model:
        print("skipped: no model folder (--model DIR or NEWSWATCH_EMBED_MODEL)")
        return 0
    if not Path(args.model).is_dir():
        print(f"error: --model {args.model}: not a folder (a model is never fetched)",
              file=sys.stderr)
        return 2
    if not args.data.is_dir() or not any(args.data.glob("*.jsonl")):
        print(f"skipped: no labelled event sets in {args.data}")
        return 0
    encode = load_encoder(Path(args.model))
    sets = bench.load_sets(args.data)
    bench.prepare(sets)
    embeddings, ms = embed_sets(sets, encode)
    tfidf_ms = np.mean([bench.time_threads(ds) for ds in sets])
    print(f"cost: embedding {ms:.1f} ms/article; TF-IDF threads {tfidf_ms:.2f} ms/article")
    for ds in sets:
        sep = separation(ds, embeddings[ds["name"]])
        if sep:
            print(f"same-event vs same-topic pairs, AUC ({ds['name']}): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in sep.items()))
    names = [ds["name"] for ds in sets]
    scores = grid(sets, embeddings)
    print("best point of each scorer on all sets (in-fold; objective summed over the sets):")
    for v in VARIANTS:
        k = choose(scores, names, [v])
        print(f"  {v:<12} {total(scores, k, names):.3f}  t={k[2]} p{k[1]} r{k[3]}  "
              + "  ".join(f"{n[:8]} {_brief(scores[k][n])}" for n in names))
    print("leave-one-set-out (tuned on the other sets), each family of scorers:")
    rows = compare(scores, names)
    for row in rows:
        picked = Counter(k[0] for k, _ in row["held"].values())
        print(f"  {row['family']:<16} out-of-fold {row['oof']:.3f}  in-fold "
              f"{row['in_fold']:.3f}  chosen: "
              + ", ".join(f"{v} x{c}" for v, c in picked.most_common()))
    print("  per set, all scorers in the grid:")
    for n, (k, s) in rows[-1]["held"].items():
        print(f"    {n:<18} {k[0]:<12} t={k[2]} p{k[1]} r{k[3]}  {bench._fmt(s)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
