"""One moment of the index, read as arrays: posting lists, positions, field lengths, columns.

A :class:`Snapshot` holds the segments of one generation of the index's
table of contents, and answers what searching, marking, facets and checks
need from them: a term's postings over the whole index as two NumPy arrays
(document numbers and frequencies), the positions and character offsets of
a term in some documents, each document's field lengths and column values,
stored fields, term statistics, and the few things only Whoosh's own
searcher does (an article's key terms, a search scored Whoosh's way).

Posting lists and column arrays are kept per segment and process
(:mod:`indexer.engine.cache`), so an import that adds a segment leaves the
rest read; positions are decoded only for the documents that need them.
Everything here may be called from several threads: Whoosh's files are read
with seek-then-read, so reads go one at a time under the snapshot's lock.

What reading a file cut short, overwritten or gone raises is
:data:`READ_FAILURES`; :func:`damaged` turns it into the error a user sees.
"""

from __future__ import annotations

import logging
import math
import pickle
import struct
import threading
import weakref
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.formats import Characters, Positions
from whoosh.index import Index
from whoosh.reading import IndexReader
from whoosh.scoring import WeightingModel
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from indexer.engine.cache import LRU
from indexer.engine.columns import per_segment, segment_code_lists, segment_numbers
from indexer.engine.postings import (
    NO_POSTINGS,
    SegmentListing,
    SegmentPostings,
    decode_many,
    open_listing,
    read_block,
    read_segment_postings,
)
from indexer.errors import IndexDamaged

log = logging.getLogger(__name__)

# Decoded posting lists kept per process, by segment and term: a common word's
# list is read once, not on every search.  About 12 bytes a posting.
CACHED_POSTINGS = 4_000_000
# Blocks of positions kept per snapshot, for phrases and highlighting.
CACHED_BLOCKS = 20_000
# What Whoosh raises when it reads a file of the index that is cut short,
# overwritten or gone (a search says so, and ``check`` reports it, never a 500).
READ_FAILURES = (
    OSError,
    EOFError,
    struct.error,
    zlib.error,
    pickle.UnpicklingError,
    ValueError,
    IndexError,
    KeyError,
)

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float64)


def _postings_weight(postings: SegmentPostings) -> int:
    return postings.size + 1


def posting_cache() -> LRU[tuple[str, str, str], SegmentPostings]:
    """A cache of decoded posting lists by (segment, field, term), for snapshots to share."""
    return LRU(CACHED_POSTINGS, _postings_weight)


def damaged(exc: BaseException) -> IndexDamaged:
    """The error a user sees for ``exc``, one of :data:`READ_FAILURES` (logged in full)."""
    log.warning("the index cannot be read", exc_info=exc)
    return IndexDamaged(
        f"索引のファイルが壊れているか、欠けています（{exc.__class__.__name__}）。"
        "python -m indexer reindex で作り直してください。"
    )


@dataclass(frozen=True)
class Postings:
    """A term's postings across the whole index: global document numbers, sorted."""

    field: str
    term: str
    ids: np.ndarray
    weights: np.ndarray
    # The number of documents with the term, deleted ones included (Whoosh's idf counts them).
    doc_frequency: int

    def __len__(self) -> int:
        return len(self.ids)


def _close_all(searcher: Searcher, listings: dict[str, SegmentListing | None]) -> None:
    searcher.close()
    for listing in listings.values():
        if listing is not None:
            listing.close()


