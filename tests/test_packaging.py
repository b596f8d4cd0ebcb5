"""The wheel ships exactly the four top-level names of the design card."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_top_level_names(tmp_path):
    # --no-build-isolation: no network; setuptools comes from the test extras.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("newswatch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if ".dist-info" not in n.split("/")[0]}
    assert top == {"newswatch", "spiders", "pipelines", "scheduler.py"}
    # The demo site's content ships too, or `newswatch demo` fails on an installed copy.
    assert any(n.startswith("newswatch/demosite/content/") for n in names)
    # So do the subpackages and the email template, and the console script points at the
    # click CLI.
    assert {"newswatch/cli/main.py", "newswatch/cli/crawl.py", "newswatch/store/status.py",
            "newswatch/mail/templates/alert.html"} <= set(names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "newswatch = newswatch.cli.main:main" in text
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "Requires-Dist: click>=8.1" in zipfile.ZipFile(wheel).read(metadata).decode()
