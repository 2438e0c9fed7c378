"""Facets: what a result set holds by site, category, tag and month, counted with NumPy.

Every document carries integer codes in column fields (see ``index.article_document``):
a 63-bit hash of its folded site, of its category, and of each of its tags
(several per document, packed in a bytes column); its date is the ``time_key``
column, and the story it belongs to (near-identical articles share one) the
``story`` column.  The columns are read a segment at a time, straight from the
segment's file into arrays, and kept per segment (a segment never changes; its
deletions are in the snapshot's ``live`` mask), so the first search after an
import reads only the new segments.

Counting a facet is ``np.unique`` over the codes of the matching documents, so
its cost follows the size of the result set, never the size of the archive; a
value's label (its spelling as written) is read from one document that has it,
only for the values shown.  Filters (``site=``, ``category=``, ``tag=``, a date
range) are masks over the same arrays, and each facet is counted with every
filter applied but its own.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from hashlib import blake2b
from typing import Any

import numpy as np
from whoosh.columns import NumericColumn, VarBytesColumn

from indexer.dates import TOKYO
from indexer.postings import Snapshot

# Values shown per facet (site, category, tag); months are all shown, in order.
FACET_LIMIT = 10
# Column arrays of segments kept per process, by segment and column: about 8 bytes a value.
CACHED_COLUMN_VALUES = 8_000_000
FACETS = ("site", "category", "tag", "month")
_TOKYO_OFFSET = 9 * 3600  # Japan has kept no daylight saving time since 1951
_EMPTY = np.zeros(0, dtype=np.int64)


def fold(value: str | None) -> str:
    """A value as facets compare it: width and case folded, outer spaces dropped."""
    return unicodedata.normalize("NFKC", value or "").casefold().strip()


def value_code(value: str | None) -> int:
    """A value's code in the index: a positive 63-bit hash of its folded form; 0 for none."""
    folded = fold(value)
    if not folded:
        return 0
    digest = blake2b(folded.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def tag_codes(tags: Iterable[str]) -> bytes:
    """The codes of an article's tags, packed for the ``tag_codes`` column."""
    codes = sorted({c for c in (value_code(t) for t in tags) if c})
    return np.array(codes, dtype=">i8").tobytes()


# Months as numbers: 0 is January 1970, -1 December 1969.


def month_number(year: int, month: int) -> int:
    return (year - 1970) * 12 + month - 1


def month_text(number: int) -> str:
    year, month = divmod(number, 12)
    return f"{year + 1970:04d}-{month + 1:02d}"


def month_bounds(text: str) -> tuple[date, date]:
    """The first and last day of a ``YYYY-MM`` month; ``ValueError`` if it is not one."""
    year, _, month = text.partition("-")
    first = date(int(year), int(month), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class Filters:
    """What the results are narrowed to, besides the query: exact values and a date range."""

    site: str | None = None
    category: str | None = None
    tag: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def active(self) -> bool:
        return any(fold(v) for v in (self.site, self.category, self.tag)) or bool(
            self.date_from or self.date_to
        )

    def to_json(self) -> dict[str, str | None]:
        return {
            "site": self.site or None,
            "category": self.category or None,
            "tag": self.tag or None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: what its filter takes, and how many matching articles have it."""

    value: str
    count: int
    active: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass(frozen=True)
class Facets:
    """Counts of the matching articles (every copy of a story counted) per facet value.

    Each facet is counted with every active filter applied except its own:
    the site counts say how many there would be on choosing that site instead.
    """

    site: tuple[FacetValue, ...] = ()
    category: tuple[FacetValue, ...] = ()
    tag: tuple[FacetValue, ...] = ()
    # Every month with matches, oldest first ("YYYY-MM"); the date range is not applied.
    month: tuple[FacetValue, ...] = ()
    undated: int = 0  # matching articles without a date (in no month)

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [v.to_json() for v in getattr(self, name)] for name in FACETS}

    @property
    def years(self) -> tuple[tuple[str, int, tuple[FacetValue, ...]], ...]:
        """The months grouped by year, newest year first: (year, count, months)."""
        by_year: dict[str, list[FacetValue]] = {}
        for value in self.month:
            by_year.setdefault(value.value[:4], []).append(value)
        return tuple(
            (year, sum(v.count for v in months), tuple(months))
            for year, months in sorted(by_year.items(), reverse=True)
        )


class _ColumnCache:
    """Column arrays of segments, least recently used dropped first."""

    def __init__(self, capacity: int = CACHED_COLUMN_VALUES) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], value: Any, size: int) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self._size += size + 1
            while self._size > self.capacity and len(self._entries) > 1:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= dropped + 1


_SEGMENTS = _ColumnCache()


def _segment_numbers(segreader, name: str) -> np.ndarray:
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


def _segment_code_lists(segreader, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bytes column of packed codes as (documents' value counts, all values in order).

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


class Columns:
    """The facet columns of one snapshot, as arrays by global document number."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._numbers: dict[str, np.ndarray] = {}
        self._lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def _per_segment(self, name: str, read: Callable, size: Callable) -> list:
        """``read(segreader, name)`` of every segment, kept per segment across generations."""
        parts = []
        with self.snapshot.lock:
            for segreader, _, segid in self.snapshot.segments():
                key = (segid, name)
                cached = _SEGMENTS.get(key)
                if cached is None:
                    value = read(segreader, name)
                    _SEGMENTS.put(key, value, size(value))
                else:
                    value = cached[0]
                parts.append(value)
        return parts

    def numbers(self, name: str) -> np.ndarray:
        found = self._numbers.get(name)
        if found is None:
            parts = self._per_segment(name, _segment_numbers, len)
            found = np.concatenate(parts) if parts else _EMPTY
            self._numbers[name] = found
        return found

    def lists(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A multi-valued column: (row start of each document, plus one past the last; values)."""
        found = self._lists.get(name)
        if found is None:
            pairs = self._per_segment(
                name, _segment_code_lists, lambda pair: len(pair[0]) + len(pair[1])
            )
            count = np.concatenate([p[0] for p in pairs]) if pairs else _EMPTY
            starts = np.zeros(len(count) + 1, dtype=np.int64)
            np.cumsum(count, out=starts[1:])
            found = (starts, np.concatenate([p[1] for p in pairs]) if pairs else _EMPTY)
            self._lists[name] = found
        return found

    def months(self, ids: np.ndarray) -> np.ndarray:
        """Each document's month number (Tokyo time); undated documents get no meaning here."""
        seconds = self.numbers("time_key")[ids] + _TOKYO_OFFSET
        return seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)

    def rows(self, name: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values of a multi-valued column for ``ids``: (index into ``ids``, value) pairs."""
        starts, values = self.lists(name)
        first, last = starts[ids], starts[ids + 1]
        sizes = last - first
        total = int(sizes.sum())
        if not total:
            return _EMPTY, _EMPTY
        row = np.repeat(np.arange(len(ids), dtype=np.int64), sizes)
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return row, values[np.repeat(first, sizes) + offsets]


def _day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=TOKYO).timestamp())


@dataclass
class Narrowed:
    """Which matching documents each filter keeps (masks over the matches)."""

    masks: dict[str, np.ndarray] = field(default_factory=dict)
    size: int = 0

    def all(self, *, but: str | None = None) -> np.ndarray:
        keep = np.ones(self.size, dtype=bool)
        for name, mask in self.masks.items():
            if name != but:
                keep &= mask
        return keep


def narrow(columns: Columns, ids: np.ndarray, filters: Filters) -> Narrowed:
    """The masks of ``filters`` over the documents ``ids``, one per active filter."""
    found = Narrowed(size=len(ids))
    for name, value in (("site", filters.site), ("category", filters.category)):
        if fold(value):
            found.masks[name] = columns.numbers(f"{name}_code")[ids] == value_code(value)
    if fold(filters.tag):
        row, codes = columns.rows("tag_codes", ids)
        mask = np.zeros(len(ids), dtype=bool)
        mask[row[codes == value_code(filters.tag)]] = True
        found.masks["tag"] = mask
    if filters.date_from or filters.date_to:
        times = columns.numbers("time_key")[ids]
        mask = columns.numbers("undated")[ids] == 0  # an undated article is in no range
        if filters.date_from:
            mask &= times >= _day_start(filters.date_from)
        if filters.date_to:
            mask &= times < _day_start(filters.date_to + timedelta(days=1))
        found.masks["date"] = mask
    return found


class Labels:
    """Each code's label (the value as an article writes it), remembered once read."""

    CAPACITY = 50_000

    def __init__(self) -> None:
        self._labels: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, facet: str, code: int) -> str | None:
        with self._lock:
            return self._labels.get((facet, code))

    def put(self, facet: str, code: int, label: str) -> None:
        with self._lock:
            self._labels[(facet, code)] = label
            while len(self._labels) > self.CAPACITY:
                self._labels.popitem(last=False)


def _top(values: np.ndarray, limit: int | None, keep: int = 0) -> list[tuple[int, int]]:
    """The most frequent non-zero values, most first (ties by value); ``keep`` always in."""
    values = values[values != 0]
    if not len(values):
        return []
    codes, counts = np.unique(values, return_counts=True)
    order = np.lexsort((codes, -counts))
    chosen = order if limit is None else order[:limit]
    pairs = [(int(codes[i]), int(counts[i])) for i in chosen]
    if keep and all(code != keep for code, _ in pairs):
        at = np.flatnonzero(codes == keep)
        if len(at):
            pairs.append((keep, int(counts[at[0]])))
    return pairs


def count_facets(
    columns: Columns,
    labels: Labels,
    ids: np.ndarray,
    narrowed: Narrowed,
    filters: Filters,
    limit: int = FACET_LIMIT,
) -> Facets:
    """The facets of the matches ``ids``, each with every filter applied but its own."""
    snapshot = columns.snapshot

    def label(facet: str, code: int, docnum: int, read) -> str:
        found = labels.get(facet, code)
        if found is None:
            found = read(snapshot.stored_fields(docnum)) or ""
            labels.put(facet, code, found)
        return found

    out: dict[str, Any] = {}
    for facet in ("site", "category"):
        chosen = ids[narrowed.all(but=facet)]
        codes = columns.numbers(f"{facet}_code")[chosen]
        active = value_code(getattr(filters, facet))
        values = []
        for code, count in _top(codes, limit, active):
            docnum = int(chosen[np.argmax(codes == code)])
            text = label(facet, code, docnum, lambda f, facet=facet: f.get(facet))
            values.append(FacetValue(text, count, code == active))
        out[facet] = tuple(values)

    chosen = ids[narrowed.all(but="tag")]
    row, codes = columns.rows("tag_codes", chosen)
    active = value_code(filters.tag)
    tags = []
    for code, count in _top(codes, limit, active):
        docnum = int(chosen[row[np.argmax(codes == code)]])

        def tag_label(stored, code=code):
            return next((t for t in stored.get("tag_list") or () if value_code(t) == code), "")

        tags.append(FacetValue(label("tag", code, docnum, tag_label), count, code == active))
    out["tag"] = tuple(tags)

    chosen = ids[narrowed.all(but="date")]
    dated = chosen[columns.numbers("undated")[chosen] == 0]
    months = columns.months(dated)
    selected = _selected_months(filters)
    month_values = []
    if len(months):
        numbers, counts = np.unique(months, return_counts=True)
        for number, count in zip(numbers.tolist(), counts.tolist(), strict=True):
            text = month_text(number)
            month_values.append(FacetValue(text, count, text in selected))
    out["month"] = tuple(month_values)
    return Facets(**out, undated=len(chosen) - len(dated))


def _selected_months(filters: Filters) -> set[str]:
    """The months wholly inside the date range (none when there is no range)."""
    if not (filters.date_from and filters.date_to):
        return set()
    start = month_number(filters.date_from.year, filters.date_from.month)
    end = month_number(filters.date_to.year, filters.date_to.month)
    if end - start > 1200:
        return set()
    selected = set()
    for number in range(start, end + 1):
        first, last = month_bounds(month_text(number))
        if filters.date_from <= first and last <= filters.date_to:
            selected.add(month_text(number))
    return selected
