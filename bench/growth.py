"""Indexing and search latency as the archive grows (10k, 30k, 100k generated articles), one table.

    python bench/make_corpus.py 100000 --seed 1 --out /tmp/bench-corpora/gen-100k
    python bench/growth.py --corpus /tmp/bench-corpora/gen-100k --homes /tmp/bench-homes

For each size N (``--sizes``), the first N articles of the corpus (the corpus
of N that bench/make_corpus.py makes with the same seed) go through
bench/indexing.py's steps into ``HOMES/gen-<N>`` (bare Sudachi on the same
texts, first import, reindex, 100 new articles into a copy), and the archive
is then served and measured as bench/search_latency.py does (title pairs and
common words over HTTP, FTS5 trigram on the same queries in the same run).
A home that exists already is reused: its indexing is not measured again
(shown as –), its search latency is.  The homes are kept.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import indexing, search_latency  # noqa: E402
from bench.common import LIVEDOOR, Spread, first_articles, require, table  # noqa: E402

SIZES = (10_000, 30_000, 100_000)


def home_name(size: int) -> str:
    return f"gen-{size // 1000}k" if size % 1000 == 0 else f"gen-{size}"


def pair(values: list[float]) -> str:
    """``p50 / p95`` in milliseconds."""
    spread = Spread.of(values)
    return "–" if not values else f"{spread.p50:.0f} / {spread.p95:.0f}"


def row(
    indexed: indexing.IndexingReport | None, latency: search_latency.LatencyReport
) -> list[object]:
    titles, common = latency.sets
    if indexed is None:
        rates: list[object] = [math.nan] * 5
    else:
        n = indexed.articles
        rates = [
            indexed.read / indexed.sudachi_seconds,
            n / indexed.first_import.seconds,
            n / indexed.reindex.seconds,
            indexed.new_import.seconds,
            max(indexed.first_import.peak_mib, indexed.reindex.peak_mib),
        ]
    return [
        latency.articles,
        *rates,
        latency.index_mib,
        pair(titles.ours),
        pair(common.ours),
        f"{pair(titles.fts)} ({len(titles.fts)})",
        f"{pair(common.fts)} ({len(common.fts)})",
        f"{len(titles.differing)} / {len(common.differing)}",
    ]


HEADERS = [
    "articles",
    "Sudachi art/s (ref)",
    "import art/s",
    "reindex art/s",
    "+100 import s",
    "peak MiB",
    "index MiB",
    "title pairs p50/p95 ms",
    "common p50/p95 ms",
    "FTS5 title p50/p95 (ran)",
    "FTS5 common p50/p95 (ran)",
    "total differs title/common",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True, help="a bench/make_corpus.py folder")
    parser.add_argument("--homes", type=Path, required=True, help="where gen-<N> homes go (kept)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="article counts")
    parser.add_argument("--queries", type=int, default=300, help="title-pair queries per size")
    parser.add_argument("--workers", type=int, default=1, help="python -m archive serve --workers")
    args = parser.parse_args()
    require(args.corpus, "the corpus")
    require(LIVEDOOR, "the livedoor corpus (the new articles are made from it)")

    rows = []
    for size in sorted(args.sizes):
        home = args.homes / home_name(size)
        print(f"== {size:,} articles: {home}", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-growth-") as scratch:
            indexed = None
            if home.exists():
                print(f"{home} exists: reused, its indexing not measured again", flush=True)
            else:
                files = first_articles(args.corpus, size, Path(scratch) / "first")
                indexed = indexing.measure(files, home, Path(scratch))
                indexing.print_report(indexed)
            options = ["--workers", str(args.workers)]
            latency = search_latency.measure(home, options, args.queries, Path(scratch))
            search_latency.print_report(latency)
        rows.append(row(indexed, latency))
        print()
        print(table(HEADERS, rows), flush=True)
        print()


if __name__ == "__main__":
    main()
