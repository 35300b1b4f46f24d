"""`newsmon serve`: the archive as a read-only JSON API, a small server-rendered web page, and rule feeds."""
