"""The SQLite schema as named migrations (formerly `newswatch.db`).

Migrations are sqlite-utils `Migrations`, applied by `Store.open` every time newswatch starts,
so upgrading is installing the new version. Append new migrations at the end of the file
with a new name; never edit one that has shipped.

Invariants live in constraints, not in code: one row per canonical URL
(`articles.url UNIQUE`), one alert per watch and story (`alerts UNIQUE(watch, article_id)`),
one outbox row per Message-ID.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from ..query.tokens import FTS_TOKENIZE  # one definition, shared with the query language

migrations = Migrations("newswatch")


@migrations()
def m001_core(db: sqlite_utils.Database) -> None:
    db["outlets"].create(
        {"id": str, "name": str, "first_seen": str, "first_pass_done": str},
        pk="id",
    )
    db["articles"].create(
        {
            "id": int,
            "url": str,  # canonical URL
            "fetched_url": str,  # the URL actually requested last
            "outlet": str,
            "title": str,
            "author": str,
            "published": str,  # ISO 8601 UTC or NULL
            "date_source": str,  # jsonld | meta | feed | sitemap | text | first_seen
            "language": str,
            "text": str,
            "first_seen": str,
            "last_seen": str,
            "changed": str,  # when the text last changed after first_seen (corrections)
            "changes": int,
            "content_hash": str,
            "duplicate_of": int,
            "status": int,  # HTTP status of the last fetch
            "matched": int,  # 0 until watches were run over it (crash-safe matching)
        },
        pk="id",
        not_null={"url", "outlet", "first_seen", "last_seen"},
        defaults={"changes": 0, "matched": 0},
        foreign_keys=[("duplicate_of", "articles", "id")],
    )
    db.execute("CREATE UNIQUE INDEX idx_articles_url ON articles(url)")
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["outlet", "first_seen"])
    db["articles"].create_index(["matched"])
    db["articles"].create_index(["duplicate_of"])
    db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize=FTS_TOKENIZE)

    # Other URLs that name a stored article: tracking variants, AMP pages, redirect sources.
    db["url_aliases"].create({"url": str, "article_id": int}, pk="url",
                             foreign_keys=[("article_id", "articles", "id")])

    db["watches"].create(
        {"name": str, "query": str, "created": str, "query_changed": str},
        pk="name",
    )
    db["alerts"].create(
        {
            "id": int,
            "watch": str,
            "article_id": int,
            "created": str,
            # pending -> queued (in an outbox email) -> sent | failed ; skipped (too old)
            "state": str,
            "outbox_id": int,
        },
        pk="id",
        not_null={"watch", "article_id", "created", "state"},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.execute("CREATE UNIQUE INDEX idx_alerts_watch_article ON alerts(watch, article_id)")
    db["alerts"].create_index(["state"])

    db["outbox"].create(
        {
            "id": int,
            "message_id": str,
            "watch": str,
            "recipients": str,  # JSON list
            "subject": str,
            "raw": bytes,  # the exact bytes sent (policy.SMTP)
            "state": str,  # pending | sending | sent | failed
            "attempts": int,
            "next_attempt": str,
            "last_error": str,
            "created": str,
            "sent": str,
        },
        pk="id",
        not_null={"message_id", "watch", "raw", "state", "created"},
        defaults={"attempts": 0},
    )
    db.execute("CREATE UNIQUE INDEX idx_outbox_message_id ON outbox(message_id)")
    db["outbox"].create_index(["state"])

    db["runs"].create(
        {
            "id": int,
            "outlet": str,
            "started": str,
            "finished": str,
            "status": str,  # running | ok | error | interrupted
            "pages": int,
            "new_articles": int,
            "duplicates": int,
            "errors": int,
            "ms": int,
            "message": str,
        },
        pk="id",
    )
    db["runs"].create_index(["outlet", "started"])

    # Conditional GET state for feeds, sitemaps and listing pages.
    db["http_cache"].create(
        {"url": str, "etag": str, "last_modified": str, "checked": str, "status": int},
        pk="url",
    )
    # Fetch log for `newswatch explain`: last outcome per requested URL.
    db["fetches"].create(
        {"url": str, "outlet": str, "fetched": str, "status": int, "error": str,
         "article_id": int, "length": int},
        pk="url",
    )
    # Outlet templates: fingerprints of normalised paragraphs, counted across pages.
    db["template_blocks"].create(
        {"outlet": str, "fingerprint": str, "pages": int, "last_seen": str, "sample": str},
        pk=("outlet", "fingerprint"),
    )
    # Template learning counts each page once: which (outlet, url) pages were counted.
    db["template_pages"].create({"outlet": str, "url": str}, pk=("outlet", "url"))
    # Near-duplicate detection: MinHash LSH bands of recent articles.
    db["lsh_bands"].create(
        {"band": int, "bucket": str, "article_id": int, "added": str},
        pk=("band", "bucket", "article_id"),
    )
    db["lsh_bands"].create_index(["added"])
    db["lsh_bands"].create_index(["article_id"])
    # Digest bookkeeping per watch.
    db["digests"].create({"watch": str, "last_sent": str}, pk="watch")


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]


@migrations()
def m002_alert_delivery(db: sqlite_utils.Database) -> None:
    # Why an alert was skipped (too old, duplicate, stored before the watch), for `explain`.
    db["alerts"].add_column("reason", str)
    # Recipients a server refused while accepting the rest (JSON {address: reply}), and who
    # claimed a row for sending (a crashed sender's claim is taken over by the next flush).
    db["outbox"].add_column("refused", str)
    db["outbox"].add_column("claimed_by", str)
    db["outbox"].add_column("claimed_at", str)
    db["alerts"].create_index(["outbox_id"])


@migrations()
def m003_runs_found(db: sqlite_utils.Database) -> None:
    # Article links discovered per pass: outlet health flags discovery finding nothing.
    db["runs"].add_column("found", int)


@migrations()
def m004_fts_on_text_updates(db: sqlite_utils.Database) -> None:
    # sqlite-utils' update trigger re-indexes title and text on every UPDATE of a row; the
    # pipeline updates `matched`, `last_seen` and `status` far more often than the text
    # (every new article once more, every unchanged re-fetch), so re-index only when the
    # indexed columns change.
    db.execute("DROP TRIGGER IF EXISTS articles_au")
    db.execute(
        'CREATE TRIGGER "articles_au" AFTER UPDATE OF "title", "text" ON "articles" BEGIN\n'
        '  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text") '
        "VALUES('delete', old.rowid, old.\"title\", old.\"text\");\n"
        '  INSERT INTO "articles_fts" (rowid, "title", "text") '
        'VALUES (new.rowid, new."title", new."text");\nEND')


@migrations()
def m005_threads(db: sqlite_utils.Database) -> None:
    # Story threads (issue 16): each article's thread is its first report's article id
    # (copies take their original's); why it joined, as JSON, for `explain`.
    db["articles"].add_column("thread_id", int)
    db["articles"].add_column("thread_reasons", str)
    db["articles"].create_index(["thread_id"])
    # The online ThreadIndex's state (newswatch.threads `rows()`), only the active window:
    # expired threads leave these tables. Plain SQL types, so another backend can match.
    db.execute("CREATE TABLE thread_meta (key TEXT PRIMARY KEY, value REAL)")
    db.execute("CREATE TABLE threads (id INTEGER PRIMARY KEY, first_ts REAL NOT NULL, "
               "last_ts REAL NOT NULL, size INTEGER NOT NULL)")
    db.execute("CREATE TABLE thread_terms (thread_id INTEGER NOT NULL, field TEXT NOT NULL, "
               "term TEXT NOT NULL, weight REAL NOT NULL, "
               "PRIMARY KEY (thread_id, field, term))")
    db.execute("CREATE TABLE thread_df (bucket INTEGER PRIMARY KEY, count INTEGER NOT NULL)")
    # `alert = "thread"`: which 'more coverage' alerts an email already listed.
    db.execute("CREATE TABLE thread_coverage (alert_id INTEGER PRIMARY KEY, "
               "message_id TEXT NOT NULL)")


@migrations()
def m006_web_watches(db: sqlite_utils.Database) -> None:
    # Watches created in the web view (`newswatch serve`): used by the crawl like the
    # config's watches. `outlets` and `recipients` are JSON lists (NULL: every outlet, the
    # config's mail.to); a paused watch matches nothing until resumed.
    db.execute(
        "CREATE TABLE web_watches ("
        " id INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL UNIQUE,"
        " query TEXT NOT NULL,"
        " outlets TEXT,"
        " recipients TEXT,"
        " paused INTEGER NOT NULL DEFAULT 0,"
        " created TEXT NOT NULL,"
        " updated TEXT NOT NULL)")


@migrations()
def m007_outbox_channels(db: sqlite_utils.Database) -> None:
    # One outbox row per message and channel: 'email', or a channel key ("apprise:<hash>",
    # "webhook:<hash>", newswatch.channels.Target.key) with its safe label. `raw` holds what
    # that channel is sent: the email's bytes, the webhook's signed JSON body, the Markdown
    # message (its title in `subject`). The channel's URL is not stored: it is looked up in
    # the config by key at send time, so the database holds no URL and no secret.
    db["outbox"].add_column("channel", str, not_null_default="email")
    db["outbox"].add_column("label", str)
    # Idempotency key: message id + channel, unique; a repeat after a crash carries it.
    db["outbox"].add_column("idem_key", str)
    db.execute("UPDATE outbox SET idem_key = trim(message_id, '<>') || '/email', "
               "label = 'email' WHERE idem_key IS NULL")
    db.execute("DROP INDEX IF EXISTS idx_outbox_message_id")
    db.execute("CREATE UNIQUE INDEX idx_outbox_message_channel ON outbox(message_id, channel)")
    db.execute("CREATE UNIQUE INDEX idx_outbox_idem_key ON outbox(idem_key)")
    db["outbox"].create_index(["message_id"])


@migrations()
def m008_url_failures(db: sqlite_utils.Database) -> None:
    # Per-URL failure record of article pages, so a page that stalls, 404s or is too large
    # is not fetched again every pass (backed off until `retry_after`; a permanent failure
    # also ends when its feed entry changes: `entry`). `hints` (JSON) keeps what the feed
    # said about the page, for a retry scheduled from this table.
    db["url_failures"].create(
        {"url": str, "outlet": str, "kind": str, "reason": str, "failures": int,
         "first_failed": str, "last_failed": str, "retry_after": str, "entry": str,
         "fetch_url": str, "hints": str},
        pk="url",
    )
    db["url_failures"].create_index(["outlet", "retry_after"])


@migrations()
def m009_folded_search(db: sqlite_utils.Database) -> None:
    # Archive search across scripts and spellings (issue 16): the columns of the query
    # language's batch index (newswatch.query.archive), typed, folded and keyed. Folding is
    # Python (transliteration, a Russian stemmer), which a trigger cannot run for every
    # program writing this file, so triggers only keep the index consistent: a new or
    # re-worded article is queued in articles_fts_fold_pending (its stale entry removed while
    # the old words are still in the row); the store folds the queue (`fold.fold_pending`)
    # in the writing transaction, and before a search. The folded and keyed texts are kept
    # in articles_fts_fold_src, so an entry can always be deleted with the exact values it
    # was indexed with. Contentless FTS5: the index only, no third copy of the text.
    db.execute(
        "CREATE TABLE articles_fts_fold_src (id INTEGER PRIMARY KEY, title_f TEXT, "
        "text_f TEXT, title_k TEXT, text_k TEXT)")
    db.execute("CREATE TABLE articles_fts_fold_pending (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE VIRTUAL TABLE articles_fts_fold USING fts5(title, text, title_f, text_f, "
        f"title_k, text_k, content='', tokenize='{FTS_TOKENIZE}')")
    cols = "title_f, text_f, title_k, text_k"
    db.execute(
        "CREATE TRIGGER articles_fts_fold_src_ai AFTER INSERT ON articles_fts_fold_src BEGIN "
        f"INSERT INTO articles_fts_fold (rowid, title, text, {cols}) SELECT new.id, a.title, "
        "a.text, new.title_f, new.text_f, new.title_k, new.text_k FROM articles a "
        "WHERE a.id = new.id; END")
    db.execute(
        "CREATE TRIGGER articles_fts_fold_src_ad AFTER DELETE ON articles_fts_fold_src BEGIN "
        f"INSERT INTO articles_fts_fold (articles_fts_fold, rowid, title, text, {cols}) "
        "SELECT 'delete', old.id, a.title, a.text, old.title_f, old.text_f, old.title_k, "
        "old.text_k FROM articles a WHERE a.id = old.id; END")
    db.execute(
        "CREATE TRIGGER articles_fold_ai AFTER INSERT ON articles BEGIN "
        "INSERT OR IGNORE INTO articles_fts_fold_pending (id) VALUES (new.id); END")
    # BEFORE: the row still holds the words its entry was indexed with
    db.execute(
        'CREATE TRIGGER articles_fold_bu BEFORE UPDATE OF "title", "text" ON articles BEGIN '
        "DELETE FROM articles_fts_fold_src WHERE id = old.id; "
        "INSERT OR IGNORE INTO articles_fts_fold_pending (id) VALUES (old.id); END")
    db.execute(
        "CREATE TRIGGER articles_fold_bd BEFORE DELETE ON articles BEGIN "
        "DELETE FROM articles_fts_fold_src WHERE id = old.id; "
        "DELETE FROM articles_fts_fold_pending WHERE id = old.id; END")
    db.execute("INSERT INTO articles_fts_fold_pending (id) SELECT id FROM articles")
    from .fold import fold_pending_sqlite

    fold_pending_sqlite(db.conn, version=None)  # m013 adds the version column


@migrations()
def m013_fold_version(db: sqlite_utils.Database) -> None:
    # The folding rules' version each folded entry was built with (newswatch.names.
    # FOLD_VERSION), so `newswatch store refold` finds the entries older rules built and
    # `status` warns while there are any. Entries folded before versions were recorded are 0:
    # their rules are unknown (folding changed after m009 shipped), so they count as old.
    db.execute("ALTER TABLE articles_fts_fold_src ADD COLUMN version INTEGER NOT NULL "
               "DEFAULT 0")
    db.execute("CREATE INDEX idx_articles_fts_fold_src_version ON "
               "articles_fts_fold_src(version)")
