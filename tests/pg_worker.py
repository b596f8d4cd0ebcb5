"""A worker storing one article through the real batch writer (tests/test_pg_store.py):
`python pg_worker.py URL ARTICLE_URL TEXT START_AT [--no-lock]`. It waits until START_AT
(epoch seconds) so that two workers write in the same moment, and holds its transaction
open a while after writing (as matching a large batch would), so a race is not missed."""

from __future__ import annotations

import sys
import time
from types import SimpleNamespace

from newswatch import clock, dedup
from newswatch.store import open_db
from newswatch.store.batch import ArticleStore, WritePath

url, article_url, text, start_at = sys.argv[1:5]
store = open_db(url)
if "--no-lock" in sys.argv:  # the control: what happens without the identity lock
    store.lock_identity = lambda: None
outlet = article_url.split("/")[2].split(".")[0]
article = SimpleNamespace(title="Talks in Pyongyang", author=None, published=None,
                          date_source="first_seen", language="en", text=text,
                          paragraphs=text.split("\n\n"))
item = {"url": article_url, "outlet": outlet, "fetched": clock.now_iso(),
        "fetched_url": article_url, "status": 200, "content_hash": dedup.content_hash(text),
        "article": article, "sketch": dedup.sketch(text), "blocks": {}, "aliases": ()}
writes = WritePath(store)
batch = ArticleStore(store, writes, {}, match=lambda s: time.sleep(1.0))
time.sleep(max(0.0, float(start_at) - time.time()))
batch.add(item)
batch.flush()
sys.exit(3 if writes.fatal else 0)
