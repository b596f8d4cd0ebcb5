"""Extraction worker processes: parsing is CPU work, so it runs beside the event loop."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor


class ExtractorPool:
    """One pool per pass, shared by all outlets."""

    def __init__(self, workers: int):
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.executor: Executor
        if self.workers == 1:
            self.executor = ThreadPoolExecutor(max_workers=1)
        else:
            # spawn, not fork: the parent runs Twisted/asyncio threads.
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    @classmethod
    def shared(cls, ctx) -> "ExtractorPool":
        pool = getattr(ctx, "_extractor_pool", None)
        if pool is None:
            pool = ctx._extractor_pool = cls(ctx.config.crawl.workers)
        return pool

    def submit(self, fn, *args, **kwargs):
        return self.executor.submit(fn, *args, **kwargs)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
