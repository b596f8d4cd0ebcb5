"""One email: rendering hostile article text safely, the flood guard, time zones, and
sending over real SMTP (aiosmtpd on 127.0.0.1) including TLS and authentication."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
from html import unescape
from html.parser import HTMLParser

import pytest

from newswatch import mail
from smtp import DripServer, SmtpServer, write_config

HOSTILE_TITLE = ("Breaking\r\nBcc: victim@evil.example\r\n\r\n<script>alert(1)</script>"
                 "\x00 \u202egnp.exe\u202c Lavrov")
LONG_WORD = "A" * 10_000


def watch_of(config, name=None):
    return next(w for w in config.watches if name is None or w.name == name)


def story(**kw) -> mail.Story:
    base = dict(url="https://alpha.example/news/1", title="Lavrov visits Pyongyang",
                outlet="Alpha News", published="2026-03-02T06:00:00+00:00",
                text="Sergei Lavrov arrived in Pyongyang on Monday for talks.")
    base.update(kw)
    return mail.Story(**base)


def render(config, stories, watch=None, **kw):
    msg = mail.render_alert(watch or watch_of(config), stories, config=config,
                            message_id=mail.make_message_id(config.mail.from_addr), **kw)
    raw = mail.message_bytes(msg)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    return raw, parsed, parsed.get_body(("html",)).get_content(), \
        parsed.get_body(("plain",)).get_content()


def test_hostile_article_text_cannot_inject_headers_scripts_or_links(tmp_path):
    config = write_config(tmp_path, watches="""
        [[watches]]
        name = "Evil\\r\\nBcc: boss@example.org \\u202e"
        query = 'Lavrov'
        """)
    raw, msg, html, text = render(config, [
        story(title=HOSTILE_TITLE, url="javascript:alert(document.cookie)",
              text=f"Lavrov said {LONG_WORD} and <img src=x onerror=alert(1)> \x00 end"),
        story(title=LONG_WORD, url="https://alpha.example/\r\nX-Evil: 1"),
    ])
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Subject"] == "[newswatch] Evil Bcc: boss@example.org: 2 new stories"
    assert set(msg.keys()) == {"Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted",
                               "MIME-Version", "Content-Type"}
    lines = raw.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert max(map(len, lines)) <= 998
    for part in (html, text):
        assert "\x00" not in part and "\u202e" not in part
        assert max(len(line) for line in part.splitlines()) <= 998
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html.replace("javascript:alert(document.cookie)</span>", "")
    assert 'href="javascript' not in html and "X-Evil" not in html.split("href=")[-1][:40]
    assert html.count("<a ") == 0, "neither URL is a safe http(s) link"
    assert "(not a web link) javascript:alert(document.cookie)" in text
    assert "<mark" in html and "*Lavrov*" in text


class Page(HTMLParser):
    """What a mail client shows and links: the text (entities resolved) and the attributes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.data = [], [], []
        self.feed(html)
        self.close()
        self.text = "".join(self.data)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.data.append(data)


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
TEMPLATE_TAGS = {"html", "head", "meta", "title", "body", "table", "tr", "td", "div", "a",
                 "br", "span", "mark", "code", "strong", "wbr"}


def test_hostile_title_is_shown_as_text_in_html_and_kept_out_of_headers(tmp_path):
    config = write_config(tmp_path, watches="""
        [[watches]]
        name = "<script>alert(2)</script>\\r\\nBcc: boss@example.org \\u202eLavrov\\u202c"
        query = 'Lavrov'
        """)
    raw, msg, html, text = render(config, [story(title=HOSTILE_TITLE)])
    # Headers: one line each, no injected header, no bidi or control characters.
    assert msg["Bcc"] is None
    for key, value in msg.items():
        assert not any(ch in value for ch in "\r\n\x00" + BIDI), (key, value)
    assert msg["Subject"] == ("[newswatch] <script>alert(2)</script> Bcc: boss@example.org "
                              "Lavrov: 1 new story")
    # HTML: no tag of the title's in the markup; a reader sees the title's text as written.
    page = Page(html)
    assert "<script" not in html and "script" not in page.tags
    assert set(page.tags) <= TEMPLATE_TAGS
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert ("Breaking Bcc: victim@evil.example <script>alert(1)</script> gnp.exe Lavrov"
            in page.text)
    assert "<script>alert(2)</script> Bcc: boss@example.org Lavrov" in page.text
    assert not any(ch in page.text for ch in "\x00" + BIDI)
    assert "Breaking Bcc: victim@evil.example <script>alert(1)</script> gnp.exe" in text


