"""The deliberately lazy imports stay lazy: Scrapy (with Twisted, about a second) is loaded
only by a command that crawls, scipy (via datasketch, about 0.5 s) only when a near-duplicate
signature is computed.  Each check runs in a fresh interpreter, since this test process has
long imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

HEAVY = ("scrapy", "scipy", "datasketch")


def run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def modules_after(code: str) -> set[str]:
    """The modules loaded by a fresh interpreter after running `code`."""
    r = run(["-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"])
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_importing_the_cli_loads_neither_scrapy_nor_scipy():
    # newswatch.cli may be a module or a package: importing it is what every command pays.
    modules = modules_after("import newswatch.cli")
    assert "newswatch.cli" in modules
    assert heavy(modules) == [], "imported at CLI start"


def test_help_and_version_load_neither_scrapy_nor_scipy():
    for args in (["--help"], ["--version"]):
        # -X importtime lists every module the command imported, on stderr.
        r = run(["-X", "importtime", "-m", "newswatch", *args])
        assert r.returncode == 0, r.stderr
        names = {line.rpartition("|")[2].strip() for line in r.stderr.splitlines()
                 if line.startswith("import time:")}
        assert "newswatch.cli" in names, "the listing did not come from newswatch's CLI"
        assert heavy(names) == [], f"newswatch {args[0]} imported them"


def test_dedup_loads_datasketch_and_scipy_only_when_a_signature_is_computed():
    assert heavy(modules_after("import newswatch.dedup")) == []
    # The positive case, so the names above are the ones really imported.
    used = modules_after("import numpy as np\nfrom newswatch import dedup\n"
                         "dedup.signature(np.array([1, 2, 3], dtype=np.uint64))")
    assert {"datasketch", "scipy"} <= set(heavy(used))
