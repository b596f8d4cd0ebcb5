"""What a cron user and an operator see (issue 17, items 6, 7, 8, 10, 11): exit codes,
one line per problem with its real cause, database paths, health after unchanged passes,
and the smaller things search and explain say. Real CLI processes, real servers on
127.0.0.1."""

from __future__ import annotations

import json
import os
import sqlite3
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, run_newswatch, write_config
from smtp import free_port


def nw(*args: str, config: Path, env: dict | None = None):
    return run_newswatch(*args, config=config, env={
        **(env or {}),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})


def refused_config(tmp_path: Path, outlets: int = 2) -> Path:
    """Outlets on ports where nothing listens: robots.txt (and everything) is refused."""
    text = 'database = "newswatch.db"\n[crawl]\nworkers = 1\n'
    for i in range(outlets):
        text += textwrap.dedent(f"""
            [[outlets]]
            id = "closed{i}"
            feeds = ["http://127.0.0.1:{free_port()}/feed.xml"]
            pages = ["http://127.0.0.1:{free_port()}/news/"]
            article_urls = '/a/'
            allow_private = true
            """)
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ 6. exit codes


@pytest.mark.slow
def test_a_quiet_pass_that_went_well_prints_nothing(tmp_path, site, smtp):
    config = write_config(tmp_path, site, smtp=smtp)
    result = nw("crawl", "--quiet", config=config)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert smtp.messages  # the alerts did go out


@pytest.mark.slow
def test_alerts_that_cannot_be_delivered_exit_4(tmp_path, site, smtp):
    smtp.handler.refuse["desk@example.org"] = "550 5.1.1 no such mailbox"
    config = write_config(tmp_path, site, smtp=smtp)
    result = nw("crawl", "--quiet", config=config)
    assert result.returncode == 4, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("mail error: ")
    assert lines[:-1] and all(line.startswith("alert for ") and " via email " in line and "550" in line
                              for line in lines[:-1]), lines


# ---------------------------------------------------- 6 and 7. no outlet, real cause


@pytest.mark.slow
def test_no_outlet_fetched_exits_6_with_one_line_per_outlet_and_its_cause(tmp_path):
    config = refused_config(tmp_path)
    result = nw("crawl", config=config)
    assert result.returncode == 6, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3, lines  # one per outlet, then the error
    for i in (0, 1):
        assert [line for line in lines if f"outlet=closed{i} " in line and
                line.endswith("robots.txt unreachable: connection refused")]
    assert lines[-1] == "crawl error: no outlet could be fetched (2 tried)"

    db = sqlite3.connect(tmp_path / "newswatch.db")
    messages = {m for (m,) in db.execute("SELECT message FROM runs")}
    db.close()
    assert messages == {"robots.txt unreachable: connection refused"}

    status = nw("status", config=config).stdout
    assert "closed0: its last pass fetched nothing: robots.txt unreachable: connection " \
           "refused" in status
    feed = json.loads(nw("status", "--json", config=config).stdout)["outlets"][0]
    assert feed["last_result"]["message"] == "robots.txt unreachable: connection refused"
    url = config.read_text().split('feeds = ["')[1].split("/feed.xml")[0] + "/a/story"
    explain = nw("explain", url, config=config).stdout
    assert "its last pass fetched nothing: robots.txt unreachable: connection refused" \
        in explain

    quiet = nw("crawl", "--quiet", config=config)
    assert quiet.returncode == 6 and quiet.stdout == ""
    assert quiet.stderr.splitlines() == [
        "closed0: no page could be fetched: robots.txt unreachable: connection refused",
        "closed1: no page could be fetched: robots.txt unreachable: connection refused",
        "crawl error: no outlet could be fetched (2 tried)"]


# ------------------------------------------------------------ 8. database paths


@pytest.mark.parametrize("command", [["crawl"], ["status"], ["check"], ["search", "x"]])
def test_a_missing_database_folder_is_one_line_and_exit_3_everywhere(tmp_path, command):
    config = refused_config(tmp_path, outlets=1)
    config.write_text(config.read_text().replace('"newswatch.db"', '"gone/newswatch.db"'))
    result = nw(*command, config=config)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        f"database error: {tmp_path}/gone/newswatch.db: the folder {tmp_path}/gone does not "
        "exist (create it, or set `database` in the config to a path in an existing folder)"]
    assert result.stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only folder")
