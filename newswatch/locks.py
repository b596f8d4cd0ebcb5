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


def _try_lock(config, outlet_id: str) -> int | None:
    """An open descriptor holding the outlet's lock, or None if another process has it."""
    fd = os.open(lock_path(config, outlet_id), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def pass_lock(config, outlet_ids=None):
    """All of the outlets' locks or LockedError (exit 5, "busy")."""
    ids = list(outlet_ids or [o.id for o in config.outlets])
    handles = []
    try:
        # Sorted, so two processes locking overlapping sets cannot each hold half.
        for outlet_id in sorted(set(ids)):
            fd = _try_lock(config, outlet_id)
            if fd is None:
                raise LockedError(f"outlet {outlet_id} is being crawled by another process")
            handles.append(fd)
        yield
    finally:
        for fd in handles:
            os.close(fd)


@contextlib.contextmanager
def available_locks(config, outlet_ids):
    """Lock whichever of the outlets are free; yields (locked ids, busy ids). The daemon
    uses this so that a manual crawl of one outlet does not hold up a batch of others."""
    locked, busy, handles = [], [], []
    try:
        for outlet_id in sorted(set(outlet_ids)):
            fd = _try_lock(config, outlet_id)
            if fd is None:
                busy.append(outlet_id)
            else:
                locked.append(outlet_id)
                handles.append(fd)
        yield locked, busy
    finally:
        for fd in handles:
            os.close(fd)


def is_locked(config, outlet_id: str) -> bool:
    fd = _try_lock(config, outlet_id)
    if fd is None:
        return True
    os.close(fd)
    return False
