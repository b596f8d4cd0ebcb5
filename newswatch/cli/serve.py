"""`newswatch serve`: the web view on uvicorn."""

from __future__ import annotations

import sys

import click

from .context import State, pass_state


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command(short_help="The web view: alerts, stories, search, watches, outlets.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs a password "
                   "([web] password_hash or $NEWSWATCH_WEB_PASSWORD_HASH).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on.")
@click.option("--read-only", is_flag=True,
              help="No writes at all: watches cannot be created, changed or deleted.")
@click.option("--hash-password", is_flag=True,
              help="Read a password (prompted, or one line of stdin) and print its hash "
                   "for [web] password_hash, then exit.")
@click.option("--check", is_flag=True,
              help="Check the config, the database and the address rule, print the URL "
                   "it would serve, and exit.")
@pass_state
def serve(state: State, host: str, port: int, read_only: bool, hash_password: bool,
          check: bool) -> int:
    """Serve the web view on http://HOST:PORT until interrupted (Ctrl-C).

    Behind a TLS reverse proxy, bind 127.0.0.1 and let the proxy forward to it; session
    cookies are marked Secure unless [web] secure_cookies = false."""
    from .. import web

    if hash_password:
        click.echo(web.hash_password(_read_password()))
        return 0
    config = state.config
    password_hash = web.configured_hash(config)
    web.check_bind(host, password_hash)
    secure = config.web.secure_cookies
    if secure is None:
        secure = not web.is_loopback(host)
    app = web.create_app(config, read_only=read_only, password_hash=password_hash,
                         secure_cookies=secure)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    notes = [n for n, on in (("read-only", read_only), ("login required", password_hash))
             if on]
    if check:
        click.echo(f"would serve {url}" + (f" ({', '.join(notes)})" if notes else ""))
        return 0
    import uvicorn

    click.echo(f"serving {url}" + (f" ({', '.join(notes)})" if notes else "")
               + "; Ctrl-C stops", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=False, server_header=False)
    return 0


COMMANDS = (serve,)
