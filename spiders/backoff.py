"""Retries with backoff. Scrapy's RetryMiddleware re-schedules a failed request (5xx,
timeouts) at once; a struggling server is better served by waiting. A retried request
(meta `retry_times`) is held back 2^n seconds (capped, with jitter) before it is sent."""

from __future__ import annotations

import asyncio
import random

BASE = 1.0
CAP = 30.0


def retry_delay(retry_times: int, base: float = BASE, cap: float = CAP) -> float:
    """Seconds to wait before the n-th retry: base * 2^(n-1), capped, +-25% jitter."""
    if retry_times <= 0:
        return 0.0
    delay = min(cap, base * 2 ** (retry_times - 1))
    return delay * random.uniform(0.75, 1.25)


class RetryBackoffMiddleware:
    def __init__(self, base: float, cap: float):
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.getfloat("NEWSWATCH_RETRY_BACKOFF_BASE", BASE),
                   s.getfloat("NEWSWATCH_RETRY_BACKOFF_CAP", CAP))

    async def process_request(self, request, spider=None):
        delay = retry_delay(request.meta.get("retry_times", 0), self.base, self.cap)
        if delay:
            await asyncio.sleep(delay)
        return None
