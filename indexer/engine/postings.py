"""Reading a term's postings from a segment's files: its blocks, or the segment's listing.

Whoosh answers a query by walking matcher objects posting by posting in
Python, which costs more than the search itself on a large archive (~60 ms a
query on 7,000 articles, growing with the archive).  Here a term's posting
list in one segment becomes two NumPy arrays (document numbers and term
frequencies), decoded a block at a time, or read in one piece from the
segment's listing (:mod:`indexer.engine.segments`) when it lists the term;
the values of each posting (positions, character offsets) are left in their
blocks, to be decoded only for the documents that need them.

This reads Whoosh's on-disk format (the W3 codec of whoosh-reloaded 2.7.5,
pinned in the lock) through a few of its private attributes; the tests
compare every answer with Whoosh's own search of the same query.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from pickle import loads

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE

from indexer.engine.cache import LRU
from indexer.engine.segments import LISTING_EXT, LISTING_MAGIC, LISTING_TAIL

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


NO_POSTINGS = SegmentPostings(_EMPTY_IDS, _EMPTY_WEIGHTS, (), _EMPTY_IDS, _EMPTY_IDS)


def read_block(postfile, position: int) -> tuple[tuple, int | None]:
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
        return NO_POSTINGS
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
        data, following = read_block(terms._postfile, position)
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
    """A segment's listing (:class:`indexer.engine.segments.Listing`): common terms' postings, flat.

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


# Listing directories, unpickled once per process: the last few kept.
_DIRECTORIES: LRU[tuple[str, int, int, int], dict] = LRU(16)


def _listing_directory(key: tuple[str, int, int, int], fd: int) -> dict:
    """A listing's directory, unpickled once per process (the last few kept).

    Known by the file's path, inode, size and time, so that a file changed
    behind the index (which never happens to a sound one) is read again.
    """
    found = _DIRECTORIES.get(key)
    if found is not None:
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
    return _DIRECTORIES.put(key, found)


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
