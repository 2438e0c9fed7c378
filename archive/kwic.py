"""Keyword in context: every marked word of a search's articles on a line of its own.

The lines are :meth:`~indexer.archive.Archive.concordance`'s (the words the
results page marks, where it marks them).  Like a concordancer, the page sorts
them by what stands right of the word, or by what stands left of it read
backwards from the word (so 国際空港 and 新空港 part at the character next to
空港; spaces skipped, width and case folded), and shows a page of them at a time; the export has every line.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence

from indexer.archive import ConcordanceLine

# How the lines may be ordered: as the articles come (newest first), or by a context.
SORTS = {"article": "記事順", "left": "左の文脈順", "right": "右の文脈順"}
PAGE_SIZE = 50
# Characters of context the page shows on each side (the export has all it was given).
SHOWN_CHARS = 24


def sort_key(text: str) -> str:
    """What a context is sorted by: width and case folded, spaces and tabs left out."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def sort_lines(lines: Sequence[ConcordanceLine], by: str) -> list[ConcordanceLine]:
    """The lines in the order ``by`` (a key of ``SORTS``) asks for; ties keep article order."""
    if by == "left":
        return sorted(
            lines, key=lambda x: (sort_key(x.left)[::-1], sort_key(x.keyword), sort_key(x.right))
        )
    if by == "right":
        return sorted(
            lines, key=lambda x: (sort_key(x.right), sort_key(x.keyword), sort_key(x.left)[::-1])
        )
    return list(lines)


def table(lines: Sequence[ConcordanceLine], delimiter: str = ",") -> str:
    """Every line as CSV (or TSV): the article, then left | keyword | right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["article_id", "published", "site", "title", "left", "keyword", "right"])
    for line in lines:
        when = line.published_at.isoformat() if line.published_at else ""
        texts = [line.site or "", line.title, line.left, line.keyword, line.right]
        # A tab inside a field would read as a column break to most TSV readers.
        writer.writerow([line.article_id, when, *(t.replace("\t", " ") for t in texts)])
    return out.getvalue()
