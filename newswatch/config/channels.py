"""`notify` (apprise URLs) and `webhooks` (native, signed) read into channel targets.

Each URL is validated with apprise and its `${ENV}` secrets must be set, so `newswatch
check` names the line of a bad one; an error never repeats the URL (it may be a secret)."""

from __future__ import annotations

from typing import Any

_WEBHOOK_KEYS = ("url", "secret", "timeout")


def read_targets(check, table: dict, key: str, path: tuple, kind: str, default: Any,
                 describe) -> tuple:
    """`check`: the config.check.Checker (its `error` names the line); `describe` words a
    TOML value's type."""
    from ..channels import TargetError, parse_target

    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, list):
        raise check.error(f"'{key}' must be an array, got {describe(value)}", path + (key,))
    out = []
    for i, item in enumerate(value):
        where = path + (key, i)
        try:
            if kind == "notify":
                if not isinstance(item, str):
                    raise check.error(f"'{key}' entry {i + 1} must be an apprise URL string, "
                                      f"got {describe(item)}", where)
                target = parse_target(item, "apprise")
            else:
                target = _webhook(check, item, key, i, where, parse_target, describe)
        except TargetError as exc:
            raise check.error(f"'{key}' entry {i + 1}: {exc}", where) from None
        if any(t.key == target.key for t in out):
            raise check.error(f"'{key}' entry {i + 1} repeats an earlier entry", where)
        out.append(target)
    return tuple(out)


def _webhook(check, item: Any, key: str, i: int, where: tuple, parse_target, describe):
    if isinstance(item, str):
        return parse_target(item, "webhook")
    if not isinstance(item, dict):
        raise check.error(f"'{key}' entry {i + 1} must be a URL or a table "
                          f"{{url, secret, timeout}}, got {describe(item)}", where)
    check.keys(item, _WEBHOOK_KEYS, where, f"'{key}' entry {i + 1}")
    if not isinstance(item.get("url"), str):
        raise check.error(f"'{key}' entry {i + 1} needs 'url' (a string)", where)
    secret = item.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise check.error(f"'{key}' entry {i + 1}: 'secret' must be a string such as "
                          '"${HOOK_SECRET}"', where + ("secret",))
    timeout = item.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(
            timeout, (int, float)) or timeout <= 0):
        raise check.error(f"'{key}' entry {i + 1}: 'timeout' must be a number of seconds "
                          "above 0", where + ("timeout",))
    return parse_target(item["url"], "webhook", secret=secret,
                        timeout=float(timeout) if timeout is not None else None)
