"""Shared fixtures: real peers on loopback.

- `site`: the fixture news site (newswatch.demosite) in a subprocess that prints its ports,
  serving a copy of the bundled content that a test may edit between passes.
- `smtp`: a real aiosmtpd SMTP server on a pre-picked free port of 127.0.0.1 (tests/smtp.py).
- `newswatch`: runs the real CLI (`python -m newswatch`) in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "newswatch" / "demosite" / "content"


@dataclass
class Site:
    urls: dict[str, str]
    content: Path
    process: subprocess.Popen

    def articles(self) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.content.rglob("*.json")) if "expected" in p.read_text()]


def start_site(content: Path, env: dict | None = None) -> Site:
    process = subprocess.Popen(
        [sys.executable, "-m", "newswatch.demosite", "--content", str(content)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **(env or {})})
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"fixture site did not start: {process.stderr.read()}")
    return Site(json.loads(line)["outlets"], content, process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def site(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    s = start_site(content)
    yield s
    stop(s.process)


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


DEFAULT_WATCHES = """
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
"""


def write_config(tmp_path: Path, site: Site, *, smtp: SmtpServer | None = None,
                 watches: str = DEFAULT_WATCHES, extra: str = "", outlet_extra: str = "",
                 database: str = "newswatch.db") -> Path:
    mail = 'outbox_dir = "outbox"'
    if smtp is not None:
        mail = f'smtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\ntimeout = 10'
    outlets = "".join(textwrap.dedent(f"""
        [[outlets]]
        id = "{oid}"
        name = "{oid.title()}"
        feeds = ["{url}/rss.xml"]
        sitemaps = ["{url}/sitemap.xml"]
        pages = ["{url}/news/"]
        article_urls = '/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
        allow_private = true
        """) + outlet_extra for oid, url in site.urls.items())
    text = textwrap.dedent(f"""\
        database = "{database}"
        {extra}
        [mail]
        from = "newswatch@example.org"
        to = ["desk@example.org"]
        """) + mail + "\n\n[crawl]\nworkers = 1\n" + outlets + watches
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_newswatch(*args: str, config: Path | None = None, env: dict | None = None,
                  timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "newswatch"]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                          cwd=config.parent if config else None,
                          env={**os.environ, **(env or {})})


# -- the PostgreSQL store ---------------------------------------------------------------
#
# NEWSWATCH_TEST_POSTGRES names a server (e.g. postgresql://postgres@127.0.0.1:5432/test);
# each test gets a schema of its own there (search_path in the URL), dropped after it.
# Without the variable PostgreSQL tests skip; with NEWSWATCH_REQUIRE_POSTGRES=1 (CI) such a
# skip is a failure.

PG_ENV = "NEWSWATCH_TEST_POSTGRES"
PG_SKIP = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"


def _pg_required() -> bool:
    return os.environ.get("NEWSWATCH_REQUIRE_POSTGRES") == "1"


def with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


class PgServer:
    def __init__(self, url: str):
        import psycopg

        self.url = url
        self.admin = psycopg.connect(url, autocommit=True, connect_timeout=10)
        self.prefix = f"nwtest_{os.getpid()}_{os.urandom(3).hex()}"
        self.n = 0
        try:  # once per database, outside the per-test schemas (which are dropped)
            self.admin.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        except psycopg.Error:
            pass

    def new_url(self) -> tuple[str, str]:
        self.n += 1
        schema = f"{self.prefix}_{self.n}"
        self.admin.execute(f'CREATE SCHEMA "{schema}"')
        return with_search_path(self.url, schema), schema

    def drop(self, schema: str) -> None:
        self.admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def close(self) -> None:
        for (schema,) in self.admin.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                [self.prefix + "%"]).fetchall():
            self.drop(schema)
        self.admin.close()


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get(PG_ENV)
    if not url:
        if _pg_required():
            pytest.fail(f"NEWSWATCH_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(PG_SKIP)
    try:
        server = PgServer(url)
    except Exception as exc:  # noqa: BLE001 - psycopg's errors, import error
        if _pg_required():
            pytest.fail(f"cannot reach {PG_ENV}: {exc}")
        pytest.skip(f"PostgreSQL tests: cannot reach {PG_ENV}: {exc}")
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server):
    """A `postgresql://` URL whose search_path is a fresh, empty schema."""
    url, schema = pg_server.new_url()
    yield url
    pg_server.drop(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """What `database = ...` says, once per backend: a SQLite file in tmp_path, or a
    PostgreSQL URL with a schema of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "newswatch.db")
    return request.getfixturevalue("pg_url")


def db_dicts(target, sql: str, params=()) -> list[dict]:
    """Like db_rows, as dicts."""
    if str(target).startswith("postgresql"):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(str(target), autocommit=True, row_factory=dict_row) as conn:
            rows = list(conn.execute(sql.replace("?", "%s"), list(params) or None))
        for row in rows:
            row.pop("fts", None)
        return rows
    import sqlite3

    conn = sqlite3.connect(str(target))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, list(params))]
    finally:
        conn.close()


