"""The TOML config file, checked in full before anything starts.

`load_config` either returns a complete, typed `Config` (defaults applied) or raises one
`ConfigError` naming the file and line of the first problem. tomllib gives no positions
for values, so `locate.Locator` maps key paths such as ("outlets", 2, "article_urls") to
lines by scanning the raw text itself.

Rooms: `fields` (every key declared once: kind, default, meaning), `model` (the
dataclasses), `units` (durations, sizes), `cron` (crontab meaning on APScheduler),
`locate` (key path -> line), `check` (typed getters raising at a line), `load` (finding,
loading, the rules across keys), `docs` (the README's configuration reference).
"""

from .cron import cron_trigger
from .fields import CONFIG_KEYS, FIELDS, MODES, SECURITY_PORTS, Field
from .load import CONFIG_ENV, DEFAULT_CONFIG_NAME, find_config, load_config
from .model import (PASSWORD_ENV, ClusterConfig, Config, CrawlConfig, Defaults, MailConfig,
                    Outlet, Watch)
from .units import parse_duration, parse_size

__all__ = [
    "CONFIG_ENV", "CONFIG_KEYS", "DEFAULT_CONFIG_NAME", "FIELDS", "MODES", "PASSWORD_ENV",
    "SECURITY_PORTS", "ClusterConfig", "Config", "CrawlConfig", "Defaults", "Field", "MailConfig", "Outlet",
    "Watch", "cron_trigger", "find_config", "load_config", "parse_duration", "parse_size",
]
