"""Pass locks: one pass of an outlet at a time, across processes (the daemon and a manual
`newswatch crawl`). flock on a file per outlet beside the database; the kernel drops the
lock when its process dies, so a killed pass never leaves a stale lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from .errors import LockedError


def lock_path(config, outlet_id: str) -> Path:
    db = Path(config.database)
    return db.with_name(f"{db.name}.{outlet_id}.lock")


@contextlib.contextmanager
def pass_lock(config, outlet_ids=None):
    ids = list(outlet_ids or [o.id for o in config.outlets])
    handles = []
    try:
        for outlet_id in sorted(ids):
            path = lock_path(config, outlet_id)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LockedError(f"outlet {outlet_id} is being crawled by another process")
            handles.append(fd)
        yield
    finally:
        for fd in handles:
            os.close(fd)
