"""Handing an email's bytes to an SMTP server within an overall deadline, and saying what
the server's answer means: sent, retry later, or failed for good."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Sequence

from .clean import clean_text


@dataclass
class SendResult:
    """What happened to one message.  `ok`: the server accepted it for at least one
    recipient.  Otherwise `transient` says whether to retry.  `refused` maps each refused
    recipient to the server's reply."""

    ok: bool
    transient: bool = False
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)


def _reply(code: int, msg: bytes | str) -> str:
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return f"{code} {clean_text(msg)}".strip()


def _scrub(text: str) -> str:
    """Remove the SMTP password (and its base64 forms) from a message before it is logged."""
    password = os.environ.get("NEWSWATCH_SMTP_PASSWORD")
    if password:
        import base64

        for secret in {password, base64.b64encode(password.encode()).decode()}:
            if secret:
                text = text.replace(secret, "***")
    return text


def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Deadline:
    """Closes the session's socket when the overall deadline passes: smtplib's timeout is
    per operation, so a server dripping one byte at a time would otherwise hold it."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.expired = threading.Event()
        self.smtp: smtplib.SMTP | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.05, self.end - time.monotonic())

    def _fire(self) -> None:
        self.expired.set()
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        return False


def send(raw: bytes, sender: str, recipients: Sequence[str], mail_config) -> SendResult:
    """Send `raw` to `recipients` over SMTP within mail_config.timeout seconds overall.
    Never raises for delivery problems: the result says sent, retry later, or failed."""
    envelope_from = parseaddr(sender)[1] or sender
    rcpts = [parseaddr(r)[1] or r for r in recipients]
    security = mail_config.security
    host, port = mail_config.smtp_host, mail_config.smtp_port
    try:
        with _Deadline(float(mail_config.timeout)) as deadline:
            try:
                return _session(raw, envelope_from, rcpts, mail_config, host, port, security,
                                deadline)
            except Exception as exc:  # noqa: BLE001 - classified below
                if deadline.expired.is_set():
                    return SendResult(False, True, f"no answer from {host}:{port} within "
                                                   f"{mail_config.timeout:g} s (deadline)")
                return _classify(exc, host, port)
            finally:
                smtp = deadline.smtp
                if smtp is not None:
                    try:
                        smtp.close()
                    except Exception:  # noqa: BLE001
                        pass
    except Exception as exc:  # noqa: BLE001 - anything unforeseen: keep the mail, retry
        return SendResult(False, True, _scrub(f"{type(exc).__name__}: {exc}"))


def _session(raw, envelope_from, rcpts, mail_config, host, port, security, deadline):
    context = tls_context(mail_config.tls_verify) if security in ("ssl", "starttls") else None
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(timeout=deadline.remaining(), context=context)
    else:
        smtp = smtplib.SMTP(timeout=deadline.remaining())
    deadline.smtp = smtp
    # Connecting here rather than in the constructor lets the deadline reach the socket;
    # smtplib takes the TLS server name (certificate check) from _host, set only there.
    smtp._host = host
    smtp.connect(host, port)
    if security == "starttls":
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
    if mail_config.username:
        password = os.environ.get("NEWSWATCH_SMTP_PASSWORD") or ""
        smtp.login(mail_config.username, password)
    refused_raw = smtp.sendmail(envelope_from, rcpts, raw)
    try:
        smtp.quit()
    except Exception:  # noqa: BLE001 - the server has the message already
        pass
    refused = {r: _scrub(_reply(code, msg)) for r, (code, msg) in refused_raw.items()}
    return SendResult(True, False, None, refused)


def _classify(exc: Exception, host: str, port: int) -> SendResult:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = {r: _scrub(_reply(code, msg)) for r, (code, msg) in exc.recipients.items()}
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        return SendResult(False, not permanent,
                          "every recipient refused: " + "; ".join(
                              f"{r}: {m}" for r, m in refused.items()), refused)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        reply = _scrub(_reply(code, exc.smtp_error))
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            reply = f"login refused: {reply}"
        return SendResult(False, not (500 <= code < 600), reply)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendResult(False, True, f"TLS certificate of {host} not trusted: "
                                       f"{exc.verify_message or exc}")
    if isinstance(exc, ssl.SSLError):
        return SendResult(False, True, f"TLS error with {host}:{port}: {exc}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendResult(False, True, f"{host}:{port}: {exc}")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return SendResult(False, True, f"timed out talking to {host}:{port}")
    if isinstance(exc, ConnectionRefusedError):
        return SendResult(False, True, f"connection to {host}:{port} refused")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendResult(False, True, f"{host}:{port} closed the connection: {exc}")
    if isinstance(exc, OSError):
        return SendResult(False, True, f"cannot reach {host}:{port}: {exc.strerror or exc}")
    return SendResult(False, True, _scrub(f"{type(exc).__name__}: {exc}"))
