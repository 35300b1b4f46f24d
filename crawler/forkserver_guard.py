"""Imported first by the extraction pool's fork server (see crawler.workers.ExtractionPool): the fork server
dies with the crawl process that started it, so that a crawl process killed outright leaves no pool behind.
Importing this module anywhere else would tie that process to its parent: only the fork server preloads it."""

from crawler.workers import die_with_parent

die_with_parent()
