"""Facets: what a result set holds by site, category, tag and month, counted with NumPy.

Every document carries integer codes in column fields
(:func:`indexer.engine.value_code`): a 63-bit hash of its folded site, of its
category, and of each of its tags (several per document, packed in a bytes
column); its date is the ``time_key`` column, and the story it belongs to
(near-identical articles share one) the ``story`` column.  The snapshot reads
the columns as arrays, a segment at a time, and keeps them.

Counting a facet is ``np.unique`` over the codes of the matching documents, so
its cost follows the size of the result set, never the size of the archive; a
value's label (its spelling as written) is read from one document that has it,
only for the values shown.  Filters (``site=``, ``category=``, ``tag=``,
``person=``, ``org=``, ``place=``, each of one value or several, with values
left out; a date range, or no date) are
masks over the same arrays, and each facet is counted with every filter
applied but its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from indexer.engine import ENTITY_KINDS, LRU, Snapshot, fold, value_code
from indexer.readers.dates import TOKYO

# Values shown per facet (site, category, tag); months are all shown, in order.
FACET_LIMIT = 10
# Facets whose values are lists per article (``{name}_codes`` columns, ``{name}_list``
# stored labels): the tags, and the people, organisations and places named.
LIST_FACETS = ("tag", *ENTITY_KINDS)
FACETS = ("site", "category", *LIST_FACETS, "month")
_TOKYO_OFFSET = 9 * 3600  # Japan has kept no daylight saving time since 1951


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


# The facets whose values filter: any of several chosen (OR), and some left out.
VALUE_FACETS = ("site", "category", *LIST_FACETS)
Chosen = str | tuple[str, ...] | None


@dataclass(frozen=True)
class Filters:
    """What the results are narrowed to, besides the query: exact values and a date range.

    ``site``, ``category``, ``tag``, ``person``, ``org`` and ``place`` each
    take one value or several (an
    article with any of them is kept); ``excluded`` leaves out the articles
    with a value, as ``(facet, value)`` pairs; ``undated`` keeps only the
    articles without a date.
    """

    site: Chosen = None
    category: Chosen = None
    tag: Chosen = None
    date_from: date | None = None
    date_to: date | None = None
    excluded: tuple[tuple[str, str], ...] = ()
    undated: bool = False
    person: Chosen = None
    org: Chosen = None
    place: Chosen = None

    def chosen(self, facet: str) -> tuple[str, ...]:
        """The values of ``facet`` an article may have to be kept (none: any)."""
        value = getattr(self, facet)
        values = (value,) if isinstance(value, str) else value or ()
        return tuple(v for v in values if fold(v))

    def left_out(self, facet: str) -> tuple[str, ...]:
        """The values of ``facet`` whose articles are left out."""
        return tuple(v for name, v in self.excluded if name == facet and fold(v))

    @property
    def active(self) -> bool:
        return any(self.chosen(f) or self.left_out(f) for f in VALUE_FACETS) or bool(
            self.date_from or self.date_to or self.undated
        )

    def to_json(self) -> dict[str, Any]:
        def shown(facet: str) -> str | list[str] | None:
            values = self.chosen(facet)
            return (values[0] if len(values) == 1 else list(values)) if values else None

        return {
            "site": shown("site"),
            "category": shown("category"),
            "tag": shown("tag"),
            **{kind: shown(kind) for kind in ENTITY_KINDS},
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "excluded": {f: list(self.left_out(f)) for f in VALUE_FACETS if self.left_out(f)},
            "undated": self.undated,
        }


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: what its filter takes, and how many matching articles have it."""

    value: str
    count: int
    active: bool = False
    excluded: bool = False  # its articles are left out of the results

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
    # The people, organisations and places named (each article once per name).
    person: tuple[FacetValue, ...] = ()
    org: tuple[FacetValue, ...] = ()
    place: tuple[FacetValue, ...] = ()
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


def months(snapshot: Snapshot, ids: np.ndarray) -> np.ndarray:
    """Each document's month number (Tokyo time); undated documents get no meaning here."""
    seconds = snapshot.column("time_key")[ids] + _TOKYO_OFFSET
    return seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


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


