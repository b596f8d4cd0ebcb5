"""Scrapy settings for a pass. Scrapy's defaults (1 GiB bodies, 180 s timeouts, 20
redirects, retries without delay, file:// and ftp:// handlers) are far too loose for reading
the open web all day; these are ours."""

from __future__ import annotations

from newswatch import __version__
from pipelines import ITEM_PIPELINES

USER_AGENT = "newswatch/{version} (+{contact})"
# Per-domain politeness: concurrent requests per domain, and the least delay between them
# (AutoThrottle adapts the delay to the server's latency above it).
PER_DOMAIN = 8
DELAY = 0.0


def crawl_settings(config, *, verbose: bool = False) -> dict:
    crawl = config.crawl
    per_domain, delay = PER_DOMAIN, DELAY
    contact = config.contact or "https://github.com/newswatch/newswatch"
    return {
        "BOT_NAME": "newswatch",
        "USER_AGENT": USER_AGENT.format(version=__version__, contact=contact),
        "ROBOTSTXT_OBEY": True,  # per outlet: a spider subclass overrides it (crawl.run_pass)
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": min(4.0, float(per_domain)),
        "CONCURRENT_REQUESTS": 32,
        # AutoThrottle adapts the delay to the server's latency but never below
        # DOWNLOAD_DELAY; slots are per domain, not per IP.
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_size,
        "DOWNLOAD_WARNSIZE": min(crawl.max_page_size, 4 * 1024 * 1024),
        "DNS_TIMEOUT": 20,
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "NEWSWATCH_RETRY_BACKOFF_BASE": 1.0,
        "NEWSWATCH_RETRY_BACKOFF_CAP": 30.0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy's remote-control HTTP endpoint: a listening port per pass, never wanted.
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "DEBUG" if verbose else "WARNING",
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": False,  # newswatch's own handler (cli.setup_logging)
        # Only http(s): a redirect or link to file://, data:, ftp:// or s3:// fetches nothing.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.middleware.ScopeMiddleware": 60,
            # RFC 9309: robots.txt answered with 5xx (or unreachable) means disallow all.
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "spiders.robots.StrictRobotsTxtMiddleware": 100,
            # Before the download: a retried request waits (exponential backoff).
            "spiders.backoff.RetryBackoffMiddleware": 540,
            # Below RedirectMiddleware (600): sees final responses; see conditional.py.
            "spiders.conditional.ConditionalGetMiddleware": 580,
            # Above both: an article that timed out is not retried (spiders/failures.py).
            "spiders.failures.ArticleTimeoutMiddleware": 590,
        },
        "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "HTTPCACHE_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "DEFAULT_DROPITEM_LOG_LEVEL": "INFO",
        "NEWSWATCH_WORKERS": crawl.workers,
    }
