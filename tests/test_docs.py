"""The README documents every command and every config key (docs are tested)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from newswatch import config
from newswatch.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix}{name}")
                found += commands(sub, f"{prefix}{name} ")
    return found


def test_every_command_is_in_the_readme():
    names = commands(build_parser())
    assert "crawl" in names and "watch test" in names and "alerts backfill" in names
    missing = [n for n in names if f"newswatch {n}" not in README]
    assert not missing, f"README.md does not document: {missing}"


def test_every_config_key_is_in_the_readme():
    documented = set(re.findall(r"^\s*([a-z_]+)\s*=", README, flags=re.M))
    documented |= set(re.findall(r"^\[+([a-z_]+)\]+", README, flags=re.M))
    keys = {key for section in config.CONFIG_KEYS.values() for key in section}
    assert {"smtp_host", "article_urls", "alert_max_age", "drop"} <= keys
    missing = sorted(keys - documented)
    assert not missing, f"README.md's configuration section lacks: {missing}"


def test_readme_gives_the_two_commands():
    assert ".venv/bin/newswatch demo" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "pytest" in ci and "python -m pytest -q" in README
