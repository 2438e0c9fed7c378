"""Near-identical articles: the same wire story carried by several sites.

Exact copies are caught on import (same URL, or the same normalized text).
Wire copies differ by a credit line, a photo caption or an edited sentence,
so they are found by resemblance instead: each body is cut into overlapping
character shingles, a bottom-k sketch (the k smallest shingle hashes) stands
for it, articles sharing enough sketch values become candidates, and a
candidate pair is reported when the Jaccard similarity of the full shingle
sets reaches the threshold.
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from indexer.readers.drafts import nfkc

SHINGLE = 5
SKETCH = 64
# Pairs sharing fewer sketch values than this are too different to compare in full.
MIN_SHARED = 8
# A value in more sketches than this is boilerplate, not evidence of copying.
MAX_POSTING = 50

_NOT_TEXT = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class DuplicatePair:
    first: int
    second: int
    similarity: float


def shingles(text: str) -> set[int]:
    """Hashes of the overlapping character runs of ``text``, width and punctuation folded."""
    folded = _NOT_TEXT.sub("", nfkc(text).lower())
    if len(folded) <= SHINGLE:
        return {zlib.crc32(folded.encode("utf-8"))} if folded else set()
    return {
        zlib.crc32(folded[i : i + SHINGLE].encode("utf-8"))
        for i in range(len(folded) - SHINGLE + 1)
    }


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def near_duplicates(
    articles: Iterable[tuple[int, str]], threshold: float = 0.8
) -> list[DuplicatePair]:
    """Pairs of ``(id, text)`` articles at least ``threshold`` alike, most alike first."""
    sets: dict[int, set[int]] = {}
    by_value: dict[int, list[int]] = defaultdict(list)
    for article_id, text in articles:
        shingle_set = shingles(text)
        if not shingle_set:
            continue
        sets[article_id] = shingle_set
        for value in heapq.nsmallest(SKETCH, shingle_set):
            by_value[value].append(article_id)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for ids in by_value.values():
        if len(ids) > MAX_POSTING:
            continue
        for pair in combinations(sorted(ids), 2):
            shared[pair] += 1
    pairs = []
    for (first, second), count in shared.items():
        if count < MIN_SHARED:
            continue
        similarity = jaccard(sets[first], sets[second])
        if similarity >= threshold:
            pairs.append(DuplicatePair(first, second, similarity))
    pairs.sort(key=lambda p: (-p.similarity, p.first, p.second))
    return pairs