def db_rows(target, sql: str, params=()) -> list[tuple]:
    """Run one query (`?` placeholders) on either backend, outside newswatch: what a test
    checks in the database."""
    if str(target).startswith("postgresql"):
        import psycopg

        with psycopg.connect(str(target), autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql.replace("?", "%s"),
                                                  list(params) or None)]
    import sqlite3

    conn = sqlite3.connect(str(target))
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()


def fold_as_older_rules_did(target: str, article_id: int) -> None:
    """Write an article's folded entry as an older newswatch would have: rules that folded
    nothing (so "Лаврова" was never `lavrov`), recorded as fold version 0."""
    if target.startswith("postgresql"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("UPDATE articles_fts_fold SET fold = ''::tsvector, version = 0 "
                         "WHERE id = %s", [article_id])
        return
    import sqlite3

    conn = sqlite3.connect(target)
    with conn:
        conn.execute("DELETE FROM articles_fts_fold_src WHERE id = ?", [article_id])
        conn.execute("INSERT INTO articles_fts_fold_src (id, title_f, text_f, title_k, text_k, "
                     "version) VALUES (?, '', '', '', '', 0)", [article_id])
    conn.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _pg_required():
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if "PostgreSQL" in reason or PG_ENV in reason:
            report.outcome = "failed"
            report.longrepr = f"a PostgreSQL test was skipped under NEWSWATCH_REQUIRE_POSTGRES=1: {reason}"


class _Result:
    def __init__(self, rows: list[tuple]):
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def __iter__(self):
        return iter(self.rows)


class _Table:
    def __init__(self, target, name: str):
        self.target, self.name = target, name

    @property
    def rows(self) -> list[dict]:
        order = " ORDER BY id" if self.name in ("articles", "alerts", "outbox", "runs") else ""
        return db_dicts(self.target, f"SELECT * FROM {self.name}{order}")

    def rows_where(self, where: str, params=()) -> list[dict]:
        return db_dicts(self.target, f"SELECT * FROM {self.name} WHERE {where}", params)

    @property
    def count(self) -> int:
        return db_rows(self.target, f"SELECT count(*) FROM {self.name}")[0][0]


class StoredDB:
    """Read-only, sqlite-utils-like access (`db["articles"].rows`, `.count`,
    `db.execute(sql, params).fetchall()`) to a SQLite file or a PostgreSQL URL: what tests
    check after a run, on either backend. The `fts` search column of PostgreSQL is left
    out of rows."""

    def __init__(self, target):
        self.target = str(target)

    def __getitem__(self, name: str) -> _Table:
        return _Table(self.target, name)

    def execute(self, sql: str, params=()) -> _Result:
        return _Result(db_rows(self.target, sql, params))


class _Inserted:
    def __init__(self, pk):
        self.last_pk = pk


class _ViewTable:
    def __init__(self, store, name: str):
        self.store, self.name = store, name

    def _rows(self, sql: str, params=()) -> list[dict]:
        rows = self.store._all(sql, params)
        for row in rows:
            row.pop("fts", None)
        return rows

    def insert(self, row: dict) -> _Inserted:
        if "id" in row or self.name not in ("articles", "alerts", "outbox", "runs"):
            self.store._run(f"INSERT INTO {self.name} ({', '.join(row)}) VALUES "
                            f"({', '.join('?' * len(row))})", list(row.values()))
            return _Inserted(row.get("id"))
        return _Inserted(self.store._insert(self.name, row))

    def update(self, pk, row: dict) -> None:
        self.store._update(self.name, "id", pk, row)

    def get(self, pk) -> dict:
        return self._rows(f"SELECT * FROM {self.name} WHERE id = ?", [pk])[0]

    @property
    def rows(self) -> list[dict]:
        return self._rows(f"SELECT * FROM {self.name}")

    def rows_where(self, where: str | None = None, params=(), order_by: str | None = None):
        sql = f"SELECT * FROM {self.name}"
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return self._rows(sql, params)

    @property
    def count(self) -> int:
        return self.store._value(f"SELECT count(*) FROM {self.name}")


class StoreView:
    """A store (either backend) with the few sqlite-utils conveniences tests use
    (`db["articles"].insert(row).last_pk`, `.rows`, `.rows_where`, `.get`, `.count`,
    `db.execute(sql, params)`), built on the store's own statement helpers, so one test
    body runs on SQLite and on PostgreSQL. Everything else is the store's."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def __getitem__(self, name: str) -> _ViewTable:
        return _ViewTable(self._store, name)

    def execute(self, sql: str, params=()):
        return self._store._execute(sql, params)
