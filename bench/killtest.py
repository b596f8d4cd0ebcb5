"""SIGKILL at random points of a crawl pass, many times in a row (issue 7).

The fixture site (newswatch.demosite) and a recording SMTP server (aiosmtpd) run on
127.0.0.1. A clean reference pass gives the stories, alerts and emails a pass must produce.
Then, in rounds on a fresh database: up to KILLS_PER_ROUND passes are each SIGKILLed (the
whole process group, extraction workers included) at a random moment, and after every kill
the database is checked:

- `PRAGMA integrity_check` is ok;
- every article stored before the kill is still there, once (no URL twice);
- every alert row is unique per watch and story, and no stored story is half-matched
  beyond what the next pass picks up (matched = 0 rows are allowed: they are pending).

Each round ends with an unkilled pass, after which stories and alerts must equal the
reference, and every email must have arrived exactly once (by Message-ID) with the same
subjects as the reference.

    python bench/killtest.py            # 50 kills
    python bench/killtest.py --kills 10 # quicker

Prints kills survived, articles and alerts checked; exit 1 on any violation.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "newswatch" / "demosite" / "content"
KILLS_PER_ROUND = 5

WATCHES = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'

[[watches]]
name = "Korea"
query = 'Pyongyang OR "North Korea"'

[[watches]]
name = "Lavrov in Russian"
query = 'Лавров*'
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


def write_config(folder: Path, urls: dict[str, str], smtp_port: int) -> Path:
    outlets = "".join(textwrap.dedent(f"""
        [[outlets]]
        id = "{oid}"
        feeds = ["{url}/rss.xml"]
        sitemaps = ["{url}/sitemap.xml"]
        pages = ["{url}/news/"]
        article_urls = '/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
        allow_private = true
        """) for oid, url in urls.items())
    text = textwrap.dedent(f"""\
        database = "newswatch.db"
        [mail]
        from = "newswatch@example.org"
        to = ["desk@example.org"]
        smtp_host = "127.0.0.1"
        smtp_port = {smtp_port}
        timeout = 10
        [crawl]
        workers = 1
        """) + outlets + WATCHES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def crawl(config: Path, kill_after: float | None = None) -> tuple[int | None, float]:
    """One pass; with `kill_after`, SIGKILL its process group then. Returns (exit code or
    None if killed, seconds)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "newswatch", "--config", str(config),
                             "crawl"], cwd=config.parent, env=env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise SystemExit(f"unkilled pass failed ({proc.returncode}): {err.decode()[-2000:]}")
        return proc.returncode, time.monotonic() - started
    try:
        proc.wait(timeout=kill_after)
        proc.stderr.read()
        return proc.returncode, time.monotonic() - started  # finished before the kill
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        return None, time.monotonic() - started


def path_of(url: str) -> str:
    return url.split("/", 3)[-1]


def state(database: Path) -> dict:
    db = sqlite3.connect(database)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        urls = [path_of(r[0]) for r in db.execute("SELECT url FROM articles")]
        alerts = [(r[0], path_of(r[1]), r[2]) for r in db.execute(
            "SELECT x.watch, a.url, x.state FROM alerts x JOIN articles a "
            "ON a.id = x.article_id")]
        sent = [r[0] for r in db.execute(
            "SELECT message_id FROM outbox WHERE state = 'sent'")]
        unsent = db.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM articles WHERE matched = 0").fetchone()[0]
    finally:
        db.close()
    return {"integrity": integrity, "urls": urls, "alerts": alerts, "pending": pending,
            "sent": sent, "unsent": unsent}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)

    from aiosmtpd.controller import Controller

    work = Path(tempfile.mkdtemp(prefix="nw-killtest-"))
    content = work / "content"
    shutil.copytree(CONTENT, content)
    site = subprocess.Popen([sys.executable, "-m", "newswatch.demosite", "--content",
                             str(content)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env=env())
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    problems: list[str] = []
    try:
        urls = json.loads(site.stdout.readline())["outlets"]
        ref_config = write_config(work / "reference", urls, port)
        _, seconds = crawl(ref_config)
        ref = state(ref_config.parent / "newswatch.db")
        ref_subjects = sorted(str(m["Subject"]) for m in recorder.messages)
        recorder.messages.clear()
        print(f"reference pass: {len(ref['urls'])} articles, {len(ref['alerts'])} alerts, "
              f"{len(ref_subjects)} emails, {seconds:.1f} s (seed {seed})")

        kills = survived = checked_articles = checked_alerts = rounds = emails = 0
        while kills < args.kills:
            rounds += 1
            config = write_config(work / f"round-{rounds}", urls, port)
            database = config.parent / "newswatch.db"
            recorder.messages.clear()
            before: list[str] = []
            for _ in range(min(KILLS_PER_ROUND, args.kills - kills)):
                code, _ = crawl(config, kill_after=rng.uniform(0.2, seconds * 1.1))
                if code is None:
                    kills += 1
                if not database.exists():
                    survived += code is None
                    continue
                now = state(database)
                ok = True
                if now["integrity"] != "ok":
                    problems.append(f"round {rounds}: integrity_check: {now['integrity']}")
                    ok = False
                dupes = [u for u, n in Counter(now["urls"]).items() if n > 1]
                lost = sorted(set(before) - set(now["urls"]))
                if dupes or lost:
                    problems.append(f"round {rounds}: stored twice {dupes}, lost {lost}")
                    ok = False
                if len(now["alerts"]) != len({a[:2] for a in now["alerts"]}):
                    problems.append(f"round {rounds}: an alert row twice")
                    ok = False
                checked_articles += len(now["urls"])
                checked_alerts += len(now["alerts"])
                survived += ok and code is None
                before = now["urls"]
            crawl(config)  # the pass after the kills, unkilled
            final = state(database)
            checked_articles += len(final["urls"])
            checked_alerts += len(final["alerts"])
            if sorted(final["urls"]) != sorted(ref["urls"]):
                problems.append(f"round {rounds}: articles differ from the reference: "
                                f"missing {sorted(set(ref['urls']) - set(final['urls']))}")
            # Every match an alert, exactly once, in the state the reference left it
            # ('queued' once its email is sent; 'skipped' ones never mailed).
            if sorted(final["alerts"]) != sorted(ref["alerts"]) or final["pending"]:
                problems.append(f"round {rounds}: alerts differ from the reference: "
                                f"{sorted(set(final['alerts']) ^ set(ref['alerts']))}")
            # Every email the outbox marks sent arrived exactly once; nothing left unsent.
            # (Kills may split one watch's stories over more emails than the reference.)
            ids = Counter(str(m["Message-ID"]).strip("<>") for m in recorder.messages)
            twice = [i for i, n in ids.items() if n > 1]
            if twice:
                problems.append(f"round {rounds}: emails delivered twice: {twice}")
            if {i.strip("<>") for i in final["sent"]} != set(ids) or final["unsent"]:
                problems.append(f"round {rounds}: {len(ids)} emails received, outbox sent "
                                f"{len(final['sent'])}, unsent {final['unsent']}")
            emails += len(ids)
        print(f"kills: {kills}, survived: {survived}, rounds: {rounds}")
        print(f"articles checked: {checked_articles}, alerts checked: {checked_alerts}, "
              f"emails checked: {emails}")
    finally:
        controller.stop()
        site.terminate()
        site.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print("PROBLEM:", problem)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
