"""An email as an .eml file: the outbox fallback when no SMTP server is configured."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def eml_name(message_id: str) -> str:
    local = message_id.strip().strip("<>")
    return (re.sub(r"[^A-Za-z0-9._-]", "_", local.replace("@", "_at_")) or "message") + ".eml"


def write_eml(directory: str | os.PathLike, raw: bytes, message_id: str) -> Path:
    """Write one email as DIR/<message-id>.eml atomically (temp file, fsync, rename).  The
    name comes from the Message-ID, so writing the same message again replaces the file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / eml_name(message_id)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return target
