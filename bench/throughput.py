"""Throughput of a first pass, against this machine's own ceilings, measured in one run.

    python bench/throughput.py                  # 2,000 articles (a few minutes)
    python bench/throughput.py --articles 300   # a quick look

A generated outlet is served on 127.0.0.1 by a small stdlib server: N article pages built
from the real pages in ../shared/datasets/extraction (their real markup, scripts and
boilerplate; beyond the first copy of each page the words of its text are swapped for other
words of the same length, so that every article is a different story), a sitemap listing
them all, a feed and robots.txt. Then, on the same HTML:

  (a) plain `trafilatura.extract`, a loop in one process: pages/s and CPU s per page
      (measured alternating page by page with newswatch's own extractor, (a'));
  (b) the same loop spread over every core (multiprocessing): the extraction ceiling;
  (c) a bare Scrapy crawl of the site that only downloads, with newswatch's own download
      settings: the fetch ceiling;
  and the real `newswatch crawl` over the site (discover, fetch, extract, dedupe, store,
  match 100 watches): articles/s, CPU s per article (the crawl and all its worker
  processes), peak memory.

Targets: pipeline >= 85 % of min(b, c); pipeline CPU per article <= 1.15 x (a).

Then watch matching (newswatch.query.match_batch, through alerts.match_pending, the path a
pass takes): 10,000 watches against 1,000 new articles, over archives of 10^4 and 10^5 stored
articles: the time must stay flat, because only the new batch is indexed for matching.

Without the datasets the bench says so and exits 0.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import random
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("NEWSWATCH_BENCH_DATA", ROOT.parent / "shared" / "datasets"))
# The script's own folder is sys.path[0] when run as a file: a sibling bench script named
# like a package (bench/incremental.py vs Twisted's `incremental`) would shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(ROOT))

TARGET_SHARE = 0.85
TARGET_CPU = 1.15


# --------------------------------------------------------------------------- the outlet

_SEGMENTS = re.compile(
    r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I)
_WORD = re.compile(r"&#?\w+;|[^\W\d_]{3,}")
_CANONICAL = re.compile(
    r"<link\b[^>]*rel=[\"']?canonical[\"']?[^>]*>|<meta\b[^>]*property=[\"']og:url[\"'][^>]*>",
    re.I)


def load_pages() -> list[str]:
    files = sorted(DATASETS.glob("extraction/*/html/*.html.gz"))
    pages = []
    for f in files:
        raw = gzip.decompress(f.read_bytes())
        try:
            from newswatch.extract import decode_html

            pages.append(decode_html(raw))
        except ImportError:
            pages.append(raw.decode("utf-8", "replace"))
    return pages


def _vocabulary(pages: list[str]) -> dict[int, list[str]]:
    by_len: dict[int, set[str]] = {}
    for html in pages:
        for i, seg in enumerate(_SEGMENTS.split(html)):
            if i % 2 == 0:
                for w in _WORD.findall(seg):
                    if not w.startswith("&"):
                        by_len.setdefault(len(w), set()).add(w.lower())
    return {n: sorted(ws) for n, ws in by_len.items()}


def _variant(html: str, v: int, vocab: dict[int, list[str]]) -> str:
    """Same markup, other words: word w becomes another word of its length, per variant."""
    def swap(m: re.Match) -> str:
        w = m.group(0)
        if w.startswith("&"):
            return w
        choices = vocab.get(len(w))
        if not choices:
            return w
        new = choices[(zlib.crc32(w.lower().encode()) + v * 7919) % len(choices)]
        return new.capitalize() if w[0].isupper() else new

    parts = _SEGMENTS.split(html)
    for i in range(0, len(parts), 2):
        parts[i] = _WORD.sub(swap, parts[i])
    return "".join(parts)


class Site:
    """The generated outlet: path -> (body, content type)."""

    def __init__(self, pages: list[str], n: int):
        vocab = _vocabulary(pages)
        self.files: dict[str, tuple[bytes, str]] = {}
        self.articles: list[tuple[str, str]] = []  # (path, html)
        for i in range(n):
            src = _CANONICAL.sub("", pages[i % len(pages)])
            v = i // len(pages)
            html = src if v == 0 else _variant(src, v, vocab)
            path = f"/news/{2026 - v % 5}/{i:05d}.html"
            self.articles.append((path, html))
            self.files[path] = (html.encode("utf-8"), "text/html; charset=utf-8")
        self.words = vocab

    def finish(self, base: str) -> None:
        locs = "".join(f"<url><loc>{base}{p}</loc></url>\n" for p, _ in self.articles)
        self.files["/sitemap.xml"] = (
            ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
             f"{locs}</urlset>\n").encode(), "application/xml")
        items = "".join(f"<item><title>Story {i}</title><link>{base}{p}</link></item>\n"
                        for i, (p, _) in enumerate(self.articles[-50:]))
        self.files["/feed.xml"] = (
            ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
             f"<title>Bench</title><link>{base}/</link>{items}</channel></rss>").encode(),
            "application/rss+xml")
        self.files["/robots.txt"] = (b"User-agent: *\nAllow: /\n", "text/plain")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server
    site: Site

    def do_GET(self):
        self.server.requests += 1
        if self.server.first_request is None:
            self.server.first_request = time.monotonic()
        found = self.site.files.get(self.path.split("?")[0])
        body, ctype = found if found else (b"not found", "text/plain")
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    requests = 0
    first_request: float | None = None


def serve(site: Site) -> tuple[_Server, str]:
    handler = type("Handler", (_Handler,), {"site": site})
    server = _Server(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    site.finish(base)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


# ----------------------------------------------------------------------------- baselines

def _plain(html: str) -> int:
    import trafilatura

    return len(trafilatura.extract(html) or "")


def _plain_timed(html: str) -> float:
    c0 = time.process_time()
    _plain(html)
    return time.process_time() - c0


def _ours_timed(html: str) -> float:
    c0 = time.process_time()
    _ours(html)
    return time.process_time() - c0


def _warm(_: int) -> int:
    import trafilatura  # noqa: F401

    return os.getpid()


def _ours(html: str) -> int:
    from newswatch.extract import extract_article

    return len(extract_article(html, "http://127.0.0.1/news/2026/1.html").text)


def baseline_single(htmls: list[str], fn=_plain) -> dict:
    fn(htmls[0])  # imports and lazy setup out of the timing
    t0, c0 = time.perf_counter(), time.process_time()
    texts = [fn(h) for h in htmls]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"pages_s": len(htmls) / wall, "cpu_page": cpu / len(htmls), "wall": wall,
            "empty": sum(1 for t in texts if not t)}


def baseline_pair(htmls: list[str]) -> tuple[dict, dict]:
    """(a) and (a') in one loop, alternating page by page, so that both see the same
    machine (a shared or throttled CPU drifts over minutes)."""
    _plain(htmls[0])
    _ours(htmls[0])
    spent = {_plain: [0.0, 0.0], _ours: [0.0, 0.0]}  # wall, cpu
    for i, html in enumerate(htmls):
        for fn in ((_plain, _ours) if i % 2 else (_ours, _plain)):
            t0, c0 = time.perf_counter(), time.process_time()
            fn(html)
            spent[fn][0] += time.perf_counter() - t0
            spent[fn][1] += time.process_time() - c0
    n = len(htmls)
    return tuple({"pages_s": n / spent[fn][0], "cpu_page": spent[fn][1] / n}
                 for fn in (_plain, _ours))


def baseline_parallel(htmls: list[str], workers: int, fn=_plain_timed) -> dict:
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver" if "forkserver" in
                                      multiprocessing.get_all_start_methods() else "spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_warm, range(workers * 4))
        pool.map(fn, htmls[:workers])
        t0 = time.perf_counter()
        cpu = sum(pool.imap_unordered(fn, htmls, chunksize=4))
        wall = time.perf_counter() - t0
    return {"pages_s": len(htmls) / wall, "wall": wall, "cpu_page": cpu / len(htmls)}


def _fetch_only_crawl(base: str, workdir: Path) -> None:
    """(c), run in its own process: newswatch's download settings, no pipelines."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from newswatch.config import load_config
    from spiders.settings import crawl_settings

    settings = crawl_settings(load_config(workdir / "newswatch.toml"))
    settings.update({"ITEM_PIPELINES": {}, "DOWNLOADER_MIDDLEWARES": {},
                     "ROBOTSTXT_OBEY": True})
    fetched = [0]

    class FetchOnly(scrapy.Spider):
        name = "fetch-only"

        async def start(self):
            yield scrapy.Request(base + "/sitemap.xml", callback=self.sitemap)

        def sitemap(self, response):
            for url in re.findall(r"<loc>(.*?)</loc>", response.text):
                yield scrapy.Request(url, callback=self.page)

        def page(self, response):
            fetched[0] += 1

    process = CrawlerProcess(settings)  # crawl_settings: LOG_INSTALL_ROOT_HANDLER off
    process.crawl(FetchOnly)
    process.start()
    print(json.dumps({"fetched": fetched[0]}))


# ------------------------------------------------------------------------- measurement

class Tree:
    """Peak memory of a process and its descendants (sum of RSS, and the largest single
    RSS), sampled every 50 ms. (`ru_maxrss` from wait4 is no use here: a child forked from
    this bench, which holds the whole site in memory, inherits its resident size.)"""

    def __init__(self, pid: int):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak_sum = 0
        self.peak_one = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import psutil

        while not self.stop.wait(0.05):
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                total = 0
                for p in procs:
                    try:
                        rss = p.memory_info().rss
                    except psutil.Error:
                        continue
                    total += rss
                    self.peak_one = max(self.peak_one, rss)
                self.peak_sum = max(self.peak_sum, total)
            except psutil.Error:
                return

    def finish(self) -> tuple[int, int]:
        self.stop.set()
        self.thread.join()
        return self.peak_sum, self.peak_one


def run_measured(cmd: list[str], *, cwd: Path, env: dict | None = None,
                 prefix: list[str] | None = None) -> dict:
    """Run a command; wall time, CPU of it and every descendant it reaped, peak memory."""
    t0 = time.perf_counter()
    proc = subprocess.Popen((prefix or []) + cmd, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    tree = Tree(proc.pid)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s, o=o: o.append(s.read()), daemon=True)
               for s, o in ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    peak_tree, peak_one = tree.finish()
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rc": proc.returncode,
            "peak_tree": peak_tree, "maxrss_one": peak_one,
            "stdout": b"".join(out_chunks).decode("utf-8", "replace"),
            "stderr": b"".join(err_chunks).decode("utf-8", "replace")}


