"""The command line in-process with click's CliRunner: help texts, exit codes and messages
for each kind of error, and `--json` outputs, against real config files and a real SQLite
database (the end-to-end runs with crawls are in test_e2e.py and test_daemon.py)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newswatch import __version__, clock
from newswatch.cli.main import cli
from newswatch.store import open_db

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

CONFIG = """\
database = "newswatch.db"
timezone = "UTC"

[[outlets]]
id = "ledger"
name = "The Ledger"
feeds = ["http://127.0.0.1:9/ledger.xml"]
allow_private = true
schedule = "0 * * * *"

[[outlets]]
id = "meridian"
feeds = ["http://127.0.0.1:9/meridian.xml"]
allow_private = true
"""

WATCH = """
[mail]
from = "newswatch@example.org"
to = ["desk@example.org"]
outbox_dir = "outbox"

[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(CONFIG + WATCH, encoding="utf-8")
    return path


def invoke(*args: str, config: Path | None = None):
    argv = (["--config", str(config)] if config else []) + list(args)
    return CliRunner().invoke(cli, argv, prog_name="newswatch", catch_exceptions=False)


def add_article(db, n: int, outlet: str, title: str, text: str, first_seen: str | None = None):
    now = first_seen or clock.now_iso()
    db["articles"].insert({"url": f"https://{outlet}.example/news/{n}", "outlet": outlet,
                           "title": title, "text": text, "published": now[:10],
                           "first_seen": now, "last_seen": now, "matched": 1})


def visible(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        names.append(prefix + name)
        if isinstance(command, click.Group):
            names += visible(command, f"{prefix}{name} ")
    return names


# ------------------------------------------------------------------------------ help


def test_top_level_help_lists_every_command_and_the_global_options():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("crawl", "run", "search", "status", "demo", "check", "watch", "alerts",
                 "explain"):
        assert f"\n  {name} " in result.stdout, name
    assert "_pass" not in result.stdout  # the daemon's child is not for users
    for option in ("--config PATH", "NEWSWATCH_CONFIG", "--verbose", "--log-format [text|json]",
                   "--version"):
        assert option in result.stdout, option
    assert "Exit codes:" in result.stdout
    assert invoke("-h").stdout == result.stdout


def test_every_visible_command_is_in_the_readme():
    names = visible(cli)
    assert {"crawl", "watch test", "alerts backfill", "alerts list"} <= set(names)
    missing = [n for n in names if f"newswatch {n}" not in README]
    assert not missing, f"README.md does not document: {missing}"


@pytest.mark.parametrize("command", [["search"], ["watch", "test"]])
def test_query_commands_explain_the_query_syntax(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    text = result.stdout
    assert "QUERY" in text and "Query syntax" in text
    for example in ('"North Korea"', "Korea*", "Lavrov OR Lawrow", "Russia NOT Putin",
                    'Lavrov AND ("North Korea" OR Pyongyang)'):
        assert example in text, example
    assert "NOT binds tightest, then AND, then OR" in text
    assert "[default: 20]" in text


@pytest.mark.parametrize("command, shown", [
    (["crawl"], ["[OUTLET_ID]...", "--no-mail"]),
    (["search"], ["--outlet OUTLET_ID", "--json", "--limit INTEGER"]),
    (["status"], ["--json", "error streak"]),
    (["demo"], ["--dir PATH", "[default: newswatch-demo]"]),
    (["alerts", "list"], ["--limit INTEGER", "[default: 50]"]),
    (["alerts", "backfill"], ["WATCH", "--days INTEGER", "[required]"]),
    (["explain"], ["URL", "canonical form"]),
    (["alerts"], ["backfill", "list", "retry"]),
])
def test_command_help_explains_arguments_and_defaults(command, shown):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())  # click wraps to the terminal's width
    for text in shown:
        assert text in flat, (command, text, result.stdout)


def test_version():
    result = invoke("--version")
    assert (result.exit_code, result.stdout.strip()) == (0, f"newswatch {__version__}")


# ------------------------------------------------------------------------ exit codes


def test_check_reports_the_config_it_validated(config):
    result = invoke("check", config=config)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"config ok: {config}: 2 outlets, 1 watches"


def test_config_errors_exit_2_with_file_and_line(tmp_path):
    path = tmp_path / "newswatch.toml"
    path.write_text(CONFIG + '\n[[watches]]\nname = "w"\nquery = "(Lavrov OR Kim"\n'
                    '[mail]\nfrom = "a@example.org"\nto = ["b@example.org"]\n', encoding="utf-8")
    line = path.read_text().splitlines().index('query = "(Lavrov OR Kim"') + 1
    for command in (["check"], ["status"], ["run"], ["crawl"], ["search", "x"]):
        result = invoke(*command, config=path)
        assert result.exit_code == 2, (command, result.stderr)
        assert result.stderr.startswith(f"config error: {path}:{line}: "), result.stderr
        assert result.stdout == ""
    assert not (tmp_path / "newswatch.db").exists()  # nothing started


def test_a_missing_config_file_exits_2(tmp_path):
    result = invoke("status", config=tmp_path / "nowhere.toml")
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: ") and "nowhere.toml" in result.stderr


@pytest.mark.parametrize("command", [["search"], ["watch", "test"]])
@pytest.mark.parametrize("query", ['Lavrov AND ("North Korea"', "NOT Putin", "(a OR b", "*"])
def test_bad_queries_exit_2_with_a_query_error(config, command, query):
    result = invoke(*command, query, config=config)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("query error: ") and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("argv, words", [
    (["nosuchcommand"], ["No such command"]),
    (["search"], ["Missing argument", "QUERY"]),
    (["search", "x", "--limit", "many"], ["--limit", "not a valid integer"]),
    (["alerts", "backfill", "Lavrov in Korea"], ["Missing option", "--days"]),
    (["--log-format", "xml", "status"], ["--log-format", "xml"]),
])
def test_bad_command_lines_exit_2_with_usage(config, argv, words):
    result = invoke(*argv, config=config)
    assert result.exit_code == 2, result.stdout
    assert "Usage: newswatch" in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_naming_a_watch_or_outlet_that_does_not_exist_is_a_usage_error(config):
    result = invoke("alerts", "backfill", "Nobody", "--days", "3", config=config)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("usage error: no watch named 'Nobody' "
                                     "(watches: 'Lavrov in Korea')")
    result = invoke("alerts", "backfill", "Lavrov in Korea", "--days", "0", config=config)
    assert result.exit_code == 2
    assert result.stderr.strip() == "usage error: --days must be at least 1"
    result = invoke("crawl", "nosuch", config=config)
    assert result.exit_code == 2
    assert result.stderr.startswith("usage error: unknown outlet nosuch; configured: ledger")


def test_a_file_that_is_not_a_database_exits_3(config):
    (config.parent / "newswatch.db").write_bytes(b"this is not SQLite\n" * 200)
    for command in (["status"], ["search", "Lavrov"], ["alerts"], ["explain", "https://x.org/"]):
        result = invoke(*command, config=config)
        assert result.exit_code == 3, (command, result.stderr)
        assert result.stderr.startswith("database error: "), result.stderr
        assert "Traceback" not in result.stderr


def test_the_daemons_child_exits_5_when_every_outlet_is_busy(config):
    from newswatch.config import load_config
    from newswatch.locks import pass_lock

    with pass_lock(load_config(config), ["ledger"]):
        result = invoke("_pass", "ledger", config=config)
    assert result.exit_code == 5
    assert "pass outlet=ledger skipped: busy" in result.stderr


# ------------------------------------------------------------------------ outputs


def test_status_json_and_text_show_each_outlets_passes_and_streak(config):
    db = open_db(config.parent / "newswatch.db")
    for i, status in enumerate(("ok", "error", "interrupted", "error")):
        db["runs"].insert({"outlet": "ledger", "started": f"2026-03-01T10:0{i}:00+00:00",
                           "finished": f"2026-03-01T10:0{i}:30+00:00", "status": status,
                           "pages": 4, "new_articles": i, "duplicates": 0, "errors": 1,
                           "ms": 1200, "message": "boom" if status == "error" else None})
    add_article(db, 1, "ledger", "Lavrov lands in Pyongyang", "Talks in North Korea.")
    add_article(db, 2, "ledger", "Old story", "Filed long ago.", "2020-01-01T00:00:00+00:00")
    db.close()
    result = invoke("status", "--json", config=config)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"outlets", "alerts", "mail_problems", "health", "refold"}
    assert data["refold"] is None  # every article folded by the current rules
    ledger, meridian = data["outlets"]
    assert ledger["id"] == "ledger" and ledger["name"] == "The Ledger"
    assert ledger["last_pass"] == "2026-03-01T10:03:00+00:00"
    assert ledger["last_status"] == "error" and ledger["error_streak"] == 2
    assert ledger["last_result"] == {"pages": 4, "new": 3, "duplicates": 0, "errors": 1,
                                     "ms": 1200, "message": "boom"}
    assert (ledger["articles"], ledger["articles_24h"]) == (2, 1)
    assert ledger["next_pass"].endswith(":00:00+00:00")  # hourly schedule
    assert meridian["last_pass"] is None and meridian["last_result"] is None
    assert (meridian["articles"], meridian["error_streak"]) == (0, 0)
    assert data["alerts"] == {"pending": 0, "failed": 0, "sent": 0, "skipped": 0}
    text = invoke("status", config=config).stdout.splitlines()
    assert text[0].split() == ["outlet", "last", "pass", "result", "next", "pass", "articles",
                               "24h", "errors"]
    ledger_line = next(line for line in text if line.startswith("ledger"))
    assert ledger_line.split()[2:3] == ["error"] and ledger_line.split()[-3:] == ["2", "1", "2"]
    assert next(line for line in text if line.startswith("meridian")).split()[1] == "never"
    assert "alerts: 0 pending, 0 failed, 0 sent, 0 skipped" in text


def test_search_prints_matches_and_json_parses(config):
    db = open_db(config.parent / "newswatch.db")
    add_article(db, 1, "ledger", "Lavrov lands in Pyongyang", "Talks in North Korea today.")
    add_article(db, 2, "meridian", "Fog grounds flights", "Nothing about diplomacy.")
    add_article(db, 3, "meridian", "Lavrov in Wonsan", "A visit to the North Korea coast.")
    db.close()
    result = invoke("search", 'Lavrov AND "North Korea"', "--json", config=config)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["title"] for r in rows} == {"Lavrov lands in Pyongyang", "Lavrov in Wonsan"}
    rows = json.loads(invoke("search", "Lavrov", "--json", "--outlet", "meridian",
                             config=config).stdout)
    assert [r["title"] for r in rows] == ["Lavrov in Wonsan"]
    assert len(json.loads(invoke("search", "Lavrov", "--json", "--limit", "1",
                                 config=config).stdout)) == 1
    text = invoke("search", "fog", config=config).stdout
    assert "Fog grounds flights" in text and "https://meridian.example/news/2" in text
    assert text.splitlines()[-1] == "1 result"
    text = invoke("watch", "test", "Lavrov Pyongyang", config=config).stdout
    assert "Lavrov lands in Pyongyang" in text
    assert text.splitlines()[-1] == "1 stored article would match"