HOSTILE_FIELD = """<script>alert(1)</script>"'&amp;"""


@pytest.mark.parametrize("field", ["title", "outlet", "text", "also_in", "url", "watch",
                                   "query"])
def test_every_article_and_watch_field_is_escaped_in_html(tmp_path, field):
    name, query, kw = "Lavrov in Korea", "Lavrov", {}
    if field == "watch":
        name = HOSTILE_FIELD
    elif field == "query":
        query = 'Lavrov OR "<script>alert(1)</script>"'
    elif field == "url":
        kw["url"] = "https://alpha.example/" + HOSTILE_FIELD
    elif field == "also_in":
        kw["also_in"] = [HOSTILE_FIELD]
    elif field == "text":
        kw["text"] = f"Lavrov said {HOSTILE_FIELD} on Monday."
    else:
        kw[field] = HOSTILE_FIELD
    config = write_config(tmp_path, watches=f"""
        [[watches]]
        name = '''{name}'''
        query = '''{query}'''
        """)
    _, _, html, _ = render(config, [story(**kw)])
    page = Page(html)
    assert "<script" not in html and set(page.tags) <= TEMPLATE_TAGS
    if field == "url":
        assert ("href", kw["url"]) in page.attrs, "the link goes where the feed said"
    elif field == "query":
        assert 'Lavrov OR "<script>alert(1)</script>".' in page.text
    else:
        assert HOSTILE_FIELD in page.text, "shown as written, not interpreted"


def test_cyrillic_title_and_watch_name_render(tmp_path):
    config = write_config(tmp_path, watches="""
        [[watches]]
        name = "Лавров в Корее"
        query = 'Лавров*'
        """)
    raw, msg, html, text = render(config, [story(
        title="Лавров прилетел в Пхеньян", text="Сергей Лавров прибыл в Пхеньян в понедельник.")])
    raw.decode("ascii")  # 7-bit clean on the wire
    assert msg["Subject"] == "[newswatch] Лавров в Корее: 1 new story"
    assert "Лавров прилетел в Пхеньян" in html and "Лавров прилетел в Пхеньян" in text
    assert '<mark style="' in html and ">Лавров</mark>" in html
    assert "*Лавров*" in text


def test_flood_guard_lists_max_stories_and_says_how_many_more(tmp_path):
    config = write_config(tmp_path)
    stories = [story(url=f"https://alpha.example/news/{i}", title=f"Lavrov story {i:02d}",
                     published=f"2026-03-01T{i % 24:02d}:{i % 60:02d}:00+00:00")
               for i in range(60)]
    _, msg, html, text = render(config, stories)
    assert msg["Subject"] == "[newswatch] Lavrov in Korea: 60 new stories"
    assert html.count("<a href=") == 50
    assert "10 more" in text and "10 more" in html
    assert """newswatch search 'Lavrov AND ("North Korea" OR Pyongyang)'""" in text
    assert """newswatch search 'Lavrov AND ("North Korea" OR Pyongyang)'""" in unescape(html)
    assert """'Lavrov AND ("North""" not in html, "quotes are escaped in the markup"
    newest = max(stories, key=lambda s: s.published)
    assert text.index(newest.title) < text.index("2. ")


def test_published_time_in_configured_timezone_and_also_in(tmp_path):
    config = write_config(tmp_path, timezone="Europe/Moscow")
    _, _, html, text = render(config, [story(also_in=["Beta Times", "Alpha News", "Beta Times"])])
    assert "2 Mar 2026, 09:00 MSK" in text and "2 Mar 2026, 09:00 MSK" in html
    assert "Also in: Beta Times" in text  # its own outlet and repeats left out


def test_message_bytes_refuses_overlong_lines():
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = "x"
    msg.set_content("y" * 1200 + "\n", cte="8bit")
    with pytest.raises(ValueError, match="line of"):
        mail.message_bytes(msg)


def test_write_eml_is_atomic_and_idempotent(tmp_path):
    config = write_config(tmp_path)
    raw, *_ = render(config, [story()])
    mid = "<20260302060000.abc@example.org>"
    path = mail.write_eml(tmp_path / "out", raw, mid)
    again = mail.write_eml(tmp_path / "out", raw, mid)
    assert path == again and [p.name for p in (tmp_path / "out").iterdir()] == [path.name]
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed.get_body(("html",)) is not None and parsed.get_body(("plain",)) is not None


