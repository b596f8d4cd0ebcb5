"""Pass locks: one pass of an outlet at a time, across processes (the daemon and a manual
`newswatch crawl`). flock on a file per outlet beside the database; the kernel drops the
lock when its process dies, so a killed pass never leaves a stale lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from .errors import DatabaseError, LockedError


def lock_path(config, outlet_id: str) -> Path:
    db = Path(config.database)
    return db.with_name(f"{db.name}.{outlet_id}.lock")


def check_database_path(path) -> None:
    """DatabaseError (exit 3, one line) unless the database's folder exists and newswatch
    may write there (the database, its WAL and the pass locks all live in it)."""
    db = Path(path)
    folder = db.parent
    if not folder.is_dir():
        raise DatabaseError(f"{db}: the folder {folder} does not exist (create it, or set "
                            "`database` in the config to a path in an existing folder)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseError(f"{db}: the folder {folder} is not writable by this user")
    if db.exists() and not os.access(db, os.R_OK | os.W_OK):
        raise DatabaseError(f"{db}: the file is not writable by this user")


def _try_lock(config, outlet_id: str) -> int | None:
    """An open descriptor holding the outlet's lock, or None if another process has it."""
    path = lock_path(config, outlet_id)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        check_database_path(config.database)  # says which folder, and why
        raise DatabaseError(f"{path}: cannot create the lock file: {exc.strerror}") from exc
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
