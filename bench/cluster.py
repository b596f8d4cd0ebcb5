"""The cluster (newswatch.cluster) measured: workers on pinned cores, and SIGKILLs.

    python bench/cluster.py                 # 1,000 articles over 20 outlets, 20 kills
    python bench/cluster.py --articles 200 --kills 5

Needs a PostgreSQL server: $NEWSWATCH_TEST_POSTGRES (e.g.
postgresql://postgres@127.0.0.1:5432/test); each run works in a database of its own, dropped
at the end. Real pages come from ../shared/datasets/extraction as in bench/throughput.py;
without them (or without the server) the bench says so and exits 0.

  1. throughput: the articles spread over 20 outlets (one generated site each, on 127.0.0.1),
     crawled by one `newswatch worker` pinned to core 0 (`taskset -c 0`), then on a fresh
     store by two workers pinned to cores 0 and 1: articles/s each and the ratio (>= 1.8);
  2. the per-article cost of the PostgreSQL store against the SQLite store in the same run
     (<= 1.2x; bench/store_backends.py's write path);
  3. kills: a scheduler, three workers, generated outlets with slow pages; a worker is
     SIGKILLed mid-pass N times at random points and replaced: then every article is stored
     once, every alert email arrives once, no outlet was crawled by two passes at once (the
     sites' own request log), and the store is consistent.

This file is also the harness tests/test_cluster.py drives (Cluster, PassLog, fresh_database).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(Path(__file__).resolve().parent))

POSTGRES_ENV = "NEWSWATCH_TEST_POSTGRES"
def phrase(n: int) -> str:
    """A sentence the watch matches, different in every story: a sentence repeated (even
    nearly) on many pages of an outlet is learned as boilerplate (newswatch.templates)."""
    rng = random.Random(n)
    words = ["ministers", "harbour", "grain", "railway", "summit", "envoys", "border",
             "treaty", "delegation", "fisheries", "airport", "tariffs", "pipeline", "banks",
             "archives", "satellites", "vaccines", "textiles", "courts", "festival"]
    a, b, c, d = rng.sample(words, 4)
    return (f"Lavrov discussed {a} and {b} in Pyongyang, then {c} with {d} officials "
            f"(visit {n}).")


_phrases = iter(range(10**9))


def publish(farm, n: int = 1) -> list[str]:
    """n stories the watch matches on every outlet of the farm: their URLs."""
    return [f"{farm.urls[s.outlet.oid]}{s.outlet.path(i)}" for s in farm.servers
            for _ in range(n) for i in s.outlet.add(1, phrase=phrase(next(_phrases)))]
WATCH = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
"""


# ----------------------------------------------------------------------------- postgres

@contextlib.contextmanager
def fresh_database(server_url: str):
    """A fresh database on the server of `server_url`, dropped afterwards: yields its URL."""
    import psycopg

    name = f"nw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(server_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def queue_rows(url: str, sql: str, args=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, options="-c search_path=procrastinate") as conn:
        return conn.execute(sql, args).fetchall()


# ------------------------------------------------------------------- the sites' own log

