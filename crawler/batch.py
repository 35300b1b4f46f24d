"""``python -m crawler.batch``: crawl some sources once in this process and report each one's figures to the
process that started it (the scheduler of `newsmon run`), as a versioned JSON record on stdout
(``db.records.encode_batch``), not as the CLI's output for people.

    python -m crawler.batch --config config.yaml [-v|-vv] [--log-format text|json] -- SOURCE...

Exits 0 when the crawl ran (a source that failed is in the record); 1 with one line on stderr when the
database cannot be written; 2 when the config is wrong.
"""

from __future__ import annotations

import argparse
import sys

from db.records import CrawlFigures, encode_batch
from newsmon.config_load import load_config
from newsmon.errors import ConfigError, NewsmonError
from newsmon.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--log-format", choices=["text", "json"], default="text")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args(argv)
    configure_logging(args.verbose, json_lines=args.log_format == "json")
    try:
        config = load_config(args.config)
        from crawler.workers import start_fork_server

        start_fork_server(config.crawl.extraction_workers)  # its imports overlap this process's own
        from crawler.runner import run_crawl  # Scrapy and Twisted: only once the config is known to be good

        report = run_crawl(config, args.sources, verbosity=args.verbose)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NewsmonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(encode_batch([CrawlFigures.from_tally(tally) for tally in report.tallies.values()]))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
