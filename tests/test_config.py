"""The config loader: a full Config with defaults, or one `config error: FILE:LINE: ...`."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import re2
from apscheduler.triggers.cron import CronTrigger

from newswatch.config import (
    Config,
    cron_trigger,
    find_config,
    load_config,
    parse_duration,
    parse_size,
)
from newswatch.errors import ConfigError, report

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "newswatch.example.toml"

OUTLET = """\
[[outlets]]
id = "mt"
feeds = ["https://www.themoscowtimes.com/rss/news"]
"""


def write(tmp_path: Path, text: str, name: str = "newswatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message, code = report(info.value)
    assert code == 2
    return message


def assert_error(path: Path, line: int, *fragments: str) -> str:
    message = error_of(path)
    prefix = f"config error: {path}:{line}: "
    assert message.startswith(prefix), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------------------ valid configs


def test_outlets_only_config_gets_every_default(tmp_path):
    path = write(tmp_path, OUTLET)
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.database == tmp_path / "newswatch.db"
    assert config.timezone == "UTC"
    assert config.watches == ()
    assert config.mail.smtp_host is None  # no server: .eml files in the outbox
    assert config.mail.outbox_dir == tmp_path / "outbox"
    assert config.mail.smtp_port == 25
    assert config.defaults.schedule == "*/15 * * * *"
    assert config.defaults.alert_max_age == timedelta(days=2)
    assert config.defaults.recheck == timedelta(hours=48)
    assert config.crawl.max_page_size == 10 * 1024 * 1024
    assert config.crawl.workers == 0
    (outlet,) = config.outlets
    assert (outlet.id, outlet.name, outlet.schedule) == ("mt", "mt", "*/15 * * * *")
    assert outlet.obey_robots is True and outlet.allow_private is False
    assert outlet.timezone == "UTC"
    assert outlet.hosts() == {"www.themoscowtimes.com"}


def test_full_config_applies_defaults_from_defaults_and_mail(tmp_path):
    sub = tmp_path / "conf"
    sub.mkdir()
    path = write(sub, """\
        database = "data/watch.db"
        timezone = "Europe/Moscow"
        contact = "https://example.org/newswatch"
        [mail]
        from = "newswatch@example.org"
        to = ["desk@example.org", "Night Editor <night@example.org>"]
        smtp_host = "mail.example.org"
        security = "starttls"
        username = "nw"
        timeout = 12.5
        [defaults]
        schedule = "*/5 * * * *"
        alert_max_age = "36h"
        max_stories = 7
        obey_robots = false
        recheck = "1w"
        [crawl]
        workers = 2
        download_timeout = 20
        max_page_size = "512KB"
        [[outlets]]
        id = "mt"
        name = "The Moscow Times"
        feeds = ["https://www.themoscowtimes.com/rss/news"]
        pages = ["https://www.themoscowtimes.com/news"]
        article_urls = '/\\d{4}/\\d{2}/\\d{2}/[a-z0-9-]+-a\\d+$'
        [[outlets]]
        id = "indy"
        sitemaps = ["https://www.independent.co.uk/sitemaps/googlenews"]
        schedule = "0 * * * *"
        obey_robots = true
        allow_private = true
        timezone = "Europe/London"
        [[watches]]
        name = "Lavrov"
        query = 'Lavrov AND ("North Korea" OR Pyongyang)'
        [[watches]]
        name = "Pyongyang digest"
        query = 'Pyongyang'
        to = ["asia@example.org"]
        outlets = ["indy"]
        digest = "0 8 * * 1-5"
        send_empty = true
        alert_max_age = "3d"
        max_stories = 3
        """)
    config = load_config(path)
    assert config.path == path
    assert config.database == sub / "data" / "watch.db"
    assert config.mail.smtp_port == 587  # starttls default port
    assert config.mail.timeout == 12.5
    assert config.mail.to == ("desk@example.org", "Night Editor <night@example.org>")
    assert config.crawl == type(config.crawl)(workers=2, download_timeout=20.0,
                                              max_page_size=512 * 1024)
    mt, indy = config.outlets
    assert (mt.schedule, mt.obey_robots, mt.timezone) == ("*/5 * * * *", False, "Europe/Moscow")
    assert (indy.schedule, indy.obey_robots, indy.allow_private) == ("0 * * * *", True, True)
    assert mt.article_pattern().search(
        "https://www.themoscowtimes.com/2026/06/22/europe-should-beat-russia-a93072")
    assert not mt.article_pattern().search("https://www.themoscowtimes.com/news")
    assert indy.article_pattern().search("https://anything.example/")  # "" accepts all

    lavrov, digest = config.watches
    assert lavrov.to == config.mail.to
    assert lavrov.outlets is None
    assert (lavrov.mode, lavrov.digest, lavrov.send_empty) == ("immediate", None, False)
    assert lavrov.alert_max_age == timedelta(hours=36)
    assert lavrov.max_stories == 7
    assert lavrov.compiled is not None
    assert digest.to == ("asia@example.org",)
    assert digest.outlets == ("indy",)
    assert (digest.mode, digest.digest, digest.send_empty) == ("digest", "0 8 * * 1-5", True)
    assert (digest.alert_max_age, digest.max_stories) == (timedelta(days=3), 3)


def test_ssl_security_defaults_to_port_465(tmp_path):
    path = write(tmp_path, '[mail]\nsecurity = "ssl"\n' + OUTLET)
    assert load_config(path).mail.smtp_port == 465


def test_shipped_example_config_loads():
    config = load_config(EXAMPLE)
    assert [o.id for o in config.outlets] == ["moscowtimes", "independent"]
    mt, indy = config.outlets
    assert "https://www.themoscowtimes.com/rss/news" in mt.feeds
    assert mt.hosts() == {"www.themoscowtimes.com"}
    assert indy.hosts() == {"www.independent.co.uk"}
    assert mt.article_pattern().search(
        "https://www.themoscowtimes.com/2026/06/22/europe-should-beat-russia-at-its-own-"
        "nationalization-game-a93072")
    assert not mt.article_pattern().search("https://www.themoscowtimes.com/rss/news")
    assert indy.article_pattern().search(
        "https://www.independent.co.uk/news/world/asia/north-korea-russia-lavrov-b2565123.html")
    assert not indy.article_pattern().search("https://www.independent.co.uk/topic/north-korea")
    assert [w.name for w in config.watches] == ["Lavrov and North Korea", "North Korea daily"]
    assert config.watches[1].mode == "digest"


# ------------------------------------------------------------------- error lines

ERROR_CASES = {
    "toml syntax": ("""\
        timezone = "UTC"
        [mail
        from = "a@example.org"
        """, 2, "invalid TOML"),
    "unknown top-level key": ("""\
        timezone = "UTC"
        databse = "x.db"
        """, 2, "unknown key 'databse' in the top level (did you mean 'database'?)"),
    "typo in outlet key": (OUTLET + """\
        [[outlets]]
        id = "indy"
        feeds = ["https://www.independent.co.uk/news/world/rss"]
        shedule = "*/10 * * * *"
        """, 7, "unknown key 'shedule' in [[outlets]] (did you mean 'schedule'?)"),
    "unknown key in [defaults]": ("""\
        [defaults]
        max_story = 5
        """, 2, "did you mean 'max_stories'?"),
    "password in file": ("""\
        [mail]
        username = "nw"
        password = "hunter2"
        """, 3, "NEWSWATCH_SMTP_PASSWORD"),
    "port as string": ("""\
        [mail]
        smtp_host = "localhost"
        smtp_port = "25"
        """, 3, "'smtp_port' must be an integer, got a string"),
    "boolean as string": ("""\
        [defaults]
        obey_robots = "yes"
        """, 2, "'obey_robots' must be a boolean, got a string"),
    "timeout as string": ("""\
        [mail]
        timeout = "30s"
        """, 2, "'timeout' must be a number, got a string"),
    "feeds not an array": ("""\
        [[outlets]]
        id = "mt"
        feeds = "https://www.themoscowtimes.com/rss/news"
        """, 3, "'feeds' must be an array of strings, got a string"),
    "mail not a table": ("""\
        mail = "me@example.org"
        """, 1, "'mail' must be a table"),
    "outlets as a single table": ("""\
        [outlets]
        id = "mt"
        """, 1, "'outlets' must be an array of tables ([[outlets]] sections)"),
    "outlet missing id": ("""\
        timezone = "UTC"

        [[outlets]]
        feeds = ["https://www.themoscowtimes.com/rss/news"]
        """, 3, "[[outlets]] is missing required key 'id'"),
    "outlet with nothing to crawl": (OUTLET + """\

        [[outlets]]
        id = "indy"
        name = "The Independent"
        """, 5, "outlet 'indy' needs at least one of 'feeds', 'sitemaps' or 'pages'"),
    "duplicate outlet id": (OUTLET + """\
        [[outlets]]
        id = "mt"
        pages = ["https://www.themoscowtimes.com/news"]
        """, 5, "duplicate outlet id 'mt' (first used on line 2)"),
    "bad outlet id": ("""\
        [[outlets]]
        id = "Moscow Times"
        feeds = ["https://www.themoscowtimes.com/rss/news"]
        """, 2, "may contain only a-z, 0-9"),
    "feed that is not a URL": ("""\
        [[outlets]]
        id = "mt"
        feeds = [
            "https://www.themoscowtimes.com/rss/news",
            "themoscowtimes.com/rss/opinion",
        ]
        """, 5, "'feeds' entries must be http(s) URLs"),
    "bad regex": (OUTLET + """\
        article_urls = '/news/([a-z'
        """, 4, "'article_urls' is not a valid regular expression"),
    "backreference": (OUTLET + """\
        article_urls = '/(\\d+)/\\1'
        """, 4, "linear-time RE2 syntax is required"),
    "lookahead": (OUTLET + """\
        article_urls = '^(?!.*/video/).*-a\\d+$'
        """, 4, "linear-time RE2 syntax is required"),
    "bad drop selector": (OUTLET + """\
        drop = ["aside", "div[[class"]
        """, 4, "'drop' entry 'div[[class' is not a CSS selector"),
    "cron with 4 fields": ("""\
        [defaults]
        schedule = "*/15 * * *"
        """, 2, "'schedule' is not a valid 5-field crontab expression", "got 4"),
    "cron minute out of range": (OUTLET + """\
        schedule = "61 * * * *"
        """, 4, "'schedule' is not a valid 5-field crontab expression '61 * * * *'"),
    "cron day-of-month and day-of-week": (OUTLET + """\
        schedule = "0 8 1 * 1"
        """, 4, "restrict only one"),
    "bad duration": ("""\
        [defaults]
        alert_max_age = "2 days"
        """, 2, "'alert_max_age' must be a duration such as \"2d\""),
    "bad security": ("""\
        [mail]
        security = "tls"
        """, 2, "'security' must be one of none, starttls, ssl, got 'tls'"),
    "bad email in list": ("""\
        [mail]
        from = "newswatch@example.org"
        to = [
            "desk@example.org",
            "night desk",
        ]
        """, 5, "'to' is not an email address: 'night desk'"),
    "bad from address": ("""\
        [mail]
        from = "newswatch at example.org"
        """, 2, "'from' is not an email address"),
    "bad timezone": ("""\
        timezone = "Mars/Olympus_Mons"
        """, 1, "'timezone' is not a known time zone: 'Mars/Olympus_Mons'"),
    "bad outlet timezone": (OUTLET + """\
        timezone = "Moscow"
        """, 4, "'timezone' is not a known time zone"),
    "bad size": ("""\
        [crawl]
        max_page_size = "10 megabytes"
        """, 2, "'max_page_size' must be a size such as \"10MB\""),
    "operator without from": ("""\
        # health warnings need a sender too
        [mail]
        operator = "ops@example.org"
        """, 2, "[mail] is missing required key 'from'", "'operator' is set"),
    "mail without from while watches exist": ("""\
        [mail]
        to = ["desk@example.org"]
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        """, 1, "[mail] is missing required key 'from'", "watches are configured"),
    "watches without any [mail]": (OUTLET + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        """, 4, "[mail] is missing required key 'from'"),
    "inline table outlets": ("""\
        outlets = [
          { id = "mt", feeds = ["https://www.themoscowtimes.com/rss/news"] },
          { id = "indy", pages = ["https://www.independent.co.uk/"], shedule = "0 * * * *" },
        ]
        """, 3, "did you mean 'schedule'?"),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_each_error_names_file_and_line(tmp_path, case):
    text, line, *fragments = ERROR_CASES[case]
    assert_error(write(tmp_path, text), line, *fragments)


