"""`newswatch demo`: the whole path offline. Serves the bundled fixture site (two outlets)
on 127.0.0.1, writes a config watching it, crawls once, and shows the alert emails it
wrote as .eml files."""

from __future__ import annotations

import email
import email.policy
import shutil
from pathlib import Path

DEMO_CONFIG = """\
# Written by `newswatch demo`: two local fixture outlets, three watches, mail as .eml files.
database = "demo.db"
timezone = "UTC"

[mail]
from = "newswatch@example.org"
to = ["you@example.org"]
outbox_dir = "outbox"        # no smtp_host: emails are written here as .eml files

[defaults]
schedule = "*/15 * * * *"
alert_max_age = "2d"

[crawl]
workers = 1

{outlets}
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'

[[watches]]
name = "Kim Jong Un"
query = '"Kim Jong Un"'

[[watches]]
name = "Lavrov (Russian press)"
query = 'Лавров*'
"""

OUTLET = """\
[[outlets]]
id = "{id}"
name = "{name}"
feeds = ["{url}/rss.xml"]
sitemaps = ["{url}/sitemap.xml"]
pages = ["{url}/news/"]
article_urls = '/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
allow_private = true         # the demo site is on 127.0.0.1
"""


def write_config(workdir: Path, site) -> Path:
    outlets = "\n".join(
        OUTLET.format(id=oid, name=getattr(site, "names", {}).get(oid, oid), url=url)
        for oid, url in site.urls.items())
    path = workdir / "newswatch.toml"
    path.write_text(DEMO_CONFIG.format(outlets=outlets), encoding="utf-8")
    return path


def summarise(outbox: Path) -> list[str]:
    lines = []
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        lines.append(f"{msg['Subject']}   ({path})")
        text = msg.get_body(preferencelist=("plain",))
        if text is not None:
            for line in text.get_content().splitlines():
                if line.strip():
                    lines.append(f"    {line}")
        lines.append("")
    return lines


def run_demo(directory: str | Path) -> int:
    from .config import load_config
    from .crawl import run_pass
    from .demosite import start_site

    workdir = Path(directory).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # A fresh database and outbox each run, so the demo always shows its first pass.
    for name in ("demo.db", "demo.db-wal", "demo.db-shm"):
        (workdir / name).unlink(missing_ok=True)
    shutil.rmtree(workdir / "outbox", ignore_errors=True)

    site = start_site()
    try:
        config = load_config(write_config(workdir, site))
        print(f"newswatch demo: serving {len(site.urls)} fixture outlets on 127.0.0.1, "
              f"crawling them once...")
        results = run_pass(config)
    finally:
        site.stop()
    for r in results:
        print(f"  {r.outlet}: {r.found} article links, {r.new} new, "
              f"{r.duplicates} duplicates, {r.errors} errors")
    outbox = workdir / "outbox"
    emails = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    print(f"\n{len(emails)} alert email{'s' if len(emails) != 1 else ''} written to {outbox}:\n")
    for line in summarise(outbox) if emails else []:
        print(line)
    print(f"Config: {workdir / 'newswatch.toml'}   Database: {workdir / 'demo.db'}")
    print(f"Try:   newswatch --config {workdir / 'newswatch.toml'} search 'Kim Jong-un'")
    return 0
