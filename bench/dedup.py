"""Near-duplicate detection: quality on a labelled set, and cost as the index grows.

    python bench/dedup.py                      # labelled set + sizes 10^4, 10^5, 10^6
    python bench/dedup.py --sizes 10000        # quick run
    python bench/dedup.py --no-quality         # cost only

Quality (skipped cleanly without ../shared/datasets/extraction): the real article bodies of
the zyte and fundus manifests, split deterministically into a stored two thirds S and a
probe third P (fundus outlets with several pages stay whole in S).
- Positives: three syndication copies of every S text of >= 150 words, generated with a
  fixed seed: "light" (new headline, another outlet's header and footer boilerplate),
  "trim" (first or last paragraph dropped, an added intro, one sentence reworded,
  boilerplate), "heavy" (first and last paragraphs dropped, intro, three sentences
  reworded, boilerplate). Correct when `find` returns the original's id.
- Negatives: every S text as it is stored (distinct real articles, among them several of
  one outlet: must match nothing stored before it); every P text raw; P with its capitalised
  words (names, places) replaced by those of an S text; P plus one background paragraph
  of an S text (a follow-up reusing background); both at once. Correct when `find` is None.
Precision = correct positive hits / all hits; recall = correct positive hits / positives.

Cost: a temporary database (newswatch.store.open_db) with n stored originals' bands (random
buckets: bands of unrelated texts are uniformly spread; built fast in key order with
executemany in one transaction), then 1,000 new synthetic ~600-word articles, 10 % of them
edited copies of stored ones, are checked and inserted (find + add, in batches of 50 per
transaction as the store does) in a child process, which reports the time per article
(median, p95) and its peak RSS. DB bytes per article counts the lsh_bands table and its
indexes (dbstat). The articles table is not counted (its text is stored anyway).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch import clock, dedup  # noqa: E402
from newswatch.store import open_db  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets" / "extraction"
SEED = 4

HEADERS = [
    "Sign up for the Morning Briefing newsletter and get the day's top stories in your inbox.",
    "This story is provided by our partner wire service and has been edited for length.",
    "Listen to this article. Audio narration is generated automatically.",
]
FOOTERS = [
    "Copyright 2026 The Daily Courier. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed without permission.",
    "Read more: Local council approves new budget after lengthy debate over road repairs.",
    "Follow us on social media for the latest updates and share your thoughts in the comments "
    "section below.",
    "Have a news tip? Contact our newsroom by e-mail at any time of day.",
]
INTROS = [
    "Our correspondents have followed this developing story closely over the past days, "
    "and the following report gives the latest details as they were released.",
    "Here is what we know so far about the events described below, according to the wire "
    "report received by our editors this morning.",
]
REWORD = {"the": "this", "and": "as well as", "said": "stated", "is": "remains",
          "was": "had been", "of": "from", "in": "within", "to": "towards", "a": "one",
          "der": "dieser", "die": "diese", "und": "sowie", "das": "dieses"}


# ---------------------------------------------------------------------------- data

def load_texts() -> list[dict] | None:
    if not DATASETS.is_dir():
        return None
    out = []
    for name, field in (("fundus", "body_text"), ("zyte", "articleBody")):
        path = DATASETS / name / "manifest.json"
        if not path.is_file():
            continue
        for item in json.loads(path.read_text(encoding="utf-8"))["items"]:
            text = item.get(field) or ""
            paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
            if len(" ".join(paras).split()) < dedup.MIN_WORDS:
                continue
            out.append({"id": item["id"], "outlet": item.get("publisher") or item["id"],
                        "paras": paras})
    return out or None


def sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", paragraph) if s]


def reword(paras: list[str], rng: random.Random, count: int) -> list[str]:
    paras = list(paras)
    for _ in range(count):
        i = rng.randrange(len(paras))
        sents = sentences(paras[i])
        j = rng.randrange(len(sents))
        words = sents[j].split()
        words = [REWORD.get(w.lower(), w) for w in words]
        if len(words) > 6:  # swap two clauses' worth of words and drop one
            k = rng.randrange(1, len(words) - 3)
            words[k], words[k + 1] = words[k + 1], words[k]
            del words[k + 2]
        sents[j] = " ".join(words)
        paras[i] = " ".join(sents)
    return paras


def syndicate(paras: list[str], rng: random.Random, kind: str) -> str:
    header, footer = rng.choice(HEADERS), rng.sample(FOOTERS, 2)
    headline = "UPDATE: " + " ".join(paras[0].split()[:8])
    body = list(paras)
    if kind == "light":
        return "\n\n".join([headline, header, *body, *footer])
    intro = rng.choice(INTROS)
    if kind == "trim":
        if len(body) >= 4:
            body = body[1:] if rng.random() < 0.5 else body[:-1]
        body = reword(body, rng, 1)
    else:  # heavy
        if len(body) >= 5:
            body = body[1:-1]
        body = reword(body, rng, 3)
    return "\n\n".join([headline, header, intro, *body, *footer])


def swap_names(paras: list[str], donor: list[str], rng: random.Random) -> list[str]:
    names = [w for w in re.findall(r"\b[A-ZÄÖÜ][\w-]{2,}", " ".join(donor))]
    if not names:
        return paras
    return [re.sub(r"(?<=\s)[A-ZÄÖÜ][\w-]{2,}", lambda m: rng.choice(names), p)
            for p in paras]


def quality() -> dict | None:
    texts = load_texts()
    if texts is None:
        print("quality: skipped (no ../shared/datasets/extraction)")
        return None
    rng = random.Random(SEED)
    outlets: dict[str, int] = {}
    for t in texts:
        outlets[t["outlet"]] = outlets.get(t["outlet"], 0) + 1
    stored = [t for t in texts if outlets[t["outlet"]] > 1]
    single = [t for t in texts if outlets[t["outlet"]] == 1]
    random.Random(SEED).shuffle(single)
    cut = len(texts) * 2 // 3 - len(stored)
    stored += single[:cut]
    probes = single[cut:]

    workdir = tempfile.mkdtemp(prefix="nw-dedup-q-")
    db = open_db(os.path.join(workdir, "q.db"))
    finder = dedup.DuplicateFinder(db)
    now = clock.now_iso()
    ids = {}
    fp = tp = fn = wrong = 0
    false_hits = []
    with db.atomic():
        for t in stored:  # negatives 1: real distinct articles, checked as they arrive
            text = "\n\n".join(t["paras"])
            hit = finder.find(text)
            if hit is not None:
                fp += 1
                false_hits.append(("stored", t["id"], hit))
            aid = db["articles"].insert({
                "url": f"https://{t['outlet']}.example/{len(ids)}", "outlet": t["outlet"],
                "first_seen": now, "last_seen": now, "text": text,
                "content_hash": dedup.content_hash(text)}).last_pk
            finder.add(aid, text)
            ids[t["id"]] = aid
    negatives = len(stored)
    # negatives 2: probe texts, raw and made to share names and background with S
    for t in probes:
        donor = rng.choice(stored)
        background = max(donor["paras"], key=len)
        variants = {
            "raw": t["paras"],
            "names": swap_names(t["paras"], donor["paras"], rng),
            "background": t["paras"][:1] + [background] + t["paras"][1:],
        }
        variants["both"] = swap_names(variants["background"], donor["paras"], rng)
        for kind, paras in variants.items():
            negatives += 1
            hit = finder.find("\n\n".join(paras))
            if hit is not None:
                fp += 1
                false_hits.append((kind, t["id"], hit))
    positives = 0
    by_kind: dict[str, list[int]] = {}
    misses = []
    for t in stored:
        if len(" ".join(t["paras"]).split()) < 150:
            continue
        for kind in ("light", "trim", "heavy"):
            positives += 1
            copy = syndicate(t["paras"], rng, kind)
            hit = finder.find(copy)
            stats = by_kind.setdefault(kind, [0, 0])
            stats[1] += 1
            if hit == ids[t["id"]]:
                tp += 1
                stats[0] += 1
            elif hit is None:
                fn += 1
                misses.append((kind, t["id"]))
            else:
                wrong += 1
                false_hits.append((kind, t["id"], hit))
    db.conn.close()
    precision = tp / (tp + fp + wrong) if tp + fp + wrong else 1.0
    recall = tp / positives if positives else 0.0
    print(f"quality: {len(stored)} stored originals, {positives} positives "
          f"({', '.join(f'{k} {v[0]}/{v[1]}' for k, v in by_kind.items())}), "
          f"{negatives} negative probes")
    print(f"  precision {precision:.4f}  recall {recall:.4f}  "
          f"(tp {tp}, fp {fp}, wrong original {wrong}, fn {fn})")
    for item in false_hits[:10]:
        print("  false hit:", item)
    for item in misses[:10]:
        print("  miss:", item)
    return {"precision": precision, "recall": recall}


# ---------------------------------------------------------------------------- cost

def synthetic_text(rng: random.Random, vocab: list[str], words: int = 600) -> str:
    body = rng.choices(vocab, weights=WEIGHTS, k=words)
    paras = [" ".join(body[i:i + 60]) + "." for i in range(0, words, 60)]
    return "\n\n".join(paras)


VOCAB = [f"w{i:05d}" for i in range(30000)]
WEIGHTS = [1 / (i + 1) for i in range(len(VOCAB))]  # Zipf-like word frequencies


def build(path: str, n: int) -> None:
    import numpy as np

    db = open_db(path)
    conn = db.conn
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("DROP INDEX idx_lsh_bands_added")
    conn.execute("DROP INDEX idx_lsh_bands_article_id")
    day = clock.now_iso()[:10]
    rng = np.random.default_rng(SEED)
    conn.execute("BEGIN")
    for band in range(dedup.BANDS):  # key order: the primary-key index grows at its end
        buckets = rng.integers(0, 2**63, size=n, dtype=np.int64)
        order = np.argsort(buckets)  # non-negative: integer order = big-endian byte order
        data = buckets.astype(">u8").tobytes()
        conn.executemany(
            "INSERT INTO lsh_bands (band, bucket, article_id, added) VALUES (?, ?, ?, ?)",
            ((band, data[i * 8:i * 8 + 8], int(i) + 1_000_000_000, day) for i in order))
    conn.execute("COMMIT")
    conn.execute("CREATE INDEX idx_lsh_bands_added ON lsh_bands(added)")
    conn.execute("CREATE INDEX idx_lsh_bands_article_id ON lsh_bands(article_id)")
    conn.close()


def probe(path: str, count: int) -> dict:
    """Run in a child process: the cost of check+insert on the prebuilt database."""
    db = open_db(path)
    finder = dedup.DuplicateFinder(db)
    rng = random.Random(SEED)
    now = clock.now_iso()
    originals = []
    with db.atomic():  # 100 stored originals with real text, to be copied below
        for i in range(100):
            text = synthetic_text(rng, VOCAB)
            aid = db["articles"].insert({"url": f"https://o.example/{i}", "outlet": "o",
                                         "first_seen": now, "last_seen": now, "text": text,
                                         "content_hash": dedup.content_hash(text)}).last_pk
            finder.add(aid, text)
            originals.append((aid, text))
    texts = []
    for i in range(count):
        if i % 10 == 0:
            aid, text = originals[(i // 10) % len(originals)]
            paras = text.split("\n\n")
            texts.append(("copy", aid, "\n\n".join([INTROS[0], *paras[1:-1], FOOTERS[0]])))
        else:
            texts.append(("new", None, synthetic_text(rng, VOCAB)))
    times, found, by_kind = [], 0, {"new": [], "copy": []}
    for start in range(0, count, 50):
        with db.atomic():
            for kind, aid, text in texts[start:start + 50]:
                t0 = time.perf_counter()
                hit = finder.find(text)
                if hit is None:
                    new_id = 2_000_000_000 + len(times)
                    finder.add(new_id, text)
                times.append((time.perf_counter() - t0) * 1000)
                by_kind[kind].append(times[-1])
                found += kind == "copy" and hit == aid
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95)],
            "new_median_ms": statistics.median(by_kind["new"]),
            "copy_median_ms": statistics.median(by_kind["copy"]),
            "copies_found": found, "copies": count // 10,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    # VmHWM starts afresh at exec; ru_maxrss on Linux is carried over from the parent
    # (which built the database), so it would overstate the child's peak.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cost(sizes: list[int], probes: int) -> None:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="nw-dedup-") as tmp:
            path = os.path.join(tmp, "bench.db")
            t0 = time.perf_counter()
            build(path, n)
            built = time.perf_counter() - t0
            out = subprocess.run([sys.executable, __file__, "--probe", path, "--probes",
                                  str(probes)], capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            db = open_db(path)
            size = db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('lsh_bands', "
                "'sqlite_autoindex_lsh_bands_1', 'idx_lsh_bands_added', "
                "'idx_lsh_bands_article_id')").fetchone()[0]
            db.conn.close()
            result.update(n=n, bytes_per_article=size / (n + 100 + probes), build_s=built)
            rows.append(result)
            print(f"  n={n:>8,}: check+insert median {result['median_ms']:.2f} ms, "
                  f"p95 {result['p95_ms']:.2f} ms (new story {result['new_median_ms']:.2f}, "
                  f"copy {result['copy_median_ms']:.2f}); lsh_bands {result['bytes_per_article']:.0f} "
                  f"B/article; peak RSS {result['peak_rss_mb']:.0f} MB; copies found "
                  f"{result['copies_found']}/{result['copies']} (build {built:.0f} s)",
                  flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated numbers of stored articles")
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-cost", action="store_true")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.probes)))
        return 0
    print("$ python bench/dedup.py " + shlex.join(argv if argv is not None else sys.argv[1:]))
    print(f"params: shingle {dedup.SHINGLE} words, num_perm {dedup.NUM_PERM}, bands "
          f"{dedup.BANDS}x{dedup.ROWS}, min words {dedup.MIN_WORDS}, Jaccard >= "
          f"{dedup.JACCARD} or containment >= {dedup.CONTAINMENT}")
    if not args.no_quality:
        quality()
    if not args.no_cost:
        print(f"cost ({args.probes} check+insert per size; targets <= 2 ms at 10^6, "
              "peak RSS <= 300 MB):")
        cost([int(s) for s in args.sizes.split(",") if s.strip()], args.probes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
