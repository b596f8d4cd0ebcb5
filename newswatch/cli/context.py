"""What the group's global options give every command: the config (loaded on first use,
so `demo` and `--help` need none) and the database (opened once, closed at exit)."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

@dataclass
class State:
    config_path: str | None = None
    verbose: bool = False
    log_format: str = "text"
    _config: object = field(default=None, repr=False)
    _db: object = field(default=None, repr=False)

    @property
    def config(self):
        if self._config is None:
            from ..config import find_config, load_config

            self._config = load_config(find_config(self.config_path))
        return self._config

    @property
    def db(self):
        if self._db is None:
            from ..store import open_db

            self._db = open_db(self.config.database)
            click.get_current_context().find_root().call_on_close(self._db.close)
        return self._db


pass_state = click.make_pass_decorator(State, ensure=True)
