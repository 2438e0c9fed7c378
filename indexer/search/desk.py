"""The research desk's counts and lines: matches per day, and every matched word in context.

Both start from the match set a search counts its total from
(:func:`~indexer.search.finding.find_narrowed`), so a chart of a query over
time adds up to the results page's total, and a concordance lists the words
the results page marks, where it marks them (the same
:class:`~indexer.search.highlight.Highlighter`, fed the index's character
offsets), never substring debris such as 京都 inside 東京都.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from indexer.engine import Snapshot
from indexer.readers.dates import TOKYO
from indexer.search.highlight import Highlighter
from indexer.search.results import found_words

_TOKYO_OFFSET = 9 * 3600  # Japan has kept no daylight saving time since 1951
# Characters kept on each side of a word in a concordance line.
CONTEXT_CHARS = 40
# A concordance reads the articles' bodies: past these it stops and says so.
MAX_CONCORDANCE_ARTICLES = 2_000
MAX_CONCORDANCE_LINES = 20_000
# Articles whose offsets are read from the index at a time.
_BATCH = 200


@dataclass(frozen=True)
class DayCounts:
    """How many matching articles each day holds (Tokyo days), each article once.

    ``days`` are the days with matches, oldest first; ``undated`` the matching
    articles without a date; ``total`` all of them (the search's total).
    """

    query: str
    days: tuple[tuple[date, int], ...]
    undated: int
    total: int
    partial: bool = False


@dataclass(frozen=True)
class ConcordanceLine:
    """One occurrence of a query's word: what stands left of it, the word, and right of it."""

    article_id: int
    title: str
    site: str | None
    published_at: datetime | None
    start: int  # the word's offset in the body
    left: str
    keyword: str
    right: str


@dataclass(frozen=True)
class Concordance:
    """Every marked word of the matching articles' bodies, article by article (newest first).

    ``articles`` is how many articles matched (the search's total); ``read``
    how many were read for lines; ``complete`` is False when a limit stopped
    the reading (``MAX_CONCORDANCE_ARTICLES``, ``MAX_CONCORDANCE_LINES``).
    """

    query: str
    lines: tuple[ConcordanceLine, ...]
    articles: int
    read: int
    complete: bool
    partial: bool = False


def day_numbers(snapshot: Snapshot, ids: np.ndarray) -> np.ndarray:
    """Each document's day (Tokyo time) as days since 1970-01-01."""
    seconds = snapshot.column("time_key")[ids] + _TOKYO_OFFSET
    return seconds.astype("datetime64[s]").astype("datetime64[D]").astype(np.int64)


def count_days(snapshot: Snapshot, ids: np.ndarray, query: str, partial: bool) -> DayCounts:
    """The day counts of the documents ``ids`` (the matches of ``query``)."""
    dated = ids[snapshot.column("undated")[ids] == 0]
    days: list[tuple[date, int]] = []
    if len(dated):
        numbers, counts = np.unique(day_numbers(snapshot, dated), return_counts=True)
        epoch = date(1970, 1, 1).toordinal()
        days = [
            (date.fromordinal(epoch + n), c)
            for n, c in zip(numbers.tolist(), counts.tolist(), strict=True)
        ]
    return DayCounts(query, tuple(days), len(ids) - len(dated), len(ids), partial)


def _line(text: str) -> str:
    return " ".join(text.split("\n"))


def concordance_lines(
    snapshot: Snapshot,
    docnums: list[int],
    highlighter: Highlighter,
    limit: int = MAX_CONCORDANCE_LINES,
) -> tuple[list[ConcordanceLine], int]:
    """The lines of these documents' bodies, in order; and how many documents were read."""
    lines: list[ConcordanceLine] = []
    read = 0
    for at in range(0, len(docnums), _BATCH):
        batch = docnums[at : at + _BATCH]
        found = found_words(snapshot, batch, highlighter)
        for docnum in batch:
            fields = snapshot.stored_fields(docnum)
            body = fields.get("body") or ""
            published = fields.get("published")
            when = datetime.fromisoformat(published).astimezone(TOKYO) if published else None
            for start, end in highlighter.ranges(body, found=found[docnum]["body"]):
                lines.append(
                    ConcordanceLine(
                        article_id=int(fields["id"]),
                        title=fields.get("title") or "",
                        site=fields.get("site"),
                        published_at=when,
                        start=start,
                        left=_line(body[max(0, start - CONTEXT_CHARS) : start]),
                        keyword=_line(body[start:end]),
                        right=_line(body[end : end + CONTEXT_CHARS]),
                    )
                )
            read += 1
            if len(lines) >= limit:
                return lines[:limit], read
    return lines, read
