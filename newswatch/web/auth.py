"""Who may use the web view: the password hash (scrypt, from the standard library), the
loopback rule, and the login rate limit.

Hash format, as `newswatch serve --hash-password` prints it:

    scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<key, urlsafe base64>

(n=2**15, r=8, p=1, 16-byte salt, 32-byte key by default).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import deque

from ..errors import UsageError

HASH_ENV = "NEWSWATCH_WEB_PASSWORD_HASH"
N, R, P, SALT_BYTES, KEY_BYTES = 2 ** 15, 8, 1, 16, 32
_MAXMEM = 128 * N * R * 2  # what hashlib.scrypt may use for these parameters


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    if not password:
        raise UsageError("the password must not be empty")
    salt = salt or secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P,
                         maxmem=_MAXMEM, dklen=KEY_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """The parameters of a stored hash; UsageError when it is not one of ours."""
    parts = (stored or "").strip().split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
        if n < 2 or n & (n - 1) or not (1 <= r <= 64 and 1 <= p <= 16) or not salt or not key:
            raise ValueError
    except ValueError:
        raise UsageError("the web password hash is not one `newswatch serve --hash-password` "
                         "prints (scrypt$N$r$p$salt$key)") from None
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    n, r, p, salt, key = parse_hash(stored)
    got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                         maxmem=128 * n * r * 2, dklen=len(key))
    return hmac.compare_digest(got, key)


def configured_hash(config) -> str | None:
    """$NEWSWATCH_WEB_PASSWORD_HASH, else [web] password_hash, else None."""
    value = os.environ.get(HASH_ENV) or getattr(getattr(config, "web", None),
                                                "password_hash", None)
    return value.strip() if value else None


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, password_hash: str | None) -> None:
    """Refuse to listen beyond loopback without a password."""
    if password_hash:
        parse_hash(password_hash)
    elif not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host} without a password: set [web] password_hash in "
            f"the config or ${HASH_ENV} (make one with `newswatch serve --hash-password`), "
            "or listen on 127.0.0.1")


class LoginLimiter:
    """At most `attempts` failed logins per client address in `window` seconds, and
    `attempts * 10` from everyone together (a spread-out guesser)."""

    def __init__(self, attempts: int = 5, window: float = 300.0, clock=time.monotonic):
        self.attempts, self.window, self.clock = attempts, window, clock
        self.failures: dict[str, deque] = {}
        self.everyone: deque = deque()
        self.lock = threading.Lock()

    def _trim(self, q: deque, now: float) -> None:
        while q and q[0] <= now - self.window:
            q.popleft()

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again (0: now)."""
        now = self.clock()
        with self.lock:
            q = self.failures.get(client, deque())
            self._trim(q, now)
            self._trim(self.everyone, now)
            waits = []
            if len(q) >= self.attempts:
                waits.append(q[0] + self.window - now)
            if len(self.everyone) >= self.attempts * 10:
                waits.append(self.everyone[0] + self.window - now)
            return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, client: str) -> None:
        now = self.clock()
        with self.lock:
            self.failures.setdefault(client, deque()).append(now)
            self.everyone.append(now)
            if len(self.failures) > 10000:  # forget the oldest clients, bounded memory
                for key in list(self.failures)[:1000]:
                    del self.failures[key]

    def succeeded(self, client: str) -> None:
        with self.lock:
            self.failures.pop(client, None)
