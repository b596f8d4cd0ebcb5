"""Fuzz newswatch.extract.extract_article with mutated real pages (issue 7; minutes, not CI).

Pages come from ../shared/datasets/extraction/*/html/*.html.gz (skipped cleanly when that
folder is absent). Each round takes a random page and applies random mutations of the kinds
the web produces: truncation, byte flips, invalid UTF-8, NULs and control characters,
deep nesting, huge attributes and words, duplicated or deleted spans, a wrong meta charset,
bidi controls, a body that is really gzip. Every input runs in a worker process with a
time and memory limit; the worker is replaced if it crashes or hangs.

A finding is an input that raised (extract_article must return Article(ok=False, reason)
rather than raise), took longer than --max-seconds, grew the worker past --max-mb, or
produced ok=True with text that is not text. Findings are written to --out as .html files
for tests/test_fuzz_regressions.py.

    python bench/fuzz_extract.py --minutes 3
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import hashlib
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets" / "extraction"
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def pages() -> list[Path]:
    return sorted(DATASETS.glob("*/html/*.html.gz"))


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(["cut", "flip", "insert", "dup", "delete", "nest", "charset",
                         "bigword", "gzip"])
        pos = rng.randrange(max(1, len(out)))
        if op == "cut":
            del out[pos:]
        elif op == "flip" and out:
            for _ in range(rng.randint(1, 50)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif op == "insert":
            out[pos:pos] = rng.choice([
                b"\x00" * 10, b"\xff\xfe\xfd", b"\xe2\x80\xae\xe2\x80\x8f", b"<!--", b"<script>",
                b"<![CDATA[", b"<svg><foreignObject>", b"&#0;&#xD800;&#1114112;", b"\r\r\r",
                b"<meta charset=\"x-unknown-charset\">", b"<base href=\"javascript:x\">",
                b"<html><html><body><body>", b"</html>garbage after the end"])
        elif op == "dup":
            span = out[pos:pos + rng.randint(1, 5000)]
            out[pos:pos] = span * rng.randint(1, 20)
        elif op == "delete":
            del out[pos:pos + rng.randint(1, 5000)]
        elif op == "nest":
            depth = rng.choice([100, 1000, 10_000, 100_000])
            out[pos:pos] = b"<div>" * depth + b"<p>nested</p>" + b"</div>" * rng.choice([0, depth])
        elif op == "charset":
            out[pos:pos] = rng.choice([b'<meta charset="windows-1251">',
                                       b'<meta charset="shift_jis">',
                                       b'<meta http-equiv="Content-Type" '
                                       b'content="text/html; charset=utf-16">'])
        elif op == "bigword":
            out[pos:pos] = b"<p>" + b"A" * rng.choice([10_000, 1_000_000]) + b"</p>"
        elif op == "gzip":
            out = bytearray(gzip.compress(bytes(out)))
    return bytes(out)


def _limit_memory(max_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_mb * 1024 * 1024, max_mb * 1024 * 1024))


def run_one(data: bytes, url: str) -> tuple[str, float, int, str]:
    """In the worker: (outcome, seconds, max RSS in MB, detail)."""
    from newswatch.extract import extract_article

    started = time.monotonic()
    try:
        article = extract_article(data, url)
    except MemoryError:
        return "memory", time.monotonic() - started, 0, "MemoryError"
    except Exception as exc:  # noqa: BLE001 - that is the finding
        return "raised", time.monotonic() - started, 0, f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.monotonic() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if article.ok:
        text = article.text or ""
        bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\t") or c == "\ufffd")
        if "\x00" in text or bad > max(20, len(text) // 50):
            return "not-text", seconds, rss, text[:200]
        return "ok", seconds, rss, ""
    return "refused", seconds, rss, article.reason


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="fuzz extract_article with mutated pages")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--max-mb", type=int, default=2048)
    parser.add_argument("--out", type=Path,
                        default=Path(tempfile.gettempdir()) / "newswatch-fuzz-findings")
    args = parser.parse_args(argv)
    sources = pages()
    if not sources:
        print(f"skipped: no pages under {DATASETS}")
        return 0
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    deadline = time.monotonic() + args.minutes * 60
    counts: dict[str, int] = {}
    slowest = (0.0, "")
    biggest = 0
    findings = []
    pool = cf.ProcessPoolExecutor(1, initializer=_limit_memory, initargs=(args.max_mb,))
    runs = 0
    while time.monotonic() < deadline:
        source = rng.choice(sources)
        data = mutate(gzip.decompress(source.read_bytes()), rng)
        url = f"https://fuzz.example/{source.stem}"
        runs += 1
        future = pool.submit(run_one, data, url)
        try:
            outcome, seconds, rss, detail = future.result(timeout=args.max_seconds)
        except cf.TimeoutError:
            outcome, seconds, rss, detail = "hang", args.max_seconds, 0, ""
        except cf.process.BrokenProcessPool:
            outcome, seconds, rss, detail = "crash", 0.0, 0, "worker died"
        if outcome in ("hang", "crash"):
            for process in list(pool._processes.values()):  # a hung worker: end it
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            pool = cf.ProcessPoolExecutor(1, initializer=_limit_memory, initargs=(args.max_mb,))
        counts[outcome] = counts.get(outcome, 0) + 1
        if seconds > slowest[0]:
            slowest = (seconds, source.name)
        biggest = max(biggest, rss)
        if outcome in ("raised", "hang", "crash", "memory", "not-text"):
            args.out.mkdir(parents=True, exist_ok=True)
            name = f"{outcome}-{hashlib.sha256(data).hexdigest()[:12]}.html"
            (args.out / name).write_bytes(data)
            findings.append((name, source.name, detail))
    pool.shutdown(cancel_futures=True)
    print(f"seed {seed}: {runs} mutated pages from {len(sources)} in {args.minutes:g} min")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"slowest page: {slowest[0]:.2f} s ({slowest[1]}); worker max RSS {biggest} MB")
    for name, source, detail in findings:
        print(f"FINDING {name} (from {source}): {detail}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
