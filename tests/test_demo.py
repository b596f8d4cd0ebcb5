"""`newswatch demo` never destroys a user's files: it refuses a folder holding files it did
not write, and re-runs in its own folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.demo import run_demo
from newswatch.errors import UsageError


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _demo_cli(folder: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-m", "newswatch", "demo", "--dir", str(folder)],
                          capture_output=True, text=True, timeout=240, cwd=cwd, env=env)


@pytest.mark.parametrize("user_files", [
    {"newswatch.toml": b'database = "mine.db"\n'},             # the user's own config
    {"outbox/letter-to-editor.txt": b"Dear editor,\n"},        # a file in an outbox/
    {"notes.md": b"- renew the lease\n"},                       # anything else
])
def test_folder_with_other_files_is_refused_and_left_as_it_was(tmp_path, user_files):
    for name, data in user_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    before = _snapshot(tmp_path)
    with pytest.raises(UsageError) as err:
        run_demo(tmp_path)
    message = err.value.message()
    assert "\n" not in message and "--dir" in message and str(tmp_path) in message
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        sorted({name.split("/")[0] for name in user_files})

    r = _demo_cli(Path("."), cwd=tmp_path)  # `newswatch demo --dir .`, as in the report
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "--dir" in r.stderr
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
def test_demo_reruns_in_its_own_folder(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()  # an empty folder is fine
    # Through the CLI: a crawl runs Twisted's reactor, which starts once per process.
    first = _demo_cli(folder, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    emails = sorted(p.name for p in (folder / "outbox").glob("*.eml"))
    assert emails and f"{len(emails)} alert emails written to" in first.stdout
    again = _demo_cli(folder, cwd=tmp_path)  # its own files: runs again from a first pass
    assert again.returncode == 0, again.stderr
    assert f"{len(emails)} alert emails written to" in again.stdout
    assert len(list((folder / "outbox").glob("*.eml"))) == len(emails)
    # A file the user adds to the demo's folder later makes it theirs again.
    (folder / "outbox" / "keep.txt").write_text("mine")
    with pytest.raises(UsageError):
        run_demo(folder)
    assert (folder / "outbox" / "keep.txt").read_text() == "mine"


def test_folder_of_an_older_demo_without_marker_is_its_own(tmp_path):
    from newswatch.demo import DEMO_CONFIG, MARKER, claim_folder

    (tmp_path / "newswatch.toml").write_text(DEMO_CONFIG.format(outlets=""))
    (tmp_path / "demo.db").write_bytes(b"")
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "1.eml").write_bytes(b"Subject: x\n\n")
    claim_folder(tmp_path)
    assert (tmp_path / MARKER).is_file()
