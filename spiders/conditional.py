"""Conditional GET for feeds, sitemaps and listing pages (ETag / Last-Modified)."""


class ConditionalGetMiddleware:
    @classmethod
    def from_crawler(cls, crawler):
        return cls()
