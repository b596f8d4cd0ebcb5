"""`newswatch demo`: the whole path offline. Serves the bundled fixture site (two outlets)
on 127.0.0.1, writes a config watching it, crawls once, and shows the alert emails it
wrote as .eml files.

The demo only ever writes into an empty (or new) folder or one it marked as its own
(`MARKER`; a folder from before the marker is known by its config's first line), and
there it replaces only its own files: the config, the database (with its
journal and lock files) and the .eml files in outbox/. Anything else in the folder, such as
a user's newswatch.toml or a file in an outbox/, makes it refuse the folder untouched."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from .errors import UsageError

MARKER = ".newswatch-demo"
MARKER_TEXT = "This folder was written by `newswatch demo`; it rewrites the files here.\n"

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


DEMO_HEADER = DEMO_CONFIG.splitlines()[0].encode("utf-8")


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


def _is_demo_file(rel: Path) -> bool:
    """Is `rel` (relative to the demo folder) a name the demo itself writes?"""
    parts = rel.parts
    if len(parts) == 1:
        name = parts[0]
        return name in (MARKER, "newswatch.toml", "outbox") or name.startswith("demo.db")
    return len(parts) == 2 and parts[0] == "outbox" and parts[1].endswith(".eml")


def _written_by_demo(config: Path) -> bool:
    """A config the demo wrote (folders from before the marker have only this to tell)."""
    try:
        with config.open("rb") as f:
            return f.read(len(DEMO_HEADER)) == DEMO_HEADER
    except OSError:
        return False


def claim_folder(workdir: Path) -> None:
    """Make `workdir` the demo's, or raise UsageError if it holds files the demo did not
    write (an unmarked folder that is not empty, or a marked one with a foreign file)."""
    if workdir.exists() and not workdir.is_dir():
        raise UsageError(f"{workdir} is a file, not a folder; choose another with --dir")
    entries = sorted(workdir.rglob("*")) if workdir.exists() else []
    if entries:
        marked = (workdir / MARKER).is_file() or _written_by_demo(workdir / "newswatch.toml")
        foreign = next((p for p in entries if not marked
                        or not _is_demo_file(p.relative_to(workdir))
                        or (p.is_dir() and p.name != "outbox")), None)
        if foreign is not None:
            raise UsageError(
                f"{workdir} holds files the demo did not write "
                f"({foreign.relative_to(workdir).as_posix()}); "
                f"choose an empty or new folder with --dir, e.g. --dir newswatch-demo")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def run_demo(directory: str | Path) -> int:
    from .config import load_config
    from .crawl import run_pass
    from .demosite import start_site

    workdir = Path(directory).resolve()
    claim_folder(workdir)
    # A fresh database and outbox each run, so the demo always shows its first pass; only
    # its own files go (claim_folder checked there are no others).
    for path in [*workdir.glob("demo.db*"), *workdir.glob("outbox/*.eml")]:
        path.unlink(missing_ok=True)

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
