"""Soak: the daemon (`newswatch run`) against generated local outlets on a schedule of a
few seconds (the test-only NEWSWATCH_SCHEDULE_SECONDS setting), with a real SMTP server.

    python bench/soak.py [--passes 1000] [--outlets 50] [--period 10]

A pass is one outlet crawled once (a `runs` row); 1,000 passes over 50 outlets are 20
rounds. Measured:
- the daemon's RSS after the first round and at the end (targets: growth <= 10%,
  idle RSS <= 200 MB);
- CPU seconds per unchanged round over all outlets, the daemon and its pass processes
  together (target <= 3 s); baseline: one `newswatch crawl` process per outlet, i.e. the
  same round without batching, measured on a sample of outlets;
- the delay from a story appearing in a feed to its email reaching the SMTP server
  (target: period + 10 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from outlet_server import Farm, outlets_toml  # noqa: E402

PHRASE = "The quartermaster convened the marmalade summit at dawn."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.arrivals: list[tuple[float, bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.arrivals.append((time.monotonic(), envelope.content))
        return "250 OK"


def passes(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM runs WHERE status != 'running'"
                                ).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def wait_for(predicate, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def baseline_cpu(config: Path, outlet_ids: list[str]) -> float:
    """CPU seconds of one unchanged `newswatch crawl OUTLET` process (no batching)."""
    total = 0.0
    for oid in outlet_ids:
        before = os.times()
        subprocess.run([sys.executable, "-m", "newswatch", "--config", str(config), "crawl",
                        "--no-mail", oid], cwd=ROOT, capture_output=True, check=True)
        after = os.times()
        total += (after.children_user - before.children_user
                  + after.children_system - before.children_system)
    return total / len(outlet_ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=1000)
    parser.add_argument("--outlets", type=int, default=50)
    parser.add_argument("--articles", type=int, default=20, help="per outlet at start")
    parser.add_argument("--period", type=int, default=10, help="schedule period, seconds")
    parser.add_argument("--stories", type=int, default=3, help="latency samples")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    farm = Farm(outlets=args.outlets, articles=args.articles)
    tmp = tempfile.TemporaryDirectory(prefix="nw-soak-")
    folder = Path(tmp.name)
    config = folder / "newswatch.toml"
    config.write_text(
        'database = "newswatch.db"\n'
        f'[mail]\nfrom = "nw@example.org"\nto = ["desk@example.org"]\n'
        f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\ntimeout = 10\n'
        "[crawl]\nworkers = 1\n\n"
        + outlets_toml(farm.urls, schedule=f"*/{args.period} * * * *", feeds_only=True)
        + '[[watches]]\nname = "summit"\nquery = \'"marmalade summit"\'\n', encoding="utf-8")
    db = folder / "newswatch.db"
    env = {**os.environ, "NEWSWATCH_SCHEDULE_SECONDS": "1", "NEWSWATCH_FLUSH_SECONDS": "5"}
    log_path = folder / "daemon.log"
    log_file = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    daemon = subprocess.Popen([sys.executable, "-m", "newswatch", "--config", str(config),
                               "run"], cwd=ROOT, env=env, stderr=log_file)
    proc = psutil.Process(daemon.pid)
    out: dict[str, object] = {}
    try:
        # Round 1 stores the backlog; rounds 2+ are unchanged.
        if not wait_for(lambda: passes(db) >= 2 * args.outlets, 60 + 6 * args.period):
            raise SystemExit("the daemon did not complete two rounds:\n"
                             + log_path.read_text()[-3000:])
        rss_start = proc.memory_info().rss
        cpu_start, passes_start, t_start = cpu(proc), passes(db), time.monotonic()
        delays = []
        sample_every = max(1, (args.passes - passes_start) // (args.stories + 1))
        next_story = passes_start + sample_every
        while passes(db) < args.passes:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited: {log_path.read_text()[-2000:]}")
            if len(delays) < args.stories and passes(db) >= next_story:
                # Must not fall into a CPU sample of unchanged rounds: measured apart.
                seen = len(inbox.arrivals)
                farm.outlet("gen0").add(1, PHRASE)
                t0 = time.monotonic()
                if wait_for(lambda: len(inbox.arrivals) > seen, args.period + 60, 0.05):
                    delays.append(inbox.arrivals[seen][0] - t0)
                next_story = passes(db) + sample_every
            time.sleep(0.5)
        cpu_end, passes_end, t_end = cpu(proc), passes(db), time.monotonic()
        rss_end = proc.memory_info().rss
        rounds = (passes_end - passes_start) / args.outlets
        out.update(rss_start=rss_start, rss_end=rss_end, rounds=rounds,
                   cpu_round=(cpu_end - cpu_start) / rounds if rounds else float("nan"),
                   delays=delays, passes=passes_end, seconds=t_end - t_start)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log_file.close()
    sample = list(farm.urls)[:5]
    base = baseline_cpu(config, sample)
    farm.stop()
    smtp.stop()
    tmp.cleanup()

    growth = (out["rss_end"] - out["rss_start"]) / out["rss_start"] * 100
    delays = out["delays"]
    worst = max(delays) if delays else float("nan")
    print(f"soak: {out['passes']} passes ({args.outlets} outlets every {args.period} s, "
          f"{out['rounds']:.1f} measured rounds in {out['seconds']:.0f} s); "
          f"cpu cores: {os.cpu_count()}")
    print(f"daemon RSS: {out['rss_start'] / 2**20:.1f} MB after round 2, "
          f"{out['rss_end'] / 2**20:.1f} MB at the end ({growth:+.1f}%)")
    print(f"CPU per unchanged round over {args.outlets} outlets (daemon + pass processes): "
          f"{out['cpu_round']:.2f} s; baseline, one crawl process per outlet: "
          f"{base:.2f} s x {args.outlets} = {base * args.outlets:.1f} s")
    print("story -> email delays: " + ", ".join(f"{d:.1f} s" for d in delays)
          + f" (period {args.period} s)")
    checks = [
        (f"RSS growth <= 10% ({growth:+.1f}%)", growth <= 10),
        (f"idle RSS <= 200 MB ({out['rss_end'] / 2**20:.0f} MB)", out["rss_end"] <= 200 * 2**20),
        (f"CPU per unchanged round <= 3 s ({out['cpu_round']:.2f} s)", out["cpu_round"] <= 3),
        (f"story -> email <= period + 10 s ({worst:.1f} s)",
         bool(delays) and worst <= args.period + 10),
    ]
    for text, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
