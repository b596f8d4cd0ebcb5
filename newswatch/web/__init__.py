"""The web view (`newswatch serve`): alerts, stories, search, watches and outlet health in
a browser. Server-rendered (Starlette + Jinja2 with autoescape, served by uvicorn); the
CSS, the few lines of script and the icon ship in `static/`, so a page loads nothing from
another host."""

from .app import create_app
from .auth import HASH_ENV, check_bind, configured_hash, hash_password, is_loopback, verify_password

__all__ = ["HASH_ENV", "check_bind", "configured_hash", "create_app", "hash_password",
           "is_loopback", "verify_password"]
