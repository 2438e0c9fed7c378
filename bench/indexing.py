"""Indexing throughput of the product, next to bare Sudachi tokenization of the same texts in the same run.

    python bench/indexing.py ../shared/data/livedoor --home /tmp/bench-homes/livedoor
    python bench/indexing.py /tmp/bench-corpora/gen-100k --home /tmp/bench-homes/gen-100k

The corpus is a livedoor folder or a folder of JSON Lines files
(bench/make_corpus.py).  Measured, in this order:

* **reference, bare Sudachi**: SudachiPy C-mode tokenization of every title
  and body paragraph, in this process, on one core: the floor any
  Sudachi-based indexer pays;
* **first import**: ``python -m indexer import`` into the empty ``--home``
  (read and store in SQLite while a parallel rebuild indexes what is stored);
* **reindex**: ``python -m indexer reindex`` (rebuild the index from the database);
* **import of 100 new articles** (``--new``; made by bench/make_corpus.py with
  another seed) into a copy of the archive just built: what adding a day's
  articles to a large archive costs.

Each product step is a subprocess, timed from start to exit; its peak memory
is the largest resident set of the command and of the processes it waited
for (Whoosh's writer processes).  The home is kept, to be served by
bench/search_latency.py and bench/throughput.py; it must not exist yet.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    LIVEDOOR,
    Run,
    Text,
    first_articles,
    index_mib,
    load_note,
    read_texts,
    require,
    run_indexer,
    table,
)
from bench.make_corpus import CorpusMaker, read_livedoor, write_corpus  # noqa: E402

NEW_ARTICLES = 100
# The new articles' seed: their URLs and texts are not in any corpus made with a small seed.
NEW_SEED = 990001


def sudachi_seconds(texts: Iterable[Text]) -> tuple[float, int, int]:
    """Seconds to tokenize every title and paragraph (C mode), how many articles and characters."""
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer(SplitMode.C)
    articles = chars = 0
    started = time.perf_counter()
    for text in texts:
        tokenizer.tokenize(text.title)
        for paragraph in text.body.split("\n"):
            tokenizer.tokenize(paragraph)
        articles += 1
        chars += len(text.title) + len(text.body)
    return time.perf_counter() - started, articles, chars


@dataclass(frozen=True)
class IndexingReport:
    read: int  # articles in the corpus files
    articles: int  # articles stored (import keeps one of each repeated text)
    chars: int
    sudachi_seconds: float
    first_import: Run
    reindex: Run
    new_import: Run
    new_articles: int
    index_mib: float
    database_mib: float


def step(what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {what} … ({load_note()})", flush=True)


def stats(home: Path) -> dict:
    return json.loads(run_indexer(home, "stats", "--json").output)


def measure(
    files: list[Path], home: Path, scratch: Path, new: int = NEW_ARTICLES
) -> IndexingReport:
    """Run the reference and the three product steps on the articles in ``files``."""
    if home.exists() and any(home.iterdir()):
        sys.exit(f"{home} is not empty: the first import needs a new home")
    step("reference: tokenizing with bare Sudachi")
    seconds, articles, chars = sudachi_seconds(read_texts(files))
    step(f"first import of {articles:,} articles into {home}")
    first = run_indexer(home, "import", *map(str, files))
    stored = stats(home)["articles"]
    if stored != articles:
        print(f"  note: {stored:,} articles stored of {articles:,} read (same text repeated)")
    step("reindex")
    again = run_indexer(home, "reindex")
    sizes = index_mib(home), (home / "archive.db").stat().st_size / 1_048_576

    copy = scratch / "home-copy"
    shutil.copytree(home, copy)
    maker = CorpusMaker(read_livedoor(LIVEDOOR), NEW_SEED)
    new_files = write_corpus(maker, new, scratch / "new")
    step(f"import of {new} new articles into a copy")
    added = run_indexer(copy, "import", *map(str, new_files))
    if stats(copy)["articles"] != stored + new:
        sys.exit(f"the {new} new articles were not all added:\n{added.output}")
    shutil.rmtree(copy)
    return IndexingReport(articles, stored, chars, seconds, first, again, added, new, *sizes)


def print_report(report: IndexingReport) -> None:
    n = report.articles

    def row(name: str, articles: int, seconds: float, peak: float) -> list:
        return [name, articles, seconds, articles / seconds, peak]

    print()
    print(
        table(
            ["step", "articles", "seconds", "articles/s", "peak MiB (largest process)"],
            [
                row(
                    "reference: bare Sudachi, C mode, 1 core",
                    report.read,
                    report.sudachi_seconds,
                    math.nan,
                ),
                row("first import (python -m indexer import)", n, *_timed(report.first_import)),
                row("reindex (python -m indexer reindex)", n, *_timed(report.reindex)),
                row(
                    f"import {report.new_articles} new into the {n:,}",
                    report.new_articles,
                    *_timed(report.new_import),
                ),
            ],
        )
    )
    print()
    print(
        f"{report.chars / report.read:,.0f} characters an article; Sudachi {report.chars / report.sudachi_seconds / 1e6:.2f} M chars/s; "
        f"index {report.index_mib:,.0f} MiB, database {report.database_mib:,.0f} MiB"
    )


def _timed(run: Run) -> tuple[float, float]:
    return run.seconds, run.peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, help="a livedoor folder or a folder of .jsonl files")
    parser.add_argument("--home", type=Path, required=True, help="a new ARCHIVE_HOME (kept)")
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument(
        "--new", type=int, default=NEW_ARTICLES, help="new articles to add at the end"
    )
    args = parser.parse_args()
    require(args.corpus, "the corpus")
    require(LIVEDOOR, "the livedoor corpus (the new articles are made from it)")
    with tempfile.TemporaryDirectory(prefix="bench-indexing-") as scratch:
        files = first_articles(args.corpus, args.limit, Path(scratch) / "first")
        print_report(measure(files, args.home, Path(scratch), args.new))


if __name__ == "__main__":
    main()