def test_syntax_error_line_comes_from_tomllib(tmp_path):
    path = write(tmp_path, """\
        [mail]
        from = "a@example.org"
        to = ["b@example.org",
        """)
    message = error_of(path)
    assert message.startswith(f"config error: {path}:"), message
    assert "invalid TOML" in message


def test_non_utf8_file_reports_its_line(tmp_path):
    path = tmp_path / "newswatch.toml"
    path.write_bytes(b'timezone = "UTC"\ncontact = "caf\xe9"\n')
    assert_error(path, 2, "not UTF-8")


WATCH_MAIL = """\
[mail]
from = "newswatch@example.org"
to = ["desk@example.org"]
""" + OUTLET

WATCH_ERROR_CASES = {
    "watch missing query": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        """, 7, "watch 'Lavrov' is missing required key 'query'"),
    "watch missing name": (WATCH_MAIL + """\
        [[watches]]
        query = "Lavrov"
        """, 7, "[[watches]] is missing required key 'name'"),
    "bad query": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = 'Lavrov AND ("North Korea"'
        """, 9, "watch 'Lavrov': bad query:"),
    "duplicate watch name": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        [[watches]]
        name = "Lavrov"
        query = "Pyongyang"
        """, 11, "duplicate watch name 'Lavrov' (first used on line 8)"),
    "unknown outlet": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        outlets = ["mt", "m"]
        """, 10, "watch 'Lavrov' names unknown outlet 'm' (did you mean 'mt'?)"),
    "digest mode without schedule": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        mode = "digest"
        """, 10, "mode = \"digest\" but no 'digest' schedule"),
    "bad digest cron": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        digest = "every morning"
        """, 10, "'digest' is not a valid 5-field crontab expression"),
    "bad mode": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        mode = "instant"
        """, 10, "'mode' must be one of immediate, digest"),
    "no recipients anywhere": ("""\
        [mail]
        from = "newswatch@example.org"
        """ + OUTLET + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        """, 6, "watch 'Lavrov' has no recipients"),
    "bad watch duration": (WATCH_MAIL + """\
        [[watches]]
        name = "Lavrov"
        query = "Lavrov"
        alert_max_age = "forever"
        """, 10, "'alert_max_age' must be a duration"),
}


