"""Facets and stories at 100,000 articles: what counting and collapsing cost a search.

Importing 100,000 real articles takes most of an hour here, so this builds an
index of 100,000 short synthetic documents straight through the engine
(``IndexStore.rebuild``, the way ``reindex`` writes one), shaped like an
archive where facets are concerned: 300 sites, 40 categories, 5,000 tags (0-5
an article), ten years of dates (5 % undated), one article in ten a copy of
another's story.  Their titles hold words that match 1 %, 10 % and 100 % of
them.  Each search then runs through ``Archive.search`` as the web page runs
it, with the facets of every match counted: the median time per result-set
size, without filters and with four, and with stories collapsed, beside a
search that matches one article (the floor: planning, ten hits, no counting).

    python bench/facets.py [--home DIR] [--documents N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.archive import Archive, Settings  # noqa: E402
from indexer.engine import IndexStore  # noqa: E402
from indexer.errors import ArchiveError  # noqa: E402

DOCUMENTS = 100_000
# Title words and the share of the documents each is in.
WORDS = {"経済": 0.01, "政治": 0.1, "社会": 1.0}
RARE = "天文台"  # in one document only


def documents(count: int, rng: np.random.Generator):
    """Synthetic articles (the fields the index takes), one by one."""
    sites = rng.zipf(1.5, count) % 300
    categories = rng.integers(0, 40, count)
    seconds = rng.integers(1_450_000_000, 1_765_000_000, count)
    undated = rng.random(count) < 0.05
    copies = rng.random(count) < 0.1
    stories = rng.integers(1, count + 1, count)
    tag_counts = rng.integers(0, 6, count)
    shares = rng.random((count, len(WORDS)))
    for n in range(count):
        words = [
            w for (w, share), draw in zip(WORDS.items(), shares[n], strict=True) if draw < share
        ]
        if n == count // 2:
            words.append(RARE)
        published = None if undated[n] else datetime.fromtimestamp(int(seconds[n]), UTC)
        yield SimpleNamespace(
            id=n + 1,
            title=" ".join(words) or "記事",
            body="本文。",
            captions=[],
            url=f"https://site{sites[n]}.example/{n}",
            site=f"site{sites[n]}.example",
            agency=None,
            author=None,
            category=f"cat{categories[n]}",
            tags=[f"tag{t}" for t in rng.zipf(1.3, tag_counts[n]) % 5000],
            published_at=published,
            updated_at=datetime(2025, 1, 1, tzinfo=UTC),
            story_id=int(min(stories[n], n + 1)) if copies[n] else None,
        )


def median_ms(work, repeat: int = 15) -> float:
    work()  # the first search reads the columns: measured apart below
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "bench-facets")
    parser.add_argument("--documents", type=int, default=DOCUMENTS)
    args = parser.parse_args()
    settings = Settings.from_env({"ARCHIVE_HOME": str(args.home)})
    index = IndexStore(settings.index_root)
    try:
        built = index.info().documents == args.documents
    except ArchiveError:  # no usable index yet: build it
        built = False
    if not built:
        started = time.perf_counter()
        rng = np.random.default_rng(20251128)
        index.rebuild(documents(args.documents, rng), expected=args.documents)
        print(f"built {args.documents:,} documents in {time.perf_counter() - started:.0f} s")
    archive = Archive(settings)
    busiest = {
        "site": "site1.example",
        "category": "cat3",
        "tag": "tag1",
        "date_from": date(2018, 1, 1),
        "date_to": date(2022, 12, 31),
    }
    started = time.perf_counter()
    archive.search(RARE)
    print(f"first search (columns read): {(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"{args.documents:,} documents; median of 15 searches through Archive.search")
    print()
    print("| matches | filters | stories | median ms |")
    print("| ------: | ------- | ------- | --------: |")
    for word in (RARE, *WORDS):
        total = archive.search(word).total
        for name, filters in (("none", {}), ("4", busiest)):
            for group in (False, True):
                ms = median_ms(lambda w=word, f=filters, g=group: archive.search(w, group=g, **f))
                print(f"| {total:>7,} | {name:<7} | {'one' if group else 'every'} | {ms:9.2f} |")
    archive.close()


if __name__ == "__main__":
    main()
