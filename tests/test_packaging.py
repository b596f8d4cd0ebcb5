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