@pytest.mark.parametrize("case", WATCH_ERROR_CASES, ids=list(WATCH_ERROR_CASES))
def test_each_watch_error_names_file_and_line(tmp_path, case):
    text, line, *fragments = WATCH_ERROR_CASES[case]
    assert_error(write(tmp_path, text), line, *fragments)


# ----------------------------------------------------------------------- regexes


def test_re2_rejects_backreferences():
    with pytest.raises(re2.error):
        re2.compile(r"(a)\1")


@pytest.mark.timeout(60)
def test_nested_quantifiers_match_in_linear_time(tmp_path):
    # Python's re takes exponential time on these; RE2 answers at once. A backtracking
    # engine would hang here until the timeout fails the test.
    for pattern in (r"^(a+)+$", r"^(\w+\s?)*$"):
        path = write(tmp_path, OUTLET + f"article_urls = '{pattern}'\n")
        outlet = load_config(path).outlets[0]
        hostile = "a" * 50_000 + "!" if "a+" in pattern else "word " * 20_000 + "!"
        assert outlet.article_pattern().search(hostile) is None


# -------------------------------------------------------------------------- cron

WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def fire_times(trigger: CronTrigger, count: int) -> list[datetime]:
    times, previous, now = [], None, WEDNESDAY
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, now)
        times.append(nxt)
        previous, now = nxt, nxt + timedelta(seconds=1)
    return times


