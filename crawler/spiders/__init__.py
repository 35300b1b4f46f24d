"""The spider and the parsers that read each kind of source: feeds, sitemaps and section pages."""
