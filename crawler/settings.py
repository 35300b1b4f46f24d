"""Scrapy settings built from the validated config: politeness, limits and our components."""

from __future__ import annotations

from typing import Any

from newsmon.config import Config


def build_settings(config: Config, log_level: str = "WARNING") -> dict[str, Any]:
    crawl = config.crawl
    return {
        "BOT_NAME": "newsmon",
        # Extraction runs in worker processes awaited through asyncio (crawler.workers).
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": min(crawl.concurrency, 8),
        "DOWNLOAD_DELAY": crawl.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,  # 0.5x to 1.5x the delay, so requests do not beat in step
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DNS_TIMEOUT": min(crawl.timeout, 60),
        "DOWNLOAD_MAXSIZE": crawl.max_bytes,  # also caps decompressed gzip/deflate/brotli bodies
        "DOWNLOAD_WARNSIZE": 0,
        # Scrapy starts a task per CONCURRENT_ITEMS slot for every callback result; ours yield one article
        # each and the pipelines are synchronous, so parallel item processing only costs time.
        "CONCURRENT_ITEMS": 1,
        "RETRY_TIMES": 2,
        # Scrapy's defaults without 429: a server that says "too many requests" is not asked again at once; the
        # source's next poll waits for its Retry-After (scheduler.polling).
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's remote-control HTTP server (a port on localhost): nothing of ours uses it, and a crawl
        # opens no port it does not need.
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": False,  # newsmon.logging configured the handlers
        "STATS_DUMP": False,
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.safety.PrivateNetworkMiddleware": 50,
            # Scrapy's retries, but never of a refused address (asking again gets the same answer).
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.safety.RetryUnlessRefusedMiddleware": 550,
        },
        # Only the web is crawled: without these handlers no request, however it was made, reads a local file
        # (file:), serves its own body (data:) or leaves for ftp: or s3:.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        # The address check at connect time (see crawler.safety); Scrapy's own resolver when private is allowed.
        "TWISTED_DNS_RESOLVER": "scrapy.resolver.CachingThreadedResolver" if crawl.allow_private_networks
        else "crawler.safety.PublicOnlyResolver",
        "ITEM_PIPELINES": {
            "crawler.pipelines.DedupePipeline": 100,
            "crawler.pipelines.StorePipeline": 200,
        },
        "NEWSMON_DATABASE_URL": config.database.url,
        "NEWSMON_ALLOW_PRIVATE_NETWORKS": crawl.allow_private_networks,
        "NEWSMON_PRIVATE_HOSTS": list(crawl.private_hosts),
        "NEWSMON_EXTRACTION_TIME_LIMIT": crawl.extraction_time_limit,
        "NEWSMON_EXTRACTION_WORKERS": crawl.extraction_workers,
        "NEWSMON_SITEMAP_WINDOW": crawl.sitemap_window.total_seconds(),
        "NEWSMON_MAX_LINKS": crawl.max_links,
        "NEWSMON_CLUSTER_SIMILARITY": config.clusters.similarity,
        "NEWSMON_CLUSTER_WINDOW": config.clusters.window.total_seconds(),
    }
