"""Preloaded by the extraction pool's fork server (see crawler.workers), so that its workers, forked from it,
start with what every page needs already in memory: the extraction code, datasketch's MinHash and the
language model. Loaded once per crawl in the fork server instead of once in every worker."""

from crawler.extract import extract_article  # noqa: F401 - imported for its modules
from crawler.language import load_model
from db.neardup import load_minhash

load_minhash()
load_model()
