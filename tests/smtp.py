"""A real SMTP server on 127.0.0.1 (aiosmtpd) whose behaviour a test can change: accept,
answer 4xx/5xx to DATA, refuse one recipient, hold DATA until released, be stopped and
started again on the same port.  Also a "silent" TCP server that accepts connections and
drips its banner one byte at a time (smtplib's per-operation timeout never fires)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)  # next DATA answers (then 250)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> reply
    hold: bool = False  # DATA waits (never answers) while set
    drop_held: bool = False  # a held DATA, once released, is answered 451 and not kept
    data_started: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started += 1
        held = self.hold
        while self.hold:
            await asyncio.sleep(0.05)
        if held and self.drop_held:
            return "451 4.3.0 connection lost"
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content or envelope.content))
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int | None = None, **controller_kwargs):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = Handler()
        self.kwargs = controller_kwargs
        self.controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     **self.kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.handler.hold = False
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [r.message for r in self.handler.received]


class DripServer:
    """Accepts connections and sends "220 " + a long banner one byte every `interval`;
    `sent` counts the bytes sent, so a test can tell the client gave up before the end."""

    BANNER = b"220 " + b"x" * 500

    def __init__(self, interval: float = 0.3):
        self.interval = interval
        self.sent = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            for byte in self.BANNER:
                if self.stopped.is_set():
                    break
                conn.sendall(bytes([byte]))
                self.sent += 1
                time.sleep(self.interval)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


# --------------------------------------------------------------- config and db helpers

def write_config(tmp_path, *, server=None, port=None, watches: str | None = None,
                 mail_extra: str = "", timezone: str = "UTC", extra: str = "",
                 timeout: float = 5, database: str = "newswatch.db"):
    """A newswatch.toml with two outlets (alpha, beta) and the given watches; mail to
    `server` (an SmtpServer) or `port`, else .eml files into tmp_path/outbox; the store at
    `database` (a path or a PostgreSQL URL)."""
    import textwrap

    from newswatch.config import load_config

    if watches is None:
        watches = WATCHES
    mail = 'outbox_dir = "outbox"\n'
    if server is not None or port is not None:
        mail = f'smtp_host = "127.0.0.1"\nsmtp_port = {port or server.port}\ntimeout = {timeout}\n'
    text = textwrap.dedent(f"""\
        database = "{database}"
        timezone = "{timezone}"
        {extra}
        [mail]
        from = "newswatch@example.org"
        to = ["desk@example.org"]
        """) + mail + mail_extra + textwrap.dedent("""
        [[outlets]]
        id = "alpha"
        name = "Alpha News"
        feeds = ["http://127.0.0.1:9/rss.xml"]
        allow_private = true

        [[outlets]]
        id = "beta"
        name = "Beta Times"
        feeds = ["http://127.0.0.2:9/rss.xml"]
        allow_private = true
        """) + textwrap.dedent(watches)
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


WATCHES = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'

[[watches]]
name = "Kim Jong Un"
query = '"Kim Jong Un"'
"""

_seq = iter(range(1, 10**9))


def add_article(db, *, title: str, text: str, outlet: str = "alpha",
                published: str | None = "now", first_seen: str | None = None,
                url: str | None = None, duplicate_of: int | None = None) -> int:
    """Store an article as the store pipeline does (matched = 0); returns its id."""
    from newswatch import clock

    now = clock.now_iso()
    n = next(_seq)
    row = {
        "url": url or f"https://{outlet}.example/news/{n}",
        "outlet": outlet, "title": title, "text": text,
        "published": now if published == "now" else published,
        "date_source": "meta" if published else "first_seen",
        "first_seen": first_seen or now, "last_seen": first_seen or now,
        "duplicate_of": duplicate_of, "status": 200, "matched": 0,
        "content_hash": f"h{n}",
    }
    return db["articles"].insert(row).last_pk
