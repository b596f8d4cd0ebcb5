"""Shared fixtures: real peers on loopback.

- `site`: the fixture news site (newswatch.demosite) in a subprocess that prints its ports,
  serving a copy of the bundled content that a test may edit between passes.
- `smtp`: a real aiosmtpd SMTP server on a pre-picked free port of 127.0.0.1 (tests/smtp.py).
- `newswatch`: runs the real CLI (`python -m newswatch`) in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "newswatch" / "demosite" / "content"


@dataclass
class Site:
    urls: dict[str, str]
    content: Path
    process: subprocess.Popen

    def articles(self) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.content.rglob("*.json")) if "expected" in p.read_text()]


def start_site(content: Path, env: dict | None = None) -> Site:
    process = subprocess.Popen(
        [sys.executable, "-m", "newswatch.demosite", "--content", str(content)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **(env or {})})
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"fixture site did not start: {process.stderr.read()}")
    return Site(json.loads(line)["outlets"], content, process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def site(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    s = start_site(content)
    yield s
    stop(s.process)


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


DEFAULT_WATCHES = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
"""


def write_config(tmp_path: Path, site: Site, *, smtp: SmtpServer | None = None,
                 watches: str = DEFAULT_WATCHES, extra: str = "", outlet_extra: str = "") -> Path:
    mail = 'outbox_dir = "outbox"'
    if smtp is not None:
        mail = f'smtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\ntimeout = 10'
    outlets = "".join(textwrap.dedent(f"""
        [[outlets]]
        id = "{oid}"
        name = "{oid.title()}"
        feeds = ["{url}/rss.xml"]
        sitemaps = ["{url}/sitemap.xml"]
        pages = ["{url}/news/"]
        article_urls = '/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
        allow_private = true
        """) + outlet_extra for oid, url in site.urls.items())
    text = textwrap.dedent(f"""\
        database = "newswatch.db"
        {extra}
        [mail]
        from = "newswatch@example.org"
        to = ["desk@example.org"]
        """) + mail + "\n\n[crawl]\nworkers = 1\n" + outlets + watches
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_newswatch(*args: str, config: Path | None = None, env: dict | None = None,
                  timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "newswatch"]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                          cwd=config.parent if config else None,
                          env={**os.environ, **(env or {})})