# ---------------------------------------------------------------------------- sending


def mail_config(tmp_path, port, **kw):
    config = write_config(tmp_path, port=port, timeout=kw.pop("timeout", 5),
                          mail_extra="".join(f"{k} = {v}\n" for k, v in kw.items()))
    return config.mail


RAW = (b"From: newswatch@example.org\r\nTo: desk@example.org\r\nSubject: t\r\n"
       b"Message-ID: <t@example.org>\r\n\r\nbody\r\n")


def test_send_classifies_server_answers(tmp_path):
    server = SmtpServer().start()
    try:
        mc = mail_config(tmp_path, server.port)
        ok = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
        assert ok.ok and not ok.refused and server.received[0].raw.startswith(b"From: news")
        server.handler.data_replies = ["452 4.3.1 Insufficient storage"]
        r = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
        assert (r.ok, r.transient) == (False, True) and r.error.startswith("452")
        server.handler.data_replies = ["550 5.7.1 Policy rejection"]
        r = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
        assert (r.ok, r.transient) == (False, False) and "Policy rejection" in r.error
        server.handler.refuse = {"a@example.org": "550 5.1.1 unknown",
                                 "b@example.org": "450 4.2.0 mailbox busy"}
        r = mail.send(RAW, "newswatch@example.org", ["a@example.org", "b@example.org"], mc)
        assert (r.ok, r.transient) == (False, True), "one refusal is temporary: retry"
        r = mail.send(RAW, "newswatch@example.org", ["a@example.org", "desk@example.org"], mc)
        assert r.ok and r.refused == {"a@example.org": "550 5.1.1 unknown"}
        assert len(server.received) == 2
    finally:
        server.stop()
    r = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
    assert (r.ok, r.transient) == (False, True) and "refused" in r.error


@pytest.mark.slow
def test_send_respects_overall_deadline_against_a_dripping_server(tmp_path):
    drip = DripServer(interval=0.2)
    try:
        mc = mail_config(tmp_path, drip.port, timeout=1)
        r = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
        # Gave up mid-banner (the whole banner takes 100 s), by the deadline, not a timeout.
        assert drip.sent < len(drip.BANNER) and drip.connections == 1
        assert (r.ok, r.transient) == (False, True) and "deadline" in r.error
    finally:
        drip.stop()


# ------------------------------------------------------------------------ TLS and auth


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def tls_server(certificate, **kw) -> SmtpServer:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return SmtpServer(tls_context=context, require_starttls=True, **kw).start()


def test_starttls_verifies_certificates_unless_told_not_to(tmp_path, certificate, monkeypatch):
    server = tls_server(certificate)
    try:
        mc = mail_config(tmp_path, server.port, security='"starttls"')
        r = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
        assert (r.ok, r.transient) == (False, True) and "certificate" in r.error
        assert server.received == []
        # Trusted (as a private CA would be): delivered.
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        assert mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc).ok
        monkeypatch.delenv("SSL_CERT_FILE")
        insecure = mail_config(tmp_path, server.port, security='"starttls"', tls_verify="false")
        assert mail.send(RAW, "newswatch@example.org", ["desk@example.org"], insecure).ok
        assert len(server.received) == 2
    finally:
        server.stop()


def test_password_comes_from_env_and_never_appears_in_errors(tmp_path, certificate,
                                                             monkeypatch):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    secret = "s3cret-Pa55word"
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            seen.append(auth_data.password.decode())
        return AuthResult(success=False, handled=False)

    server = tls_server(certificate, authenticator=authenticator, auth_require_tls=True)
    monkeypatch.setenv("NEWSWATCH_SMTP_PASSWORD", secret)
    try:
        mc = mail_config(tmp_path, server.port, security='"starttls"', tls_verify="false",
                         username='"newswatch"')
        assert secret not in repr(mc)
        r = mail.send(RAW, "newswatch@example.org", ["desk@example.org"], mc)
        assert seen and set(seen) == {secret}, "the password from the environment was not used"
        assert not r.ok and not r.transient and "535" in r.error
        assert secret not in repr(r) and secret not in (r.error or "")
    finally:
        server.stop()
