"""Preloaded by the extraction pool's fork server (see crawler.workers), so that its workers, forked from it,
start with what every page needs already in memory: the extraction code, datasketch's MinHash, the language
model, dateparser's data for dates written in English and jusText's stop words. Loaded once per crawl in the
fork server instead of once in every worker."""

from crawler.extract import extract_article  # noqa: F401 - imported for its modules
from crawler.language import load_model
from crawler.listing import from_text
from db.neardup import load_minhash
from trafilatura.external import jt_stoplist_init

load_minhash()
load_model()
from_text("24 March 2018")  # dateparser's first reading of a date loads its English data (0.1 to 0.2 s)
jt_stoplist_init()  # trafilatura reads every jusText stop list on its first fallback (0.2 to 0.4 s)
