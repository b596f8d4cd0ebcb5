"""`python -m newswatch.demosite [--content DIR] [--host 127.0.0.1] [--log FILE]`

Prints one JSON line, {"outlets": {"<id>": "http://127.0.0.1:<port>", ...}}, then serves
until SIGTERM or SIGINT and exits 0. Nothing else goes to stdout or stderr."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .server import start_site
from .store import BUNDLED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newswatch.demosite",
                                     description="Serve the newswatch fixture news site.")
    parser.add_argument("--content", type=Path, default=BUNDLED,
                        help="content folder (default: the bundled one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--log", type=Path, help="append one JSON line per request to this file")
    args = parser.parse_args(argv)
    if not (args.content / "outlets.json").is_file():
        parser.error(f"{args.content} has no outlets.json")

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    site = start_site(args.content, args.host, args.log)
    try:
        sys.stdout.write(json.dumps({"outlets": site.urls}) + "\n")
        sys.stdout.flush()
        while not done.wait(0.5):
            pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