def test_alerts_default_to_the_list_and_retry_reports_a_count(config):
    for argv in (["alerts"], ["alerts", "list"], ["alerts", "list", "--limit", "5"]):
        result = invoke(*argv, config=config)
        assert (result.exit_code, result.stdout) == (0, ""), (argv, result.stderr)
    result = invoke("alerts", "retry", config=config)
    assert (result.exit_code, result.stdout) == (0, "0 failed emails queued again\n")


def test_backfill_queues_a_watchs_stored_matches_once(config):
    db = open_db(config.parent / "newswatch.db")
    add_article(db, 1, "ledger", "Lavrov lands in Pyongyang", "Talks in North Korea today.")
    add_article(db, 2, "meridian", "Fog grounds flights", "Nothing about diplomacy.")
    db.close()
    result = invoke("alerts", "backfill", "Lavrov in Korea", "--days", "2", config=config)
    assert (result.exit_code, result.stdout) == (0, "1 story queued for Lavrov in Korea\n"), \
        result.stderr
    assert len(list((config.parent / "outbox").glob("*.eml"))) == 1
    listed = invoke("alerts", config=config).stdout
    assert "Lavrov in Korea" in listed and "Lavrov lands in Pyongyang" in listed
    again = invoke("alerts", "backfill", "Lavrov in Korea", "--days", "2", config=config)
    assert again.stdout == "0 stories queued for Lavrov in Korea\n"


