"""Facets and stories at 100,000 articles: what counting and collapsing cost per search.

Building a real index of 100,000 articles takes most of an hour here, so this
feeds the same array code (indexer.facets, the story collapse of
indexer.search) columns of synthetic codes shaped like an archive: 300 sites,
40 categories, 5,000 tags (0-5 an article), ten years of dates, one article in
ten a copy of another's story.  It prints the median time for result sets of
several sizes, with every filter applied and without.

    python bench/facets.py
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import numpy as np

from indexer.facets import Columns, Filters, Labels, count_facets, narrow, value_code

DOCUMENTS = 100_000
rng = np.random.default_rng(20251128)


class SyntheticColumns(Columns):
    """Columns from arrays instead of an index's segments."""

    def __init__(self) -> None:
        self.snapshot = self  # labels are read through stored_fields below
        self._numbers = {
            "site_code": np.array([value_code(f"site{i}") for i in range(300)])[
                rng.zipf(1.5, DOCUMENTS) % 300
            ],
            "category_code": np.array([value_code(f"cat{i}") for i in range(40)])[
                rng.integers(0, 40, DOCUMENTS)
            ],
            "time_key": rng.integers(1_450_000_000, 1_765_000_000, DOCUMENTS),
            "undated": (rng.random(DOCUMENTS) < 0.05).astype(np.int64),
            "story": np.where(
                rng.random(DOCUMENTS) < 0.1,
                rng.integers(0, DOCUMENTS, DOCUMENTS),
                np.arange(DOCUMENTS),
            ),
        }
        counts = rng.integers(0, 6, DOCUMENTS)
        tags = np.array([value_code(f"tag{i}") for i in range(5000)])
        values = tags[rng.zipf(1.3, int(counts.sum())) % 5000]
        starts = np.zeros(DOCUMENTS + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        self._lists = {"tag_codes": (starts, values)}

    def stored_fields(self, docnum: int) -> dict:
        return {"site": f"site of {docnum}", "category": "c", "tag_list": []}


def median_ms(work, repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    columns = SyntheticColumns()
    labels = Labels()
    busiest = Filters(
        site="site1",
        category="cat3",
        tag="tag1",
        date_from=date(2018, 1, 1),
        date_to=date(2022, 12, 31),
    )
    print(f"{DOCUMENTS:,} documents; median of 15 runs")
    for size in (1_000, 10_000, 100_000):
        ids = np.sort(rng.choice(DOCUMENTS, size, replace=False))
        for name, filters in (("no filter", Filters()), ("4 filters", busiest)):

            def facets(ids=ids, filters=filters):
                count_facets(columns, labels, ids, narrow(columns, ids, filters), filters)

            print(f"  {size:>7,} matches, {name}: facets {median_ms(facets):6.2f} ms")

        def collapse(ids=ids):
            story = columns.numbers("story")[ids]
            len(np.unique(story))
            np.unique(story, return_index=True)

        print(f"  {size:>7,} matches: stories counted and collapsed {median_ms(collapse):6.2f} ms")


if __name__ == "__main__":
    main()
