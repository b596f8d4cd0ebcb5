"""The README is executed: its TOML blocks load, its command lines run against the fixture
site and exit with the documented code, and its configuration reference is the one
generated from newswatch/config/fields.py.

A fenced block that cannot run here is preceded by `<!-- no-run: reason -->`; only
package installs may be (they need the network and minutes).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from conftest import db_rows

from newswatch.cli.main import cli as cli_group
from newswatch.config import load_config
from newswatch.config.docs import END, START, readme_section, reference
from newswatch.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SHELL = {"sh", "shell", "bash", "console"}
NO_RUN = re.compile(r"<!--\s*no-run:?\s*(.*?)\s*-->")


@dataclass
class Block:
    lang: str
    body: str
    line: int  # of the opening fence, 1-based
    no_run: str | None  # the marker's reason, None when the block runs

    @property
    def id(self) -> str:
        return f"{self.lang}@README.md:{self.line}"


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = NO_RUN.fullmatch(before.strip())
        found.append(Block(m.group(1), "\n".join(lines[i + 1:end]) + "\n", i + 1,
                           marker.group(1) if marker else None))
        i = end + 1
    return found


BLOCKS = blocks(README)
TOML = [b for b in BLOCKS if b.lang == "toml"]
SH = [b for b in BLOCKS if b.lang in SHELL]


# ------------------------------------------------------------------ configuration reference


def test_the_configuration_reference_is_the_generated_one():
    assert START in README and END in README, "README.md lost its config-reference markers"
    assert readme_section(README) == reference(), (
        "README.md's configuration reference differs from newswatch/config/fields.py: "
        "run `python -m newswatch.config.docs --write README.md`")


def test_the_reference_names_every_key_with_its_default():
    section = readme_section(README)
    assert "| `article_urls` | regular expression (RE2 syntax) | `\"\"` |" in section
    assert "| `schedule` | crontab | `defaults.schedule` |" in section
    assert "| `smtp_port` | integer, 1 to 65535 | 25, or 587 with starttls" in section


def test_the_generator_rewrites_a_stale_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{START}\n| `shedule` | old |\n{END}\nafter\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "newswatch.config.docs", "--write",
                             str(readme)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    text = readme.read_text(encoding="utf-8")
    assert readme_section(text) == reference() and "shedule" not in text
    assert text.startswith("# x\n\n") and text.endswith(f"{END}\nafter\n")


# ------------------------------------------------------------------------------ TOML blocks


def test_the_readme_has_a_config_example():
    assert TOML and all(b.no_run is None for b in TOML), "TOML blocks always run"


@pytest.mark.parametrize("block", TOML, ids=[b.id for b in TOML])
def test_every_toml_block_loads(tmp_path, block):
    path = tmp_path / "newswatch.toml"
    path.write_text(block.body, encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError as exc:  # point at the README's line, not the temporary copy's
        pytest.fail(f"README.md:{block.line + (exc.line or 1)}: {exc.what}")
    assert len(config.outlets) == len(re.findall(r"^\[\[outlets\]\]", block.body, re.M))
    assert len(config.watches) == len(re.findall(r"^\[\[watches\]\]", block.body, re.M))
    assert config.database.parent == tmp_path  # relative to the config file's folder


def test_the_example_file_the_readme_names_loads():
    assert "newswatch.example.toml" in README
    config = load_config(ROOT / "newswatch.example.toml")
    assert config.outlets and config.watches


# ---------------------------------------------------------------------------- command lines

# Placeholders of the commands table and the value each stands for against the fixture
# site (URL: a stored article, looked up after the crawl).
WATCH = "Lavrov in Korea"
PLACEHOLDERS = {"QUERY": "Lavrov", "WATCH": WATCH, "N": "30", "PATH": "newswatch.toml"}


def fixture_config(folder: Path, site, database: str = "newswatch.db") -> Path:
    """The README's layout against the fixture site: ./newswatch.toml, emails as .eml."""
    outlets = "".join(textwrap.dedent(f"""
        [[outlets]]
        id = "{oid}"
        feeds = ["{url}/rss.xml"]
        sitemaps = ["{url}/sitemap.xml"]
        pages = ["{url}/news/"]
        article_urls = '/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
        allow_private = true
        """) for oid, url in site.urls.items())
    path = folder / "newswatch.toml"
    path.write_text(textwrap.dedent(f"""\
        database = "{database}"
        [mail]
        from = "newswatch@example.org"
        to = ["desk@example.org"]
        outbox_dir = "outbox"
        [crawl]
        workers = 1
        {outlets}
        [[watches]]
        name = "{WATCH}"
        query = 'Lavrov AND ("North Korea" OR Pyongyang)'
        """), encoding="utf-8")
    return path


def documented_exit_codes() -> dict[str, int]:
    m = re.search(r"Exit codes: (.+?)\.\n\n", README, re.S)
    assert m, "README.md lost its exit codes"
    return {what.strip(): int(code) for code, what in
            re.findall(r"(\d) ([^,(]+)", m.group(1).replace("\n", " "))}