class Snapshot:
    """The index as of one generation of its table of contents, read on demand.

    Snapshots given one ``postings`` cache (:func:`posting_cache`) share what
    they decoded: the segments a new generation keeps are not read again.
    """

    def __init__(self, ix: Index, postings: LRU | None = None) -> None:
        self._index = ix
        self._cache = posting_cache() if postings is None else postings
        self._searcher = ix.searcher()
        self._reader: IndexReader = self._searcher.reader()
        self._lock = threading.RLock()
        self._leaves = [
            (r, base, r.segment().segment_id()) for r, base in self._reader.leaf_readers()
        ]
        self.doc_count_all: int = self._reader.doc_count_all()
        live = np.ones(self.doc_count_all, dtype=bool)
        for segreader, base, _ in self._leaves:
            for docnum in segreader.segment().deleted_docs() if segreader.has_deletions() else ():
                live[base + docnum] = False
        # Which document numbers are live (not deleted).
        self.live: np.ndarray = live
        self._lengths: dict[str, np.ndarray] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._postings: dict[tuple[str, str], Postings] = {}
        # Blocks whose values (positions, offsets) were read, by reader and file offset.
        self._blocks: LRU[tuple[int, int], Sequence[bytes]] = LRU(CACHED_BLOCKS)
        self._generation = ix.latest_generation()
        # Each segment's listing, opened at its first use (None: it has none).
        self._listings: dict[str, SegmentListing | None] = {}
        # Closed when the snapshot is dropped, so a forgotten one never leaks its files.
        self._close = weakref.finalize(self, _close_all, self._searcher, self._listings)

    def segments(self) -> list[tuple[Any, int, str]]:
        """The segments read: (segment reader, its first global document number, segment id)."""
        return list(self._leaves)

    def is_current(self) -> bool:
        """Whether the index on disk is still the one this snapshot read."""
        return self._index.latest_generation() == self._generation

    def close(self) -> None:
        with self._lock:
            self._close()

    # Terms

    def postings(self, field: str, term: str) -> Postings:
        key = (field, term)
        found = self._postings.get(key)
        if found is not None:
            return found
        with self._lock:
            parts = [
                (self._segment_postings(r, segid, field, term), base)
                for r, base, segid in self._leaves
            ]
        ids = np.concatenate([p.ids + base for p, base in parts]) if parts else _EMPTY_IDS
        weights = np.concatenate([p.weights for p, _ in parts]) if parts else _EMPTY_WEIGHTS
        frequency = int(len(ids))
        if len(ids):
            keep = self.live[ids]
            if not keep.all():
                ids, weights = ids[keep], weights[keep]
        found = Postings(field, term, ids, weights, frequency)
        self._postings[key] = found
        return found

    def _segment_postings(self, segreader, segid: str, field: str, term: str) -> SegmentPostings:
        key = (segid, field, term)
        found = self._cache.get(key)
        if found is None:
            try:
                btext = segreader._text_to_bytes(field, term)
            except ValueError:
                return NO_POSTINGS
            listing = self.listing(segreader, segid)
            found = self._cache.put(key, read_segment_postings(segreader, field, btext, listing))
        return found

    def listing(self, segreader, segid: str) -> SegmentListing | None:
        """A segment's listing (common terms' postings, flat), or None when it has none."""
        if segid not in self._listings:
            with self._lock:
                if segid not in self._listings:
                    self._listings[segid] = open_listing(segreader)
        return self._listings[segid]

    def idf(self, postings: Postings) -> float:
        """Whoosh's idf: log(N / (df + 1)) + 1, deleted documents counted on both sides."""
        return math.log(self.doc_count_all / (postings.doc_frequency + 1)) + 1

    def doc_frequency(self, field: str, term: str) -> int:
        """How many documents hold ``term`` in ``field``, deleted ones included."""
        with self._lock:
            return self._reader.doc_frequency(field, term)

    def terms_starting(self, field: str, prefix: str, limit: int) -> list[str]:
        """The first ``limit`` terms of ``field`` that start with ``prefix``, in order."""
        with self._lock:
            terms = list(islice(self._reader.expand_prefix(field, prefix), limit))
        return [term.decode("utf-8") if isinstance(term, bytes) else term for term in terms]

    # Where a term stands in some documents

    def values(self, field: str, term: str, docnums: Iterable[int]) -> dict[int, bytes]:
        """The stored value (positions, characters) of ``term`` in each of ``docnums`` that has it."""
        wanted = np.unique(np.fromiter(docnums, dtype=np.int64))
        out: dict[int, bytes] = {}
        if not len(wanted):
            return out
        with self._lock:
            for segreader, base, segid in self._leaves:
                end = base + segreader.doc_count_all()
                local = wanted[(wanted >= base) & (wanted < end)] - base
                if not len(local):
                    continue
                seg = self._segment_postings(segreader, segid, field, term)
                if not seg.size:
                    continue
                found = np.searchsorted(seg.ids, local)
                inside = found < seg.size
                inside[inside] = seg.ids[found[inside]] == local[inside]
                docs = (local[inside] + base).tolist()
                indexes = found[inside].tolist()
                if not docs:
                    continue
                if seg.values is not None:
                    out.update(zip(docs, (seg.values[i] for i in indexes), strict=True))
                    continue
                out.update(self._block_values(segreader, seg, docs, indexes))
        return out

    def _block_values(self, segreader, seg: SegmentPostings, docs: list[int], indexes: list[int]):
        """Values of the postings at ``indexes`` (of ``docs``), reading each block once."""
        blocks = (np.searchsorted(seg.block_firsts, indexes, side="right") - 1).tolist()
        firsts = seg.block_firsts.tolist()
        positions = seg.block_positions.tolist()
        last, values = -1, ()
        for doc, index, block in zip(docs, indexes, blocks, strict=True):
            if block != last:  # indexes ascend, so each block comes once
                last = block
                values = self._values_of_block(segreader, positions[block])
            yield doc, values[index - firsts[block]]

    def _values_of_block(self, segreader, position: int) -> Sequence[bytes]:
        key = (id(segreader), position)
        found = self._blocks.get(key)
        if found is None:
            found = self._blocks.put(key, read_block(segreader._terms._postfile, position)[0][2])
        return found

    def positions(self, field: str, term: str, docnums: Iterable[int]) -> dict[int, list[int]]:
        field_format = self._format(field)
        return {
            d: field_format.decode_positions(v)
            for d, v in self.values(field, term, docnums).items()
        }

    def position_keys(self, field: str, term: str, docnums: Iterable[int]) -> np.ndarray:
        """Every position of ``term`` in ``docnums``, as one sorted array of ``doc << 32 | position``.

        What a phrase over thousands of documents checks with a few array
        operations instead of a loop per document.
        """
        values = self.values(field, term, docnums)
        if not values:
            return _EMPTY_IDS
        docs = np.fromiter(values, dtype=np.int64, count=len(values))
        field_format = self._format(field)
        kind = type(field_format)
        if kind in (Positions, Characters):
            codes = decode_many(list(values.values()))
            lengths = np.fromiter(map(len, codes), dtype=np.int64, count=len(codes))
            total = int(lengths.sum())
            if kind is Characters:  # (position, start, length) deltas: the first is the position's
                flat = np.fromiter(chain.from_iterable(codes), np.dtype((np.int64, 3)), total)
                deltas = flat[:, 0]
            else:
                deltas = np.fromiter(chain.from_iterable(codes), dtype=np.int64, count=total)
            running = np.cumsum(deltas)
            before = np.concatenate(([0], running))[np.cumsum(lengths) - lengths]
            positions = running - np.repeat(before, lengths)
        else:
            lists = [field_format.decode_positions(v) for v in values.values()]
            lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            positions = np.fromiter(chain.from_iterable(lists), np.int64, int(lengths.sum()))
        return (np.repeat(docs, lengths) << 32) | positions

    def characters(
        self, field: str, term: str, docnums: Iterable[int]
    ) -> dict[int, list[tuple[int, int, int]]]:
        """Each of ``docnums``' (position, start, end) of ``term`` in ``field``, which keeps them."""
        field_format = self._format(field)
        return {
            d: field_format.decode_characters(v)
            for d, v in self.values(field, term, docnums).items()
        }

    def _format(self, field: str):
        return self._reader.schema[field].format

    # Per document

    def lengths(self, field: str) -> np.ndarray:
        """Each document's length in ``field`` as Whoosh scores it (a one-byte approximation)."""
        found = self._lengths.get(field)
        if found is None:
            with self._lock:
                parts = []
                for segreader, _, _ in self._leaves:
                    perdoc = segreader._perdoc
                    column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
                    count = segreader.doc_count_all()
                    codes = (
                        np.zeros(count, dtype=np.uint8)
                        if column is None
                        else np.fromiter(
                            (column[d] for d in range(count)), dtype=np.uint8, count=count
                        )
                    )
                    parts.append(_LENGTH_OF_BYTE[codes])
                found = np.concatenate(parts) if parts else _EMPTY_WEIGHTS
            self._lengths[field] = found
        return found

    def average_length(self, field: str) -> float:
        """Whoosh's average field length: total length over every document, deleted ones too."""
        return (self._reader.field_length(field) / (self.doc_count_all or 1)) or 1

    def column(self, name: str) -> np.ndarray:
        """A numeric column field's value for every document (kept per segment)."""
        found = self._columns.get(name)
        if found is None:
            with self._lock:
                parts = [
                    per_segment(segid, name, lambda r=segreader: segment_numbers(r, name), len)
                    for segreader, _, segid in self._leaves
                ]
            found = np.concatenate(parts) if parts else _EMPTY_IDS
            self._columns[name] = found
        return found

    def column_lists(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A column of code lists: (row start of each document, plus one past the last; values)."""
        found = self._lists.get(name)
        if found is None:
            with self._lock:
                pairs = [
                    per_segment(
                        segid,
                        name,
                        lambda r=segreader: segment_code_lists(r, name),
                        lambda pair: len(pair[0]) + len(pair[1]),
                    )
                    for segreader, _, segid in self._leaves
                ]
            count = np.concatenate([p[0] for p in pairs]) if pairs else _EMPTY_IDS
            starts = np.zeros(len(count) + 1, dtype=np.int64)
            np.cumsum(count, out=starts[1:])
            found = (starts, np.concatenate([p[1] for p in pairs]) if pairs else _EMPTY_IDS)
            self._lists[name] = found
        return found

    def column_rows(self, name: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values of a column of code lists for ``ids``: (index into ``ids``, value) pairs."""
        starts, values = self.column_lists(name)
        first, last = starts[ids], starts[ids + 1]
        sizes = last - first
        total = int(sizes.sum())
        if not total:
            return _EMPTY_IDS, _EMPTY_IDS
        row = np.repeat(np.arange(len(ids), dtype=np.int64), sizes)
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return row, values[np.repeat(first, sizes) + offsets]

    def stored_fields(self, docnum: int) -> dict:
        with self._lock:
            return self._searcher.stored_fields(docnum)

    def document_number(self, article_id: int) -> int | None:
        """The live document of this article, if the index holds it."""
        ids = self.postings("id", str(article_id)).ids
        return int(ids[0]) if len(ids) else None

    # What only Whoosh's own searcher does

    def key_terms(self, field: str, text: str, count: int) -> list[tuple[str, float]]:
        """The terms of ``text`` that best tell it apart in ``field`` (Whoosh's Bo1 model)."""
        with self._lock:
            return self._searcher.key_terms_from_text(field, text, numterms=count)

    def top(
        self,
        query: wq.Query,
        weighting: WeightingModel,
        limit: int | None,
        within: set[int] | None = None,
    ) -> list[tuple[int, float]]:
        """Whoosh's own search of ``query``: (document, score), best first, ties by document."""
        with self._lock:
            searcher = Searcher(self._reader, weighting=weighting, closereader=False)
            results = searcher.search(query, limit=limit, filter=within)
            return [(hit.docnum, hit.score) for hit in results]

    # Checks

    def read_through(self) -> None:
        """Read every segment's term table and check that every posting list lies in its file.

        Raises one of :data:`READ_FAILURES` (naming what cannot be read) when a
        file is cut short or gone, as a search reading it would.
        """
        with self._lock:
            for segreader, _, segid in self._leaves:
                terms = segreader._terms
                terms._postfile.seek(0, 2)
                size = terms._postfile.tell()
                for (field, text), info in terms.items():
                    if info.is_inlined():
                        continue
                    offset, length = info.extent()
                    if isinstance(length, tuple):
                        length = length[0]  # W3TermInfo.from_bytes leaves it a 1-tuple
                    if offset + length > size:
                        raise EOFError(
                            f"the postings of {field}:{text!r} end at {offset + length}, "
                            f"past the end of the file ({size} bytes)"
                        )
                if segreader.doc_count_all():
                    segreader.stored_fields(segreader.doc_count_all() - 1)
                listing = self.listing(segreader, segid)
                if listing is not None:
                    for field, btext, _, offset, length in listing.entries():
                        if offset + length > listing.size:
                            raise EOFError(
                                f"the listed postings of {field}:{btext!r} end past the end of "
                                f"{listing.path.name} ({listing.size} bytes)"
                            )
