"""The crawl path: Scrapy fetches sources and pages, trafilatura cleans them, pipelines dedupe and store."""
