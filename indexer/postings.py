"""One moment of the index read as arrays: posting lists, field lengths, date columns.

Whoosh answers a query by walking matcher objects posting by posting in
Python, which costs more than the search itself on a large archive (~60 ms a
query on 7,000 articles, growing with the archive).  A :class:`Snapshot`
reads what a query needs straight from the segments instead: a term's
posting list becomes two NumPy arrays (document numbers and term
frequencies), decoded a block at a time and cached per segment, so the
second search for a common word costs no reading at all.  Positions (and
character offsets, for highlighting) are decoded only for the documents
that need them.

This reads Whoosh's on-disk format (the W3 codec of whoosh-reloaded 2.7.5,
pinned in the lock) through a few of its private attributes; the tests
compare every answer with Whoosh's own search of the same query.
"""

from __future__ import annotations

import os
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from math import log
from pathlib import Path
from pickle import loads
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, _lenfield
from whoosh.formats import Characters, Positions
from whoosh.index import Index
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

from indexer.segments import LISTING_EXT, LISTING_MAGIC, LISTING_TAIL

# Decoded posting lists kept per process, by segment and term: a common word's
# list is read once, not on every search.  About 12 bytes a posting.
CACHED_POSTINGS = 4_000_000

# Blocks of positions kept per snapshot, for phrases and highlighting.
CACHED_BLOCKS = 20_000

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class SegmentPostings:
    """One term's postings in one segment: local document numbers and frequencies."""

    ids: np.ndarray
    weights: np.ndarray
    # Inlined postings keep their values here; block postings are re-read by block.
    values: tuple[bytes, ...] | None
    # Each block's first posting (its index in ``ids``) and its file offset
    # (W3LeafMatcher._goto), to read its values again when needed.
    block_firsts: np.ndarray
    block_positions: np.ndarray

    @property
    def size(self) -> int:
        return len(self.ids)


_NO_POSTINGS = SegmentPostings(_EMPTY_IDS, _EMPTY_WEIGHTS, (), _EMPTY_IDS, _EMPTY_IDS)


class PostingCache:
    """Decoded posting lists of segments, least recently used dropped first."""

    def __init__(self, capacity: int = CACHED_POSTINGS) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, str], SegmentPostings] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> SegmentPostings | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, str], postings: SegmentPostings) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = postings
            self._size += postings.size + 1
            while self._size > self.capacity and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                self._size -= dropped.size + 1


def _read_block(postfile, position: int) -> tuple[tuple, int | None]:
    """One block of a posting list: its (ids, weights, values) and where the next one starts.

    The layout is W3LeafMatcher's (``_goto`` and ``_read_data``): a length
    (negative for the last block), a pickled info tuple, then the data,
    compressed when the info says so.
    """
    postfile.seek(position)
    length = postfile.read_int()
    info = postfile.read_pickle()
    start = postfile.tell()
    end = position + _INT_SIZE + abs(length)
    raw = postfile.get(start, end - start)
    data = loads(zlib.decompress(raw) if info[3] else raw)
    return data, None if length < 0 else end


def read_segment_postings(
    segreader, field: str, btext: bytes, listing: SegmentListing | None
) -> SegmentPostings:
    """Every posting of a term in one segment, deleted documents included.

    From the segment's listing when it lists the term, else block by block.
    """
    if listing is not None and (found := listing.postings(field, btext)) is not None:
        return found
    terms = segreader._terms
    try:
        terminfo = terms.term_info(field, btext)
    except (TermNotFound, KeyError):
        return _NO_POSTINGS
    if terminfo.is_inlined():
        ids, weights, values = terminfo.inlined_postings()
        ids = np.asarray(ids, dtype=np.int64)
        weights = _block_weights(weights, len(ids))
        return SegmentPostings(ids, weights, tuple(values or ()), _EMPTY_IDS, _EMPTY_IDS)
    offset, _ = terminfo.extent()
    position: int | None = offset + len(WHOOSH3_HEADER_MAGIC)
    id_parts, weight_parts, firsts, positions = [], [], [], []
    count = 0
    while position is not None:
        data, following = _read_block(terms._postfile, position)
        ids = np.cumsum(np.asarray(data[0], dtype=np.int64))
        firsts.append(count)
        positions.append(position)
        id_parts.append(ids)
        weight_parts.append(_block_weights(data[1], len(ids)))
        count += len(ids)
        position = following
    return SegmentPostings(
        np.concatenate(id_parts),
        np.concatenate(weight_parts),
        None,
        np.array(firsts, dtype=np.int64),
        np.array(positions, dtype=np.int64),
    )


# A listed weight's type by its width in bytes.
_WEIGHT_TYPES = {1: "<u1", 4: "<f4"}


def _listed_length(count: int, blocks: int, width: int) -> int:
    return (4 + width) * count + 8 * blocks