def table_commands() -> list[str]:
    """The commands table's first column, one command line per backticked span."""
    m = re.search(r"^### Commands\n(.+?)\n\n", README, re.S | re.M)
    assert m, "README.md lost its commands table"
    rows = [line for line in m.group(1).splitlines() if line.startswith("| `")]
    return [cmd for row in rows for cmd in re.findall(r"`([^`]+)`", row.split("|")[1])]


def global_options() -> list[str]:
    m = re.search(r"^Global options: (.+?)\.\n", README, re.S | re.M)
    assert m, "README.md lost its global options"
    return re.findall(r"`([^`]+)`", m.group(1))


def argv(command: str, values: dict[str, str]) -> list[str]:
    """A documented command line as arguments: `[X ...]` is given once, placeholders
    (upper-case words) take their fixture value."""
    words = shlex.split(command)
    assert words[0].endswith("newswatch"), f"not a newswatch command: {command!r}"
    out = []
    for word in words[1:]:
        word = word.strip("[]")
        if word in ("", "..."):
            continue
        if re.fullmatch(r"[A-Z][A-Z_]*", word):
            assert word in values, f"{command!r}: no fixture value for placeholder {word}"
            word = values[word]
        out.append(word)
    return out


def cli(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    # As a user types it: the config is ./newswatch.toml, not named.
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    return subprocess.run([sys.executable, "-m", "newswatch", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, **kw)


def run_briefly(cwd: Path, args: list[str], ready) -> tuple[int, str]:
    """`newswatch run` and `worker` never end by themselves: start one, wait until
    `ready(stderr so far)` (it has scheduled the outlets, or taken its queue), then stop it
    the documented way (SIGTERM)."""
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    log = cwd / f"{args[0]}.stderr"
    with open(log, "w") as err:
        daemon = subprocess.Popen([sys.executable, "-m", "newswatch", *args], cwd=cwd,
                                  env=env, stdout=subprocess.DEVNULL, stderr=err)
    up = False
    try:
        for _ in range(1200):
            up = ready(log.read_text(errors="replace"))
            if up or daemon.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)
    stderr = log.read_text(errors="replace")
    if not up:
        return daemon.returncode, f"`{args[0]}` stopped before it was ready\n" + stderr
    return daemon.returncode, stderr


def cluster_only() -> set[str]:
    """The table's commands its row marks "cluster mode only" (a PostgreSQL database)."""
    m = re.search(r"^### Commands\n(.+?)\n\n", README, re.S | re.M)
    return {cmd for line in m.group(1).splitlines() if "cluster mode only" in line
            for cmd in re.findall(r"`([^`]+)`", line.split("|")[1])}


def test_the_commands_table_runs_against_the_fixture_site(tmp_path, site, store_url):
    """Every command of the table (in table order: the crawl first) and the global
    options exit 0 ("ok") against the fixture site, with the store in SQLite and in
    PostgreSQL (cluster mode: `run` queues the passes for its own worker)."""
    ok = documented_exit_codes()["ok"]
    commands = table_commands()
    assert commands[0].startswith("newswatch crawl"), "the table must start with the crawl"
    assert {"newswatch run", "newswatch explain URL"} <= set(commands)
    postgres = store_url.startswith("postgresql://")
    database = store_url if postgres else "newswatch.db"
    fixture_config(tmp_path, site, database)
    values = {**PLACEHOLDERS, "OUTLET_ID": next(iter(site.urls))}
    failures = []
    for command in commands:
        if command in cluster_only() and not postgres:
            continue
        if "URL" in command and "URL" not in values:  # an article the crawl stored
            values["URL"] = db_rows(store_url if postgres else tmp_path / "newswatch.db",
                                    "SELECT min(url) FROM articles")[0][0]
        args = argv(command, values)
        if args == ["run"]:
            code, err = run_briefly(tmp_path, args,
                                    lambda _: any(tmp_path.glob("*.daemon.json")))
        elif args[0] == "worker":
            code, err = run_briefly(tmp_path, args, lambda e: "newswatch worker:" in e)
        else:
            result = cli(args, tmp_path)
            code, err = result.returncode, result.stderr
        if code != ok or "Traceback" in err:
            failures.append(f"{command!r} ({args}): exit {code}\n{err[-2000:]}")
    options = [w for opt in global_options() for w in argv(f"newswatch {opt}", values)]
    result = cli([*options, "check"], tmp_path)
    if result.returncode != ok:
        failures.append(f"global options {options}: exit {result.returncode}\n{result.stderr}")
    assert not failures, "\n\n".join(failures)
    assert list((tmp_path / "outbox").glob("*.eml")) or list(
        (tmp_path / "newswatch-demo" / "outbox").glob("*.eml")), "no command sent an alert"


def commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        found.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


def test_every_command_is_in_the_readme():
    names = commands(cli_group)
    assert "crawl" in names and "watch test" in names and "alerts backfill" in names
    missing = [n for n in names if f"newswatch {n}" not in README]
    assert not missing, f"README.md does not document: {missing}"


def test_readme_gives_the_two_commands():
    assert ".venv/bin/newswatch demo" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pytest" in ci and "python -m pytest -q" in README
