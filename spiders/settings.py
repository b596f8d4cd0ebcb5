"""Scrapy settings for a pass. Scrapy's defaults (1 GiB bodies, 180 s timeouts, 20
redirects, retries without delay, file:// and ftp:// handlers) are far too loose for reading
the open web all day; these are ours."""

from __future__ import annotations

from newswatch import __version__
from pipelines import ITEM_PIPELINES

USER_AGENT = "newswatch/{version} (+{contact})"


def crawl_settings(config, *, verbose: bool = False) -> dict:
    crawl = config.crawl
    contact = config.contact or "https://github.com/newswatch/newswatch"
    return {
        "BOT_NAME": "newswatch",
        "USER_AGENT": USER_AGENT.format(version=__version__, contact=contact),
        "ROBOTSTXT_OBEY": True,  # per outlet: a spider subclass overrides it (crawl.run_pass)
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_size,
        "DOWNLOAD_WARNSIZE": min(crawl.max_page_size, 4 * 1024 * 1024),
        "DNS_TIMEOUT": 20,
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "DEBUG" if verbose else "WARNING",
        "LOG_ENABLED": True,
        # Only http(s): a redirect or link to file://, data:, ftp:// or s3:// fetches nothing.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.middleware.ScopeMiddleware": 60,
            "spiders.conditional.ConditionalGetMiddleware": 580,
        },
        "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "HTTPCACHE_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "DEFAULT_DROPITEM_LOG_LEVEL": "INFO",
        "NEWSWATCH_WORKERS": crawl.workers,
    }