class ListingDamaged(OSError):
    """A segment's listing is cut short or is not one (reported like a damaged Whoosh file)."""


class SegmentListing:
    """A segment's listing (:class:`indexer.segments.Listing`): common terms' postings, flat.

    Read with ``pread``, so threads need no lock; the directory is read once
    per process (segment files never change).  A listing that does not hold
    together raises what a damaged Whoosh file raises (``check`` reports it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        try:
            stat = os.fstat(self._fd)
            self.size = stat.st_size
            key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
            directory = _listing_directory(key, self._fd)
            self._block_size: int = directory["block_size"]
            self._terms: dict[str, dict[bytes, tuple[int, int, int, int]]] = directory["terms"]
        except BaseException:
            os.close(self._fd)
            raise

    def entries(self) -> Iterator[tuple[str, bytes, int, int, int]]:
        """Every listed term: (field, term, postings, offset, length in bytes)."""
        for field, terms in self._terms.items():
            for btext, (offset, count, blocks, width) in terms.items():
                yield field, btext, count, offset, _listed_length(count, blocks, width)

    def postings(self, field: str, btext: bytes) -> SegmentPostings | None:
        entry = self._terms.get(field, {}).get(btext)
        if entry is None:
            return None
        offset, count, blocks, width = entry
        length = _listed_length(count, blocks, width)
        data = os.pread(self._fd, length, offset)
        if len(data) != length or count > blocks * self._block_size:
            raise ListingDamaged(f"{self.path.name}: the listing of {field}:{btext!r} is cut short")
        return SegmentPostings(
            np.frombuffer(data, "<u4", count, 0).astype(np.int64),
            np.frombuffer(data, _WEIGHT_TYPES[width], count, 4 * count).astype(np.float64),
            None,
            np.arange(blocks, dtype=np.int64) * self._block_size,
            np.frombuffer(data, "<u8", blocks, (4 + width) * count).astype(np.int64),
        )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


_DIRECTORIES: OrderedDict[tuple, dict] = OrderedDict()
_DIRECTORIES_KEPT = 16
_directories_lock = threading.Lock()


def _listing_directory(key: tuple[str, int, int, int], fd: int) -> dict:
    """A listing's directory, unpickled once per process (the last few kept).

    Known by the file's path, inode, size and time, so that a file changed
    behind the index (which never happens to a sound one) is read again.
    """
    with _directories_lock:
        found = _DIRECTORIES.get(key)
        if found is not None:
            _DIRECTORIES.move_to_end(key)
            return found
    path, _, size, _ = key
    tail = LISTING_TAIL.size
    name = Path(path).name
    if size < len(LISTING_MAGIC) + tail or os.pread(fd, len(LISTING_MAGIC), 0) != LISTING_MAGIC:
        raise ListingDamaged(f"{name} is not a listing")
    (offset,) = LISTING_TAIL.unpack(os.pread(fd, tail, size - tail))
    if not len(LISTING_MAGIC) <= offset <= size - tail:
        raise ListingDamaged(f"{name}: the listing's directory is past its end")
    try:
        found = loads(os.pread(fd, size - tail - offset, offset))
        found["block_size"], found["terms"].items()  # noqa: B018 (what is read next)
    except Exception as exc:
        raise ListingDamaged(f"{name}: the listing's directory cannot be read ({exc!r})") from exc
    with _directories_lock:
        _DIRECTORIES[key] = found
        while len(_DIRECTORIES) > _DIRECTORIES_KEPT:
            _DIRECTORIES.popitem(last=False)
    return found


def open_listing(segreader) -> SegmentListing | None:
    """The listing of a segment reader's segment; None for a segment written without one."""
    folder = getattr(segreader.storage(), "folder", None)
    if folder is None:
        return None  # a compound segment
    path = Path(folder) / segreader.segment().make_filename(LISTING_EXT)
    try:
        return SegmentListing(path)
    except FileNotFoundError:
        return None


# How each Positions or Characters value starts: its count, then pickle protocol 2.
_VALUE_HEAD = _INT_SIZE + 2
_PICKLE_2 = b"\x80\x02"


def decode_many(values: Sequence[bytes]) -> list[list]:
    """The pickled codes of many Positions/Characters values, in one ``loads``.

    Each value is a count and a pickled list (what
    ``whoosh.formats.Positions.decode_positions`` unpickles one at a time,
    most of a phrase's cost over thousands of documents).  Their pickles,
    stripped of header and stop, are read as the items of one tuple; what
    each list stores in the memo is never read back, so the overlap is harmless.
    """
    if not all(v[_INT_SIZE:_VALUE_HEAD] == _PICKLE_2 for v in values):
        return [loads(_stopped(v[_INT_SIZE:])) for v in values]
    bodies = (v[_VALUE_HEAD:-1] if v.endswith(b".") else v[_VALUE_HEAD:] for v in values)
    return list(loads(_PICKLE_2 + b"(" + b"".join(bodies) + b"t."))


