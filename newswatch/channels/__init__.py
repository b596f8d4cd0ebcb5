"""Alert channels beyond email: apprise URLs (Slack, Teams, Telegram, Matrix, ntfy, json://,
...), a signed native webhook for programs, and watch feeds (Atom, JSON Feed, RSS).

Every function here is pure or talks to one receiver; the outbox (newswatch.alerts) decides
when to call them and records the outcome, so a channel never loses or doubles a message.
"""

from .feed import render_feed
from .render import render_markdown
from .targets import Target, TargetError, expand_secrets, parse_target
from .webhook import Delivery, build_payload, post_webhook, send_apprise, sign

__all__ = [
    "Delivery", "Target", "TargetError", "build_payload", "expand_secrets", "parse_target",
    "post_webhook", "render_feed", "render_markdown", "send_apprise", "sign",
]