def _queries(words: dict[int, list[str]], n: int, seed: int) -> list[str]:
    """Watch-like queries (names, phrases, combinations) over the site's own words."""
    rnd = random.Random(seed)
    pool = [w for k in range(5, 11) for w in words.get(k, [])]
    forms = ("{a} AND {b}", '"{a} {b}"', "({a} OR {b}) AND {c}", "{a} AND {b} NOT {c}",
             "{a}* AND {b}", "{a}")
    out = []
    for i in range(n):
        a, b, c = rnd.sample(pool, 3)
        out.append(forms[i % len(forms)].format(a=a, b=b, c=c))
    return out


def write_config(workdir: Path, base: str, words: dict[int, list[str]], workers: int,
                 watches: int = 100) -> Path:
    lines = [
        'database = "newswatch.db"',
        "[mail]", 'from = "bench@example.org"', 'to = ["desk@example.org"]',
        'outbox_dir = "outbox"',
        "[defaults]", 'alert_max_age = "100w"',
        "[crawl]", f"workers = {workers}",
        "[[outlets]]", 'id = "bench"', 'name = "Bench Outlet"',
        f'sitemaps = ["{base}/sitemap.xml"]', "article_urls = '/news/\\d{4}/'",
        "allow_private = true",
    ]
    for i, q in enumerate(_queries(words, watches, seed=8)):
        lines += ["[[watches]]", f'name = "watch {i}"', f"query = '{q}'"]
    path = workdir / "newswatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pipeline(workdir: Path, base: str, site: Site, server: _Server, workers: int,
             profile: Path | None) -> dict:
    config = write_config(workdir, base, site.words, workers)
    server.first_request = None
    prefix = None
    if profile is not None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        prefix = [spy, "record", "--subprocesses", "--rate", "200", "--format", "speedscope",
                  "-o", str(profile), "--"]
    t_start = time.monotonic()
    result = run_measured([sys.executable, "-m", "newswatch", "--config", str(config),
                           "crawl", "--no-mail"], cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT)}, prefix=prefix)
    if result["rc"] != 0:
        raise SystemExit(f"newswatch crawl failed ({result['rc']}):\n{result['stderr'][-3000:]}")
    result["startup"] = (server.first_request or t_start) - t_start
    import sqlite3

    db = sqlite3.connect(workdir / "newswatch.db")
    result["stored"] = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    result["new"] = db.execute(
        "SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
    result["alerts"] = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
    result["failed"] = db.execute(
        "SELECT count(*) FROM fetches WHERE error IS NOT NULL").fetchone()[0]
    result["reasons"] = db.execute(
        "SELECT substr(error, 1, 60) AS e, count(*) FROM fetches WHERE error IS NOT NULL "
        "GROUP BY e ORDER BY 2 DESC LIMIT 3").fetchall()
    db.close()
    return result


# ----------------------------------------------------------------------- watch matching

def matching(site: Site, workdir: Path, archive_sizes=(10_000, 100_000), n_watches=10_000,
             batch=1_000) -> list[tuple[int, float, float]]:
    """Seconds for match_pending over `batch` new articles with `n_watches` watches, in a
    database that already holds an archive of each size; and match_batch alone."""
    from newswatch import alerts, query
    from newswatch.config import load_config
    from newswatch.store import open_db

    # The visible text of each page (markup, scripts and styles removed), article-sized.
    texts = [re.sub(r"\s+", " ", " ".join(_SEGMENTS.split(h)[::2]))[:5000]
             for _, h in site.articles[:batch]]
    while len(texts) < batch:
        texts += texts[: batch - len(texts)]
    base = "http://127.0.0.1:9"
    config_path = write_config(workdir, base, site.words, 1, watches=n_watches)
    config = load_config(config_path)
    keyed = [(i, w.compiled) for i, w in enumerate(config.watches)]
    docs = [(i + 1, f"story {i}", t) for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    query.match_batch(keyed, docs)
    alone = time.perf_counter() - t0

    results = []
    rnd = random.Random(5)
    filler = [t[:1500] for t in texts]
    for size in archive_sizes:
        path = workdir / f"archive-{size}.db"
        db = open_db(path)
        now = "2026-01-01T00:00:00+00:00"
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO articles (url, outlet, title, text, content_hash, first_seen, "
                "last_seen, matched, changes) VALUES (?, 'bench', ?, ?, ?, ?, ?, 1, 0)",
                ((f"http://a/{i}", f"old {i}", rnd.choice(filler), f"h{i}", now, now)
                 for i in range(size)))
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO articles (url, outlet, title, text, content_hash, first_seen, "
                "last_seen, matched, changes) VALUES (?, 'bench', ?, ?, ?, ?, ?, 0, 0)",
                ((f"http://b/{i}", f"story {i}", t, f"n{i}", now, now)
                 for i, t in enumerate(texts)))
        alerts.sync_watches(db, config)
        t0 = time.perf_counter()
        with db.atomic():
            alerts.match_pending(db, config)
        results.append((size, time.perf_counter() - t0, alone))
        db.close()
        path.unlink()
    return results


# ------------------------------------------------------------------------------- report

def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=0, help="[crawl] workers (0 = cores)")
    ap.add_argument("--skip", default="", help="comma list of: a,a2,b,b2,c,pipeline,match")
    ap.add_argument("--profile", metavar="FILE",
                    help="record the crawl with py-spy (speedscope JSON) into FILE")
    ap.add_argument("--serve", action="store_true", help="only serve the site, print its URL")
    ap.add_argument("--fetch-only", metavar="BASE", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.fetch_only:
        _fetch_only_crawl(args.fetch_only, Path(args.workdir))
        return 0
    skip = set(filter(None, args.skip.split(",")))

    pages = load_pages()
    if not pages:
        print(f"skipped: no pages under {DATASETS / 'extraction'} (datasets not present)")
        return 0
    from newswatch.workers import cores

    ncores = cores()
    workers = args.workers or ncores
    t0 = time.perf_counter()
    site = Site(pages, args.articles)
    server, base = serve(site)
    html_mb = sum(len(b) for b, _ in site.files.values()) / 2**20
    print(f"machine: {ncores} cores, Python {sys.version.split()[0]}; pool workers: {workers}")
    print(f"site: {base}  {args.articles} articles from {len(pages)} real pages, "
          f"{html_mb:.0f} MB of HTML (built in {time.perf_counter() - t0:.1f} s)")
    if args.serve:
        print("serving; Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    htmls = [h for _, h in site.articles]
    figures: dict[str, float] = {}

    with tempfile.TemporaryDirectory(prefix="newswatch-bench-") as tmp:
        workdir = Path(tmp)
        if "a" not in skip:
            if "a2" in skip:
                a = baseline_single(htmls)
            else:
                a, a2 = baseline_pair(htmls)
            figures["a"] = a["pages_s"]
            figures["a_cpu"] = a["cpu_page"]
            print(f"(a) trafilatura.extract, 1 process:   {a['pages_s']:7.1f} pages/s   "
                  f"{a['cpu_page'] * 1000:6.1f} ms CPU/page")
        if "a2" not in skip:
            if "a" in skip:
                a2 = baseline_single(htmls, _ours)
            figures["a2_cpu"] = a2["cpu_page"]
            print(f"(a') newswatch extract_article, 1 process: {a2['pages_s']:5.1f} pages/s   "
                  f"{a2['cpu_page'] * 1000:6.1f} ms CPU/page (our extraction rules)")
        if "b" not in skip:
            b = baseline_parallel(htmls, ncores)
            figures["b"] = b["pages_s"]
            figures["b_cpu"] = b["cpu_page"]
            print(f"(b) same over {ncores} processes:          {b['pages_s']:7.1f} pages/s   "
                  f"{b['cpu_page'] * 1000:6.1f} ms CPU/page (extraction ceiling)")
        if "b2" not in skip:
            b2 = baseline_parallel(htmls, ncores, _ours_timed)
            figures["b2"] = b2["pages_s"]
            print(f"(b') extract_article over {ncores} processes: {b2['pages_s']:5.1f} pages/s   "
                  f"{b2['cpu_page'] * 1000:6.1f} ms CPU/page (our extractor's ceiling)")
        if "c" not in skip:
            write_config(workdir, base, site.words, workers)
            c = run_measured([sys.executable, str(Path(__file__).resolve()), "--fetch-only",
                              base, "--workdir", str(workdir)], cwd=ROOT,
                             env={"PYTHONPATH": str(ROOT)})
            fetched = json.loads(c["stdout"].strip().splitlines()[-1])["fetched"]
            figures["c"] = fetched / c["wall"]
            print(f"(c) bare Scrapy crawl, download only: {figures['c']:7.1f} pages/s   "
                  f"(fetch ceiling; {fetched} pages, {c['cpu'] / fetched * 1000:.1f} ms CPU/page)")
        if "pipeline" not in skip:
            p = pipeline(workdir, base, site, server, workers,
                         Path(args.profile).resolve() if args.profile else None)
            n = p["stored"]
            rate = n / p["wall"]
            figures["p"] = rate
            print(f"pipeline, newswatch crawl:            {rate:7.1f} articles/s "
                  f"{p['cpu'] / max(n, 1) * 1000:6.1f} ms CPU/article   "
                  f"({n} stored, {p['new']} distinct, {p['failed']} failed, "
                  f"{p['alerts']} alert rows; {p['wall']:.1f} s wall, "
                  f"{p['startup']:.1f} s to first request)")
            print(f"    peak memory: {mb(p['peak_tree'])} crawl + workers (sum of RSS), "
                  f"{mb(p['maxrss_one'])} largest single process")
            if p["reasons"]:
                print(f"    failures: {p['reasons']}")
            steady = n / max(p["wall"] - p["startup"], 1e-9)
            print(f"    excluding start-up: {steady:.1f} articles/s")
            if {"b", "c"} <= figures.keys():
                ceiling = min(figures["b"], figures["c"])
                share = rate / ceiling
                print(f"target: pipeline >= {TARGET_SHARE:.0%} of min(b, c) = "
                      f"{ceiling:.1f}/s: {share:.0%} "
                      f"{'MET' if share >= TARGET_SHARE else 'NOT MET'}")
                if "b2" in figures:
                    print(f"    vs min(b', c) = {min(figures['b2'], figures['c']):.1f}/s "
                          f"(our extractor's ceiling): "
                          f"{rate / min(figures['b2'], figures['c']):.0%}")
            if "a_cpu" in figures:
                ratio = (p["cpu"] / max(n, 1)) / figures["a_cpu"]
                print(f"target: CPU/article <= {TARGET_CPU}x (a): {ratio:.2f}x "
                      f"{'MET' if ratio <= TARGET_CPU else 'NOT MET'}")
            if "a2_cpu" in figures:
                print(f"    vs (a') our extractor alone: "
                      f"{(p['cpu'] / max(n, 1)) / figures['a2_cpu']:.2f}x "
                      "(what the pipeline adds around extraction)")
            if args.profile:
                print(f"    profile: {args.profile} (open in speedscope.app)")
        if "match" not in skip:
            for size, secs, alone in matching(site, workdir):
                print(f"matching: 10,000 watches x 1,000 new articles, archive {size:>7,}: "
                      f"{secs:5.2f} s (match_batch alone {alone:.2f} s) "
                      f"{'MET' if secs <= 2 else 'NOT MET'} (<= 2 s)")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
