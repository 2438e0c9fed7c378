"""Reading a segment's column fields as arrays: one value per document, or a list of them.

Columns hold what a search filters, counts or sorts by (dates, stories, the
codes of sites, categories and tags: :mod:`indexer.engine.documents`).  Whoosh
reads a column value by value; here a segment's column is read from its file
in one piece.  A segment never changes (its deletions are the snapshot's
``live`` mask), so what is read is kept per segment and process, and the
first search after an import reads only the new segments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from whoosh.columns import NumericColumn, VarBytesColumn

from indexer.engine.cache import LRU

# Column arrays of segments kept per process, by segment and column: about 8 bytes a value.
CACHED_COLUMN_VALUES = 8_000_000


def _weight(value: tuple[Any, int]) -> int:
    return value[1] + 1


_SEGMENTS: LRU[tuple[str, str], tuple[Any, int]] = LRU(CACHED_COLUMN_VALUES, _weight)


def segment_numbers(segreader, name: str) -> np.ndarray:
    """A numeric column of one segment as an array, read in one piece.

    Whoosh's NumericColumn writes fixed-width big-endian values from the
    first document up to the last one with a value other than the default
    (the rest read as the default); its reader keeps where they start.
    """
    count = segreader.doc_count_all()
    reader = segreader.column_reader(name, translate=False)
    if isinstance(reader, NumericColumn.Reader):
        raw = reader._dbfile.get(reader._basepos, reader._count * reader._fixedlen)
        values = np.frombuffer(raw, dtype=">" + reader._typecode).astype(np.int64)
        if len(values) < count:
            values = np.concatenate(
                [values, np.full(count - len(values), reader._default, dtype=np.int64)]
            )
        return values[:count]
    return np.fromiter(reader, dtype=np.int64, count=count)


def segment_code_lists(segreader, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bytes column of packed 64-bit codes as (documents' value counts, all values in order).

    Whoosh's VarBytesColumn writes the documents' values one after another
    and then their lengths; its reader keeps both.
    """
    count = segreader.doc_count_all()
    reader = segreader.column_reader(name, translate=False)
    if isinstance(reader, VarBytesColumn.Reader):
        lengths = np.asarray(reader._lengths, dtype=np.int64)[:count]
        raw = reader._dbfile.get(reader._basepos, int(lengths.sum()))
    else:
        values = [bytes(v) for v in reader]
        lengths = np.array([len(v) for v in values], dtype=np.int64)
        raw = b"".join(values)
    codes = np.frombuffer(raw, dtype=">i8").astype(np.int64)
    return lengths // 8, codes


def per_segment(segid: str, name: str, read: Callable[[], Any], size: Callable[[Any], int]) -> Any:
    """What ``read()`` gives for a segment's column, read once per process while it is kept."""
    key = (segid, name)
    cached = _SEGMENTS.get(key)
    if cached is not None:
        return cached[0]
    value = read()
    return _SEGMENTS.put(key, (value, size(value)))[0]