def narrow(snapshot: Snapshot, ids: np.ndarray, filters: Filters) -> Narrowed:
    """The masks of ``filters`` over the documents ``ids``, one per active filter."""
    found = Narrowed(size=len(ids))
    for name in VALUE_FACETS:
        chosen, left_out = _codes(filters.chosen(name)), _codes(filters.left_out(name))
        if not (len(chosen) or len(left_out)):
            continue
        if name in LIST_FACETS:
            row, codes = snapshot.column_rows(f"{name}_codes", ids)
            mask = np.zeros(len(ids), dtype=bool) if len(chosen) else np.ones(len(ids), dtype=bool)
            mask[row[np.isin(codes, chosen)]] = True
            mask[row[np.isin(codes, left_out)]] = False
        else:
            codes = snapshot.column(f"{name}_code")[ids]
            mask = np.isin(codes, chosen) if len(chosen) else np.ones(len(ids), dtype=bool)
            mask &= ~np.isin(codes, left_out)
        found.masks[name] = mask
    if filters.date_from or filters.date_to or filters.undated:
        times = snapshot.column("time_key")[ids]
        dated = snapshot.column("undated")[ids] == 0
        # An undated article is in no range: asking for both keeps nothing.
        mask = ~dated if filters.undated else dated
        if filters.date_from:
            mask &= dated & (times >= _day_start(filters.date_from))
        if filters.date_to:
            mask &= dated & (times < _day_start(filters.date_to + timedelta(days=1)))
        found.masks["date"] = mask
    return found


def _codes(values: tuple[str, ...]) -> np.ndarray:
    """The values' codes, as the columns hold them."""
    return np.array([value_code(v) for v in values], dtype=np.int64)


class Labels:
    """Each code's label (the value as an article writes it), remembered once read."""

    CAPACITY = 50_000

    def __init__(self) -> None:
        self._labels: LRU[tuple[str, int], str] = LRU(self.CAPACITY)

    def get(self, facet: str, code: int) -> str | None:
        return self._labels.get((facet, code))

    def put(self, facet: str, code: int, label: str) -> None:
        self._labels.put((facet, code), label)


def _top(values: np.ndarray, limit: int | None, keep: set[int]) -> list[tuple[int, int]]:
    """The most frequent non-zero values, most first (ties by value); those in ``keep`` always in."""
    values = values[values != 0]
    if not len(values):
        return []
    codes, counts = np.unique(values, return_counts=True)
    order = np.lexsort((codes, -counts))
    chosen = order if limit is None else order[:limit]
    pairs = [(int(codes[i]), int(counts[i])) for i in chosen]
    shown = {code for code, _ in pairs}
    for code in sorted(keep - shown):
        at = np.flatnonzero(codes == code)
        if len(at):
            pairs.append((code, int(counts[at[0]])))
    return pairs


def count_facets(
    snapshot: Snapshot,
    labels: Labels,
    ids: np.ndarray,
    narrowed: Narrowed,
    filters: Filters,
    limit: int = FACET_LIMIT,
) -> Facets:
    """The facets of the matches ``ids``, each with every filter applied but its own."""

    def label(facet: str, code: int, docnum: int, read) -> str:
        found = labels.get(facet, code)
        if found is None:
            found = read(snapshot.stored_fields(docnum)) or ""
            labels.put(facet, code, found)
        return found

    out: dict[str, Any] = {}

    def marks(facet: str) -> tuple[set[int], set[int]]:
        return (
            {value_code(v) for v in filters.chosen(facet)},
            {value_code(v) for v in filters.left_out(facet)},
        )

    for facet in ("site", "category"):
        chosen = ids[narrowed.all(but=facet)]
        codes = snapshot.column(f"{facet}_code")[chosen]
        active, left_out = marks(facet)
        values = []
        for code, count in _top(codes, limit, active | left_out):
            docnum = int(chosen[np.argmax(codes == code)])
            text = label(facet, code, docnum, lambda f, facet=facet: f.get(facet))
            values.append(FacetValue(text, count, code in active, code in left_out))
        out[facet] = tuple(values)

    for facet in LIST_FACETS:
        chosen = ids[narrowed.all(but=facet)]
        row, codes = snapshot.column_rows(f"{facet}_codes", chosen)
        active, left_out = marks(facet)
        values = []
        for code, count in _top(codes, limit, active | left_out):
            docnum = int(chosen[row[np.argmax(codes == code)]])

            def list_label(stored, code=code, facet=facet):
                listed = stored.get(f"{facet}_list") or ()
                return next((t for t in listed if value_code(t) == code), "")

            text = label(facet, code, docnum, list_label)
            values.append(FacetValue(text, count, code in active, code in left_out))
        out[facet] = tuple(values)

    chosen = ids[narrowed.all(but="date")]
    dated = chosen[snapshot.column("undated")[chosen] == 0]
    months_of = months(snapshot, dated)
    selected = _selected_months(filters)
    month_values = []
    if len(months_of):
        numbers, counts = np.unique(months_of, return_counts=True)
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