def test_a_read_only_database_folder_is_one_line_and_exit_3(tmp_path):
    config = refused_config(tmp_path, outlets=1)
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    config.write_text(config.read_text().replace('"newswatch.db"', '"ro/newswatch.db"'))
    for command in (["crawl"], ["check"]):
        result = nw(*command, config=config)
        assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stderr
        assert "is not writable" in result.stderr


# --------------------------------------------------- 10. health after unchanged passes


@pytest.mark.slow
def test_unchanged_passes_answered_304_raise_no_discovery_warning(tmp_path, site):
    config = write_config(tmp_path, site)
    for _ in range(4):  # the first pass finds the links, then three 304 passes
        assert nw("crawl", "--no-mail", config=config).returncode == 0
    db = sqlite3.connect(tmp_path / "newswatch.db")
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 4 * len(site.urls)
    db.close()
    health = json.loads(nw("status", "--json", config=config).stdout)["health"]
    assert not [w for w in health if "discovery" in w["message"]], health


# ------------------------------------------------------------------- 11. smaller


@pytest.fixture
def archive(tmp_path):
    """A stored story and its syndicated copy, which carries a headline of its own."""
    from newswatch.store import open_db

    config = refused_config(tmp_path, outlets=2)
    store = open_db(tmp_path / "newswatch.db")
    now = "2026-11-24T10:00:00+00:00"
    common = {"first_seen": now, "last_seen": now, "matched": 1, "changes": 0,
              "status": 200, "text": "The harbour board voted to dredge the channel."}
    original = store.insert_article({**common, "url": "http://one.test/a/1",
                                     "outlet": "closed0", "title": "Harbour to be dredged"})
    store.insert_article({**common, "url": "http://two.test/a/9", "outlet": "closed1",
                          "title": "Zanzibar-bound freighters get a deeper channel",
                          "duplicate_of": original})
    store.record_fetch({"url": "http://one.test/a/1", "outlet": "closed0", "fetched": now,
                        "status": 200, "error": None, "article_id": original, "length": 47})
    store.close()
    return config


def test_search_finds_a_copys_own_headline_and_groups_copies(archive):
    result = nw("search", "Zanzibar", config=archive)
    assert result.returncode == 0, result.stderr
    assert "Zanzibar-bound freighters" in result.stdout
    assert "copy of closed0: http://one.test/a/1" in result.stdout
    grouped = json.loads(nw("search", "channel", "--json", config=archive).stdout)
    assert [r["title"] for r in grouped] == ["Harbour to be dredged"]
    assert [c["title"] for c in grouped[0]["copies"]] == [
        "Zanzibar-bound freighters get a deeper channel"]
    text = nw("search", "channel", config=archive).stdout
    assert "also, as a copy:" in text and text.rstrip().endswith("1 result and 1 copy")


@pytest.mark.parametrize("args,says", [(["--limit", "0"], "--limit"),
                                       (["--outlet", "nosuch"], "unknown outlet nosuch")])
def test_search_refuses_a_zero_limit_and_an_unknown_outlet(archive, args, says):
    result = nw("search", "channel", *args, config=archive)
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert result.stdout == ""


def test_explain_counts_characters_not_bytes(archive):
    out = nw("explain", "http://one.test/a/1", config=archive).stdout
    assert "47 characters of text" in out and "bytes" not in out


def test_a_backfill_email_says_the_stories_are_from_the_archive():
    from types import SimpleNamespace

    from newswatch import mail
    from newswatch.query import compile_query

    watch = SimpleNamespace(name="Harbour", query="harbour", compiled=compile_query("harbour"),
                            to=[], max_stories=50)
    config = SimpleNamespace(timezone="UTC", mail=SimpleNamespace(
        from_addr="nw@example.org", to=["desk@example.org"]))
    story = mail.Story(url="http://one.test/a/1", title="Harbour to be dredged",
                       outlet="One", published="2026-03-01T10:00:00+00:00",
                       first_seen="2026-03-01T10:00:00+00:00", text="The harbour board voted.",
                       also_in=[], id=1)
    msg = mail.render_alert(watch, [story, story], config=config, message_id="<1@x>",
                            archive=True)
    assert msg["Subject"] == "[newswatch] Harbour: 2 stories from the archive"
    text = msg.get_body(("plain",)).get_content()
    assert "2 stories from the archive" in text and "new stor" not in text