@pytest.mark.parametrize("expr", ["0 8 * * 0", "0 8 * * 7", "0 8 * * sun"])
def test_crontab_sunday_fires_on_sunday(expr):
    times = fire_times(cron_trigger(expr, "UTC"), 3)
    assert [t.strftime("%A %H:%M") for t in times] == ["Sunday 08:00"] * 3
    assert times[0].date().isoformat() == "2026-11-29"


def test_apscheduler_alone_would_read_0_as_monday():
    # Why cron_trigger exists: the same text through from_crontab fires on Mondays.
    raw = CronTrigger.from_crontab("0 8 * * 0", timezone="UTC")
    assert raw.get_next_fire_time(None, WEDNESDAY).strftime("%A") == "Monday"


def test_crontab_1_to_5_fires_on_weekdays_only():
    times = fire_times(cron_trigger("0 8 * * 1-5", "UTC"), 10)
    days = [t.strftime("%a") for t in times]
    assert days == ["Thu", "Fri", "Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue", "Wed"]
    assert all(t.hour == 8 for t in times)


@pytest.mark.parametrize("expr,days", [
    ("0 8 * * 5-7", {"Fri", "Sat", "Sun"}),
    ("0 8 * * 0,6", {"Sat", "Sun"}),
    ("0 8 * * */2", {"Sun", "Tue", "Thu", "Sat"}),
    ("0 8 * * mon-wed", {"Mon", "Tue", "Wed"}),
    ("0 8 * * 0-6", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
])
def test_crontab_weekday_lists_and_ranges(expr, days):
    assert {t.strftime("%a") for t in fire_times(cron_trigger(expr, "UTC"), 14)} == days


def test_cron_trigger_uses_the_timezone():
    trigger = cron_trigger("0 8 * * 1-5", "Europe/Moscow")
    nxt = trigger.get_next_fire_time(None, WEDNESDAY)
    assert (nxt.hour, nxt.utcoffset()) == (8, timedelta(hours=3))


@pytest.mark.parametrize("expr", ["0 8 * *", "0 8 * * 8", "0 8 * * 5-1", "0 8 * * xyz"])
def test_cron_trigger_rejects_bad_expressions(expr):
    with pytest.raises(ValueError):
        cron_trigger(expr, "UTC")


# --------------------------------------------------------------- small parsers


@pytest.mark.parametrize("text,expected", [
    ("2d", timedelta(days=2)), ("48h", timedelta(hours=48)), ("30m", timedelta(minutes=30)),
    ("90s", timedelta(seconds=90)), ("1w", timedelta(weeks=1)),
    ("1d12h", timedelta(hours=36)),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2", "2 days", "h", "-1d", "1.5h", ""])
def test_bad_durations(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize("value,expected", [
    ("10MB", 10 * 1024 * 1024), ("512KB", 512 * 1024), (1000, 1000), ("1.5mb", 1572864),
    ("2GiB", 2 * 1024**3), ("700", 700),
])
def test_sizes(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["10 megabytes", "MB", True, 1.5, "-1MB"])
def test_bad_sizes(value):
    assert parse_size(value) is None


# ------------------------------------------------------------- finding the file


def test_find_config_prefers_cli_then_env_then_cwd(tmp_path, monkeypatch):
    cli = write(tmp_path, OUTLET, "cli.toml")
    env = write(tmp_path, OUTLET, "env.toml")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    local = write(cwd, OUTLET)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    assert find_config(None) == Path("newswatch.toml")
    assert find_config(None).resolve() == local.resolve()
    monkeypatch.setenv("NEWSWATCH_CONFIG", str(env))
    assert find_config(None) == env
    assert find_config(str(cli)) == cli


def test_find_config_missing_file_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    with pytest.raises(ConfigError) as info:
        find_config(None)
    message = info.value.message()
    assert message.startswith("config error: newswatch.toml: config file not found")
    assert "--config" in message and "NEWSWATCH_CONFIG" in message

    monkeypatch.setenv("NEWSWATCH_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match="named by NEWSWATCH_CONFIG"):
        find_config(None)
    with pytest.raises(ConfigError, match="named by --config"):
        find_config(str(tmp_path / "also-gone.toml"))


def test_load_config_of_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


# ----------------------------------------------------------------------- secrets


def test_password_comes_from_env_and_never_shows_in_repr(tmp_path, monkeypatch):
    path = write(tmp_path, """\
        [mail]
        smtp_host = "localhost"
        username = "newswatch"
        """ + OUTLET)
    monkeypatch.setenv("NEWSWATCH_SMTP_PASSWORD", "s3cret-Pa55")
    config = load_config(path)
    assert config.mail.password == "s3cret-Pa55"  # read at use time
    assert "s3cret-Pa55" not in repr(config)
    assert "s3cret-Pa55" not in repr(config.mail)
    monkeypatch.delenv("NEWSWATCH_SMTP_PASSWORD")
    assert config.mail.password is None


def test_config_is_frozen(tmp_path):
    config = load_config(write(tmp_path, OUTLET))
    with pytest.raises(AttributeError):
        config.timezone = "Europe/London"  # type: ignore[misc]


# ------------------------------------------------------------------ line locator


def test_lines_survive_multiline_strings_comments_and_arrays(tmp_path):
    # Text that looks like headers and keys inside a string, and brackets inside
    # comments, must not shift the line found for the real problem.
    path = write(tmp_path, '''\
        contact = """
        [[outlets]]
        shedule = "inside a string"
        """
        [[outlets]]
        id = "mt"
        feeds = [ # a comment with ] and "
          "https://www.themoscowtimes.com/rss/news", # ]
        ]
        "shedule" = "*/5 * * * *"
        ''')
    assert_error(path, 10, "unknown key 'shedule' in [[outlets]]")


def test_lines_with_windows_line_endings(tmp_path):
    path = tmp_path / "newswatch.toml"
    path.write_bytes(b'timezone = "UTC"\r\n\r\n[[outlets]]\r\nid = "mt"\r\n'
                     b'feeds = ["https://www.themoscowtimes.com/rss/news"]\r\n'
                     b'obey_robots = "no"\r\n')
    assert_error(path, 6, "'obey_robots' must be a boolean")


def test_error_in_third_outlet_points_into_that_outlet(tmp_path):
    path = write(tmp_path, OUTLET + """\
        [[outlets]]
        id = "indy"
        feeds = ["https://www.independent.co.uk/news/world/rss"]
        article_urls = '-b\\d+\\.html$'
        [[outlets]]
        id = "third"
        feeds = ["https://example.org/feed"]
        article_urls = '(?<=news)/x'
        """)
    assert_error(path, 11, "linear-time RE2 syntax is required")


def test_config_keys_lists_the_public_surface(tmp_path):
    from newswatch.config import CONFIG_KEYS

    assert set(CONFIG_KEYS) == {"", "mail", "defaults", "crawl", "outlets", "watches",
                                "threads", "web", "cluster", "aliases"}
    assert CONFIG_KEYS["aliases"] == ("name", "variants") and "aliases" in CONFIG_KEYS[""]
    assert "article_urls" in CONFIG_KEYS["outlets"] and "digest" in CONFIG_KEYS["watches"]
    # the loader accepts exactly these: one not listed is an unknown key
    path = write(tmp_path, "[crawl]\n" + "".join(f"{k} = 1\n" for k in CONFIG_KEYS["crawl"])
                 + "extra = 1\n")
    assert_error(path, 5, "unknown key 'extra' in [crawl]")


# ------------------------------------------------------------- the field table drives it

# Config attribute of each key where the name differs.
ATTRIBUTE = {("mail", "from"): "from_addr"}


def test_every_documented_default_is_the_loaded_default(tmp_path):
    """A minimal config loads with exactly the defaults config/fields.py declares (and the
    README's reference shows): a default changed in one place cannot drift from the other."""
    from newswatch.config import FIELDS, parse_duration, parse_size
    from newswatch.config.fields import Inherit

    path = write(tmp_path, OUTLET + '[[watches]]\nname = "w"\nquery = "Lavrov"\n'
                 '[mail]\nfrom = "n@example.org"\nto = ["d@example.org"]\n')
    config = load_config(path)
    objects = {"": config, "mail": config.mail, "defaults": config.defaults,
               "crawl": config.crawl, "outlets": config.outlets[0],
               "watches": config.watches[0], "threads": config.threads,
               "web": config.web, "cluster": config.cluster}
    resolved = {"timezone": config.timezone, "mail.to": config.mail.to,
                **{f"defaults.{k}": getattr(config.defaults, k)
                   for k in ("schedule", "obey_robots", "alert_max_age", "max_stories",
                            "notify", "webhooks")}}
    checked = 0
    for f in FIELDS:
        if f.section == "aliases":
            continue  # none by default (test_names.py loads some)
        if f.kind in ("table", "tables") or (f.section, f.name) in {
                ("outlets", "id"), ("outlets", "feeds"), ("watches", "name"),
                ("watches", "query"), ("mail", "from"), ("mail", "to")}:
            continue  # written above
        loaded = getattr(objects[f.section], ATTRIBUTE.get((f.section, f.name), f.name))
        if isinstance(f.default, Inherit):
            assert loaded == resolved[f.default.source], f.key
        elif f.kind == "path":
            assert loaded == tmp_path / f.default, f.key
        elif f.kind == "duration":
            assert loaded == parse_duration(f.default), f.key
        elif f.kind == "size":
            assert loaded == parse_size(f.default), f.key
        elif isinstance(f.default, list):
            assert loaded == tuple(f.default), f.key
        elif f.default is not None and not hasattr(f.default, "doc"):
            assert loaded == f.default, f.key
        else:
            continue
        checked += 1
    assert checked >= 25
    # the derived ones, as their reference entries say
    assert config.mail.smtp_port == 25 and config.outlets[0].name == "mt"
    assert config.watches[0].mode == "immediate" and config.watches[0].outlets is None


def test_derived_port_follows_security(tmp_path):
    for security, port in (("none", 25), ("starttls", 587), ("ssl", 465)):
        path = write(tmp_path, f'[mail]\nsecurity = "{security}"\n')
        assert load_config(path).mail.smtp_port == port


def test_a_range_from_the_field_table_is_enforced_with_its_line(tmp_path):
    path = write(tmp_path, '[mail]\nfrom = "n@example.org"\nsmtp_port = 70000\n')
    assert_error(path, 3, "'smtp_port' must be between 1 and 65535, got 70000")
    path = write(tmp_path, OUTLET + '[[watches]]\nname = "w"\nquery = "x"\nmax_stories = 0\n'
                 '[mail]\nfrom = "n@example.org"\nto = ["d@example.org"]\n')
    assert_error(path, 7, "'max_stories' must be at least 1, got 0")


def test_no_module_of_the_config_package_is_over_500_lines():
    folder = REPO / "newswatch" / "config"
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines())
             for p in folder.glob("*.py")}
    assert {"fields.py", "load.py", "locate.py", "units.py", "cron.py", "model.py"} <= set(sizes)
    assert max(sizes.values()) <= 500, sizes