class PassLog:
    """A server-side log of which process fetched what from each outlet, and when: each
    request's peer port is looked up among this machine's sockets (loopback only), so the
    log knows the crawling process of every request without trusting the crawler."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[tuple[str, int, float, float]] = []  # outlet, pid, start, end

    def install(self, farm) -> None:
        from outlet_server import Handler

        log = self

        class Logged(Handler):
            def do_GET(self):  # noqa: N802
                start = time.monotonic()
                pid = log.peer_pid(self.client_address[1])
                super().do_GET()
                with log.lock:
                    log.requests.append((self.server.outlet.oid, pid, start, time.monotonic()))

        for server in farm.servers:
            server.RequestHandlerClass = Logged

    @staticmethod
    def peer_pid(port: int) -> int:
        import psutil

        for conn in psutil.net_connections("tcp4"):
            if conn.laddr and conn.laddr.port == port and conn.pid:
                return conn.pid
        return -1

    def passes(self) -> dict[str, list[tuple[int, float, float]]]:
        """outlet -> [(pid, first request, last response)], one per crawling process."""
        spans: dict[tuple[str, int], list[float]] = {}
        with self.lock:
            for outlet, pid, start, end in self.requests:
                span = spans.setdefault((outlet, pid), [start, end])
                span[0], span[1] = min(span[0], start), max(span[1], end)
        out: dict[str, list] = defaultdict(list)
        for (outlet, pid), (start, end) in spans.items():
            out[outlet].append((pid, start, end))
        return out

    def overlaps(self) -> list[str]:
        """Two processes crawling one outlet at the same moment, as the sites saw it."""
        found = []
        for outlet, spans in self.passes().items():
            spans.sort(key=lambda s: s[1])
            for a, b in zip(spans, spans[1:]):
                if b[1] < a[2]:
                    found.append(f"{outlet}: pid {a[0]} {a[1]:.2f}-{a[2]:.2f} and pid {b[0]} "
                                 f"{b[1]:.2f}-{b[2]:.2f}")
        return found


# ---------------------------------------------------------------------------- processes

class Cluster:
    """Schedulers and workers of one config, as real `newswatch` processes."""

    def __init__(self, folder: Path, config_text: str, env: dict | None = None):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "newswatch.toml"
        self.config.write_text(config_text, encoding="utf-8")
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.workers: list[subprocess.Popen] = []
        self.schedulers: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _start(self, args: list[str], prefix: list[str] | None = None) -> subprocess.Popen:
        log = self.folder / f"process-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "w") as out:
            return subprocess.Popen(
                [*(prefix or []), sys.executable, "-m", "newswatch", "--config",
                 str(self.config), *args], cwd=self.folder, env=self.env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def start_worker(self, *args: str, core: int | None = None) -> subprocess.Popen:
        prefix = ["taskset", "-c", str(core)] if core is not None else None
        process = self._start(["worker", *args], prefix)
        self.workers.append(process)
        return process

    def start_scheduler(self, *args: str, workers: int = 0) -> subprocess.Popen:
        """`newswatch run`, by default scheduling only (the workers are started apart)."""
        process = self._start([*args, "run", "--workers", str(workers)])
        self.schedulers.append(process)
        return process

    def passes_running(self) -> dict[int, list]:
        """worker pid -> its live `_pass` children."""
        import psutil

        out = {}
        for worker in self.workers:
            if worker.poll() is not None:
                continue
            try:
                kids = psutil.Process(worker.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            out[worker.pid] = [k for k in kids if "_pass" in " ".join(_cmdline(k))]
        return out

    def kill_worker_mid_pass(self, rng: random.Random, deadline: float = 120) -> str | None:
        """SIGKILL a worker (that process alone, as the OOM killer would) at a random moment
        of one of its passes; returns the outlet it was crawling, or None if no pass started
        before the deadline. Its pass child must die with it (PR_SET_PDEATHSIG)."""
        import psutil

        end = time.monotonic() + deadline
        while time.monotonic() < end:
            busy = {pid: kids for pid, kids in self.passes_running().items() if kids}
            if busy:
                pid = rng.choice(sorted(busy))
                child = busy[pid][0]
                outlet = _cmdline(child)[-1]
                time.sleep(rng.uniform(0.0, 1.5))
                os.kill(pid, signal.SIGKILL)
                worker = next(w for w in self.workers if w.pid == pid)
                worker.wait()
                self.workers.remove(worker)
                try:
                    child.wait(30)
                except psutil.NoSuchProcess:
                    pass
                except psutil.TimeoutExpired:
                    raise AssertionError(f"the pass of {outlet} outlived its worker") from None
                return outlet
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        for process in self.schedulers + self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.schedulers + self.workers:
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                         for p in self.logs if p.exists())


def _cmdline(process) -> list[str]:
    try:
        return process.cmdline()
    except Exception:  # noqa: BLE001 - gone meanwhile
        return []


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def store_rows(target, sql: str, args=()) -> list[tuple]:
    """Rows of the store `database = ...` names: a PostgreSQL URL or a SQLite file ("?"
    placeholders either way); [] while it does not exist yet."""
    if str(target).startswith("postgresql://"):
        import psycopg

        try:
            with psycopg.connect(str(target), autocommit=True) as conn:
                return conn.execute(sql.replace("?", "%s"), args or None).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    if not Path(target).exists():
        return []
    try:
        with sqlite3.connect(target, timeout=30) as conn:
            return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise


def store_problems(target) -> list[str]:
    """What a consistent store never has."""
    problems = []
    if not str(target).startswith("postgresql://") and \
            store_rows(target, "PRAGMA integrity_check")[0][0] != "ok":
        problems.append("integrity_check failed")
    for (url, n) in store_rows(target, "SELECT url, count(*) FROM articles GROUP BY url "
                                       "HAVING count(*) > 1"):
        problems.append(f"{url} stored {n} times")
    for row in store_rows(target, "SELECT watch, article_id, count(*) FROM alerts "
                                  "GROUP BY 1, 2 HAVING count(*) > 1"):
        problems.append(f"alert {row} doubled")
    return problems


def config_text(urls: dict[str, str], queue: str, *, schedule: str, smtp=None,
                stalled_after: float = 4, watches: str = WATCH, sitemaps: bool = False,
                database: str | None = None, workers: int = 1) -> str:
    """The cluster's config: the store is the queue's database unless `database` says
    otherwise (a SQLite file beside a PostgreSQL queue)."""
    from outlet_server import outlets_toml

    mail = ('outbox_dir = "outbox"' if smtp is None else
            f'smtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\ntimeout = 10')
    return (f'database = "{database or queue}"\n[cluster]\nqueue = "{queue}"\n'
            f"stalled_after = {stalled_after}\n[mail]\n"
            'from = "newswatch@example.org"\nto = ["desk@example.org"]\n' + mail +
            f'\n[defaults]\nalert_max_age = "1000w"\n[crawl]\nworkers = {workers}\n'
            "download_timeout = 60\n\n"
            + outlets_toml(urls, schedule=schedule, feeds_only=not sitemaps) + watches)


def emailed_urls(messages) -> list[str]:
    """Every story URL of every email (one entry per appearance)."""
    found = []
    for msg in messages:
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        found += re.findall(r"https?://127\.0\.0\.1:\d+/news/\S+?\.html", text)
    return found


# -------------------------------------------------------------------------- the bench

def kill_round(server_url: str, folder: Path, kills: int, seed: int = 1) -> dict:
    """Scheduler + 3 workers over generated outlets; `kills` SIGKILLs mid-pass."""
    from outlet_server import Farm
    from smtp import SmtpServer

    rng = random.Random(seed)
    farm = Farm(outlets=6, articles=2)
    log = PassLog()
    log.install(farm)
    for s in farm.servers:
        s.outlet.slow = 0.3  # passes long enough to be killed in the middle
    expected = publish(farm, 2)
    smtp = SmtpServer().start()
    result = {"kills": 0, "lost": 0, "doubled": 0, "overlaps": 0, "problems": []}
    try:
        with fresh_database(server_url) as url:
            cluster = Cluster(folder, config_text(farm.urls, url, schedule="*/3 * * * *",
                                                  smtp=smtp),
                              env={"NEWSWATCH_SCHEDULE_SECONDS": "1"})
            try:
                for _ in range(3):
                    cluster.start_worker()
                cluster.start_scheduler()
                for k in range(kills):
                    expected += publish(farm)  # new work for every outlet
                    if cluster.kill_worker_mid_pass(rng) is None:
                        result["problems"].append(f"kill {k}: no pass to kill")
                        break
                    result["kills"] += 1
                    cluster.start_worker()
                db = url
                want = set(expected)

                def all_sent():
                    got = emailed_urls(smtp.messages)
                    return want <= set(got)

                wait_for(all_sent, 300, interval=1)
                time.sleep(3)  # a doubled email would come now
            finally:
                cluster.stop()
            got = emailed_urls(smtp.messages)
            stored = {u for (u,) in store_rows(db, "SELECT url FROM articles")}
            result["lost"] = len(want - set(got)) + len(want - stored)
            result["doubled"] = sum(1 for u in want if got.count(u) > 1)
            result["overlaps"] = len(log.overlaps())
            result["problems"] += store_problems(db) + log.overlaps()
            result["output"] = cluster.output()
    finally:
        smtp.stop()
        farm.stop()
    return result


def throughput(server_url: str, folder: Path, articles: int, outlets: int,
               cores: list[int]) -> float:
    """Articles/s of len(cores) workers, one pinned to each core, over fresh stores."""
    import throughput as tp

    pages = tp.load_pages()
    per = articles // outlets
    servers = []
    urls = {}
    for i in range(outlets):
        site = tp.Site(pages[i * 7 % len(pages):] + pages[:i * 7 % len(pages)], per)
        server, base = tp.serve(site)
        servers.append(server)
        urls[f"bench{i}"] = base
    try:
        with fresh_database(server_url) as url:
            lines = [f'database = "{url}"\n',
                     '[mail]\nfrom = "bench@example.org"\nto = ["desk@example.org"]\n'
                     'outbox_dir = "outbox"\n[crawl]\nworkers = 1\n']
            for oid, base in urls.items():
                lines.append(f'[[outlets]]\nid = "{oid}"\nsitemaps = ["{base}/sitemap.xml"]\n'
                             "article_urls = '/news/\\d{4}/'\nallow_private = true\n"
                             'schedule = "0 0 1 1 *"\n')
            folder.mkdir(parents=True, exist_ok=True)
            cluster = Cluster(folder, "\n".join(lines))
            db = url
            start = time.monotonic()
            scheduler = cluster.start_scheduler()  # every outlet is overdue: one pass each
            for core in cores:
                cluster.start_worker(core=core)
            done = wait_for(lambda: len(store_rows(
                db, "SELECT DISTINCT outlet FROM runs WHERE status = 'ok'")) == outlets,
                1800, interval=0.5)
            elapsed = time.monotonic() - start
            cluster.stop()
            del scheduler
            if not done:
                raise SystemExit("the passes did not finish:\n" + cluster.output())
            stored = store_rows(db, "SELECT count(*) FROM articles")[0][0]
            if stored < per * outlets * 0.9:
                raise SystemExit(f"only {stored} of {per * outlets} articles stored:\n"
                                 + cluster.output())
            return stored / elapsed
    finally:
        for server in servers:
            server.shutdown()


def store_cost(server_url: str, articles: int = 1000) -> tuple[float, float]:
    """ms per article of the store's write path, SQLite then PostgreSQL (fresh stores; the
    median of three alternating rounds: bench/store_backends.py)."""
    import store_backends as sb

    bodies = sb.texts(articles)
    sb.dedup.sketch(bodies[0])  # imports, outside the timings
    r = sb.compare(bodies, 50, server_url, 3)
    return r["sqlite_median"], r["postgresql_median"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kills-only", action="store_true",
                        help="only the kill test (no throughput, no store cost)")
    args = parser.parse_args(argv)
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        print(f"skipped: set {POSTGRES_ENV} to a PostgreSQL server URL")
        return 0
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))  # the recording SMTP server
    import throughput as tp

    # throughput.py drops this folder from sys.path (see there): the outlet farm lives here.
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    with tempfile.TemporaryDirectory(prefix="nw-cluster-") as tmp:
        tmp = Path(tmp)
        if args.kills_only:
            pass
        elif not tp.DATASETS.joinpath("extraction").is_dir():
            print(f"throughput skipped: no datasets at {tp.DATASETS}")
        else:
            one = throughput(server_url, tmp / "one", args.articles, args.outlets, [0])
            two = throughput(server_url, tmp / "two", args.articles, args.outlets, [0, 1])
            print(f"1 worker on 1 core:   {one:7.1f} articles/s")
            print(f"2 workers on 2 cores: {two:7.1f} articles/s")
            print(f"ratio: {two / one:.2f} (target >= 1.8)")
        if not args.kills_only:
            sqlite_ms, pg_ms = store_cost(server_url)
            print(f"store cost: SQLite {sqlite_ms:.2f} ms/article, PostgreSQL {pg_ms:.2f} "
                  f"ms/article, ratio {pg_ms / sqlite_ms:.2f}x (target <= 1.2x; "
                  "bench/store_backends.py)")
        r = kill_round(server_url, tmp / "kills", args.kills)
        print(f"kill test: {r['kills']} SIGKILLs, {r['lost']} lost, {r['doubled']} doubled, "
              f"{r['overlaps']} overlapping passes, {len(r['problems'])} problems")
        for p in r["problems"][:10]:
            print("  ", p)
        return 1 if (r["lost"] or r["doubled"] or r["problems"]) else 0


if __name__ == "__main__":
    sys.exit(main())
