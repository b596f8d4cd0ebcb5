"""One alert email: rendering it (text + HTML), turning it into the exact bytes to send,
and handing those bytes to an SMTP server or an .eml file.

Everything that comes from an article is untrusted: it is kept out of every header (the
subject names only the watch), stripped of control and bidi-override characters, escaped in
the HTML part by the template engine (autoescape: nothing reaches the page unescaped unless
a filter of ours marks it safe), and linked only when its URL is http(s).  Messages are
serialised once with `policy.SMTP` and stored; a resend sends the same bytes with the same
Message-ID.

    clean    untrusted text made fit for display and headers
    render   the message: text part, HTML part (templates/alert.html), bytes, Message-ID
    smtp     sending the bytes, classifying the server's answer
    eml      writing the bytes as an .eml file
"""

from .clean import MAX_LINE, clean_text, header_safe, safe_link
from .eml import eml_name, write_eml
from .render import Story, make_message_id, message_bytes, render_alert
from .smtp import SendResult, send, tls_context

__all__ = ["MAX_LINE", "SendResult", "Story", "clean_text", "eml_name", "header_safe",
           "make_message_id", "message_bytes", "render_alert", "safe_link", "send",
           "tls_context", "write_eml"]