def _stopped(pickled: bytes) -> bytes:
    return pickled if pickled.endswith(b".") else pickled + b"."


def _block_weights(weights, count: int) -> np.ndarray:
    if weights is None:
        return np.ones(count)
    if isinstance(weights, float):
        return np.full(count, weights)
    return np.asarray(weights, dtype=np.float64)


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

    Everything here is safe to call from several threads: Whoosh's files are
    read with seek-then-read, so reads go one at a time.
    """

    def __init__(self, ix: Index, searcher: Searcher, cache: PostingCache) -> None:
        self.index = ix
        self.searcher = searcher
        self.reader: IndexReader = searcher.reader()
        self._cache = cache
        self.lock = threading.RLock()
        self._leaves = [
            (r, base, r.segment().segment_id()) for r, base in self.reader.leaf_readers()
        ]
        self.doc_count_all = self.reader.doc_count_all()
        live = np.ones(self.doc_count_all, dtype=bool)
        for segreader, base, _ in self._leaves:
            for docnum in segreader.segment().deleted_docs() if segreader.has_deletions() else ():
                live[base + docnum] = False
        self.live = live
        self._lengths: dict[str, np.ndarray] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._postings: dict[tuple[str, str], Postings] = {}
        # Blocks whose values (positions, offsets) were read, by reader and file offset.
        self._block_cache: dict[tuple[int, int], Sequence[bytes]] = {}
        self._generation = ix.latest_generation()
        # Each segment's listing, opened at its first use (None: it has none).
        self._listings: dict[str, SegmentListing | None] = {}
        # Closed when the snapshot is dropped, so a forgotten one never leaks its files.
        self._close = weakref.finalize(self, _close_all, searcher, self._listings)

    def segments(self) -> list[tuple[Any, int, str]]:
        """The segments read: (segment reader, its first global document number, segment id)."""
        return list(self._leaves)

    def is_current(self) -> bool:
        """Whether the index on disk is still the one this snapshot read."""
        return self.index.latest_generation() == self._generation

    def close(self) -> None:
        with self.lock:
            self._close()

    # Per-term

    def postings(self, field: str, term: str) -> Postings:
        key = (field, term)
        found = self._postings.get(key)
        if found is not None:
            return found
        with self.lock:
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
                return _NO_POSTINGS
            listing = self.listing(segreader, segid)
            found = read_segment_postings(segreader, field, btext, listing)
            self._cache.put(key, found)
        return found

    def listing(self, segreader, segid: str) -> SegmentListing | None:
        """A segment's listing (common terms' postings, flat), or None when it has none."""
        if segid not in self._listings:
            with self.lock:
                if segid not in self._listings:
                    self._listings[segid] = open_listing(segreader)
        return self._listings[segid]

    def idf(self, postings: Postings) -> float:
        """Whoosh's idf: log(N / (df + 1)) + 1, deleted documents counted on both sides."""
        return log(self.doc_count_all / (postings.doc_frequency + 1)) + 1

    def values(self, field: str, term: str, docnums: Iterable[int]) -> dict[int, bytes]:
        """The stored value (positions, characters) of ``term`` in each of ``docnums`` that has it."""
        wanted = np.unique(np.fromiter(docnums, dtype=np.int64))
        out: dict[int, bytes] = {}
        if not len(wanted):
            return out
        with self.lock:
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
        found = self._block_cache.get(key)
        if found is None:
            found = _read_block(segreader._terms._postfile, position)[0][2]
            self._block_cache[key] = found
            if len(self._block_cache) > CACHED_BLOCKS:
                self._block_cache.pop(next(iter(self._block_cache)))
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
        field_format = self._format(field)
        return {
            d: field_format.decode_characters(v)
            for d, v in self.values(field, term, docnums).items()
        }

    def _format(self, field: str):
        return self.reader.schema[field].format

    # Per-document columns

    def lengths(self, field: str) -> np.ndarray:
        """Each document's length in ``field`` as Whoosh scores it (a one-byte approximation)."""
        found = self._lengths.get(field)
        if found is None:
            with self.lock:
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
        return (self.reader.field_length(field) / (self.doc_count_all or 1)) or 1

    def column(self, name: str) -> np.ndarray:
        """A sortable numeric field's value for every document."""
        found = self._columns.get(name)
        if found is None:
            with self.lock:
                parts = []
                for segreader, _, _ in self._leaves:
                    reader = segreader.column_reader(name)
                    parts.append(
                        np.fromiter(reader, dtype=np.int64, count=segreader.doc_count_all())
                    )
                found = np.concatenate(parts) if parts else _EMPTY_IDS
            self._columns[name] = found
        return found

    def stored_fields(self, docnum: int) -> dict:
        with self.lock:
            return self.searcher.stored_fields(docnum)