def test_explain_a_url_newswatch_never_saw(config):
    result = invoke("explain", "https://ledger.example/news/404", config=config)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("URL:        https://ledger.example/news/404")


def test_json_logging_writes_one_object_per_line(config):
    result = invoke("--log-format", "json", "alerts", "retry", config=config)
    assert result.exit_code == 0
    for line in result.stderr.splitlines():
        assert {"time", "level", "logger", "message"} <= set(json.loads(line))


# ----------------------------------------------------------------- structure, end to end


def test_the_daemon_never_imports_the_cli():
    tree = ast.parse((ROOT / "scheduler.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not [m for m in imported if m.startswith("newswatch.cli")], imported


def test_the_daemons_child_is_a_hidden_command_of_the_same_cli(config):
    sys.path.insert(0, str(ROOT))
    import scheduler
    from newswatch.config import load_config

    daemon = scheduler.Daemon(load_config(config), log_format="json")
    try:
        cmd = daemon.child_command(["ledger", "meridian"])
    finally:
        daemon.db.close()
    assert cmd == [sys.executable, "-m", "newswatch", "--config", str(config),
                   "--log-format", "json", "_pass", "ledger", "meridian"]
    assert cli.commands["_pass"].hidden


def test_starting_the_cli_leaves_scrapy_and_the_daemon_unimported(config):
    code = textwrap.dedent(f"""
        import sys
        from newswatch.cli.main import main
        assert main(["--config", {str(config)!r}, "check"]) == 0
        heavy = sorted(m for m in ("scrapy", "twisted", "scheduler", "trafilatura")
                       if m in sys.modules)
        print("loaded:", heavy)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=config.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "loaded: []"


def test_python_dash_m_newswatch_and_the_console_script_agree(config):
    script = Path(sys.executable).with_name("newswatch")
    for cmd in ([sys.executable, "-m", "newswatch"], [str(script)]):
        if not Path(cmd[0]).exists():
            pytest.fail(f"{cmd[0]} is not installed (pip install -e .)")
        ok = subprocess.run(cmd + ["--config", str(config), "check"], capture_output=True,
                            text=True, timeout=120)
        assert (ok.returncode, ok.stdout) == (0, f"config ok: {config}: 2 outlets, 1 watches\n")
        bad = subprocess.run(cmd + ["--config", str(config), "search", "NOT x"],
                             capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and bad.stderr.startswith("query error: ")
        usage = subprocess.run(cmd + ["frobnicate"], capture_output=True, text=True, timeout=120)
        assert usage.returncode == 2 and "Usage: newswatch" in usage.stderr
