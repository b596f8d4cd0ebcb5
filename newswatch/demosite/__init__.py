"""A fixture news site with two outlets, served on 127.0.0.1 for `newswatch demo` and the
tests. `python -m newswatch.demosite` serves it in a process of its own; `start_site()`
serves it from threads of this one. Content: `content/` (see content/README.md)."""

from .server import Site, start_site
from .store import BUNDLED, load_content, resolve_time

__all__ = ["BUNDLED", "Site", "load_content", "resolve_time", "start_site"]
