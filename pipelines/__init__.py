"""Item pipelines, one job each. Their order, in one place:

    100 ExtractPipeline  HTML -> article text and metadata (newswatch.extract), in worker
                         processes so the event loop only downloads.
    200 DedupePipeline   URL identity: the page's own canonical URL when it stays on the
                         outlet's site; a known URL whose text is unchanged stops here.
    300 StorePipeline    batches articles into SQLite. In each batch's transaction: content
                         identity (exact hash, then MinHash near-duplicates, so two copies in
                         one batch are still caught), insert or update, template learning, and
                         watch matching into alert rows (newswatch.alerts.match_pending).

Alerts are sent after the pass (newswatch.crawl.run_pass -> newswatch.alerts.flush).
"""

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.dedupe.DedupePipeline": 200,
    "pipelines.store.StorePipeline": 300,
}
