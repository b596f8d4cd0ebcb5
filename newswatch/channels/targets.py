"""Channel targets: the URL a user wrote, its secrets read from the environment, and the
label that is safe to show (service and host only: a URL often *is* the secret)."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TargetError(ValueError):
    """A channel URL that cannot be used; the message never contains the URL's secrets."""


def expand_secrets(template: str, env: Mapping[str, str] | None = None) -> str:
    """`${NAME}` inside a URL is read from the environment at send time, so the config file
    and the database hold no secret."""
    env = os.environ if env is None else env

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name not in env or env[name] == "":
            raise TargetError(f"environment variable {name} is not set")
        return env[name]

    return _VAR.sub(value, template)


def _looks_like_host(host: str | None) -> bool:
    # Slack, Telegram and Teams put tokens where a host would be: show those as the service.
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return "." in host


@dataclass(frozen=True)
class Target:
    kind: str  # "apprise" | "webhook"
    template: str  # as written, ${VAR} unexpanded: this is what the outbox stores
    label: str  # safe to show: service and host, never a token
    secret: str | None = None  # webhook signing secret template (also ${VAR})
    timeout: float | None = None  # webhook: seconds for one POST (None: the default)
    # The service's own limits (apprise's plugin attributes), for render_markdown.
    body_maxlen: int = 4000
    title_maxlen: int = 250

    @property
    def key(self) -> str:
        """A stable channel id for outbox rows and `alerts retry --channel`."""
        digest = hashlib.sha1(self.template.encode("utf-8")).hexdigest()[:10]
        return f"{self.kind}:{digest}"


def _webhook_label(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"webhook {parts.scheme}://{host}{port}"


def parse_target(template: str, kind: str = "apprise", *, secret: str | None = None,
                 env: Mapping[str, str] | None = None, check_env: bool = True,
                 timeout: float | None = None) -> Target:
    """Validate one channel URL (with apprise for `kind="apprise"`). `check_env=False`
    validates the shape only, for a config whose secrets are set on another machine."""
    if not isinstance(template, str) or not template.strip():
        raise TargetError("a channel URL must be a non-empty string")
    template = template.strip()
    if check_env:
        url = expand_secrets(template, env)
    else:
        url = _VAR.sub("x", template)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if kind == "webhook":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(f"webhook URL must be http(s)://host/...: got {scheme or 'no'} scheme")
        if parts.scheme == "http" and not _private_host(parts.hostname):
            raise TargetError("webhook URL must be https:// (plain http only to loopback, "
                              "private addresses or a single-label host such as a container)")
        if secret is not None:
            if not isinstance(secret, str) or not secret.strip():
                raise TargetError("webhook secret must be a non-empty string")
            if check_env:
                expand_secrets(secret, env)
        return Target("webhook", template, _webhook_label(url), secret, timeout)
    import apprise  # lazy: only configs with channels pay for its plugin scan

    with quiet_apprise():
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if not plugin:
        raise TargetError(f"apprise does not understand this {scheme or 'scheme-less'}:// URL"
                          " (see apprise's list of services for its form)")
    host = getattr(plugin, "host", None)
    label = plugin.service_name
    if _looks_like_host(host) and host not in (label,):
        label = f"{label} {scheme}://{host}"
    return Target("apprise", template, label,
                  body_maxlen=int(getattr(plugin, "body_maxlen", 0) or 4000),
                  title_maxlen=int(getattr(plugin, "title_maxlen", 0) or 0))


@contextlib.contextmanager
def quiet_apprise():
    """Apprise logs URLs (tokens included) when it refuses or fails one: keep its records
    out of newswatch's log; callers read them through apprise.LogCapture and redact."""
    logger = logging.getLogger("apprise")
    previous = logger.propagate
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = previous


def _private_host(host: str) -> bool:
    """Loopback, private-network addresses and single-label names (a compose service): the
    places a plain-http webhook does not cross the internet."""
    if host == "localhost" or "." not in host and ":" not in host:
        return True
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_link_local


def redact(text: str, secrets: list[str]) -> str:
    """Take every expanded secret out of a library's error message before it is logged."""
    for s in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(s, "***")
    return text


def secret_values(template: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The values a template's ${VAR}s expand to, plus the URL's path and user info (where
    services keep their tokens), for redaction."""
    env = os.environ if env is None else env
    values = [env.get(m.group(1), "") for m in _VAR.finditer(template)]
    try:
        url = expand_secrets(template, env)
    except TargetError:
        return values
    if "://" in url:
        rest = url.split("://", 1)[1]
        values.append(rest)
        values += [seg for seg in re.split(r"[/@:?&=#]", rest) if len(seg) >= 8]
    return values
