"""Writing index segments: Whoosh's own format, with the posting lists written faster.

When a segment is committed, Whoosh hands every posting (field, term,
document, weight, value) to its field writer one at a time; for each one
the writer checks types, looks up the document's field length in the
lengths column on disk and appends to the block it is filling.  On news
articles that loop took about half of all indexing time.  :class:`Codec`
is Whoosh's W3 codec with one method replaced: it reads each field's
lengths once, gathers a term's postings in plain lists, and hands them to
Whoosh's own block writer a block at a time, so the files it writes are
byte for byte those Whoosh writes (a test compares them).

Beside them it writes one file of its own per segment, the *listing*
(``.lst``): for every term with at least ``LISTED_POSTINGS`` postings in
the segment, its document numbers and weights as flat arrays and where each
of its blocks starts.  A reader takes a common word's postings from there in
one read (:mod:`indexer.engine.postings`), instead of unpickling and decompressing
every block of it, positions included: on 100,000 articles that decoding
was most of the time of a search for a word not searched before.  Whoosh
ignores the file and removes it with its segment.
"""

from __future__ import annotations

import ctypes
import pickle
import queue
import signal
import struct
import sys
from array import array
from itertools import groupby
from operator import itemgetter

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    _lenfield,
)
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

# Blocks of fewer postings than this are written uncompressed: most terms of a
# segment occur in one or two documents, and zlib cost more on their 30-byte
# blocks than it saved (readers look at each block's flag, so both read back).
SMALL_BLOCK = 8

# Terms with this many postings in a segment (two blocks of 128 or more) are
# listed; shorter lists decode quickly enough from their blocks.
LISTED_POSTINGS = 256
LISTING_EXT = ".lst"
# The listing starts with this, and ends with its directory's offset.
LISTING_MAGIC = b"JALIST01"
LISTING_TAIL = struct.Struct("<Q")


class Codec(W3Codec):
    """The W3 codec, writing posting lists with :class:`FieldWriter`."""

    def __init__(
        self, *args, small_block: int = SMALL_BLOCK, listed: int | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.small_block = small_block
        self.listed = LISTED_POSTINGS if listed is None else listed

    def field_writer(self, storage, segment):
        return FieldWriter(self, storage, segment)


class FieldWriter(W3FieldWriter):
    def __init__(self, codec, storage, segment) -> None:
        super().__init__(codec, storage, segment)
        self._listing = Listing(self._create_file(LISTING_EXT), codec._blocklimit)

    def add_postings(self, schema, lengths, items) -> None:
        """Write the sorted ``(field, term, docnum, weight, value)`` postings of a segment."""
        for fieldname, field_items in groupby(items, key=itemgetter(0)):
            self.start_field(fieldname, schema[fieldname])
            doc_lengths = _field_lengths(lengths, fieldname)
            for btext, term_items in groupby(field_items, key=itemgetter(1)):
                self.start_term(btext)
                listed = self._add_term(term_items, doc_lengths)
                self.finish_term()
                if listed is not None:
                    self._listing.add(fieldname, btext, listed)
            self.finish_field()

    def _add_term(self, items, doc_lengths: list[int | None] | None):
        """Fill the postings writer a block at a time, as ``add_posting`` would one by one.

        For a term to list, its blocks as ``(offset, ids, weights)``; otherwise None.
        """
        writer = self._postwriter
        limit = writer._blocklimit
        ids: list[int] = []
        weights: list[float] = []
        values: list[bytes] = []
        sizes: list[int] = []
        # The blocks written so far; _fill gives each block arrays of its own.
        blocks: list[tuple[int, array, array]] = []
        for _, _, docnum, weight, value in items:
            if docnum == -1:
                continue  # a spelling-graph entry, which W3 does not store
            if len(ids) == limit:
                _fill(writer, ids, weights, values, sizes, self._codec)
                blocks.append((self._block_start(writer), writer._ids, writer._weights))
                writer._write_block()
                ids, weights, values, sizes = [], [], [], []
            ids.append(docnum)
            weights.append(weight)
            if value:
                values.append(value)
            if doc_lengths is not None and (size := doc_lengths[docnum]):
                sizes.append(size)
        _fill(writer, ids, weights, values, sizes, self._codec)
        if len(blocks) * limit + len(ids) < self._codec.listed or not ids:
            return None
        # finish_term() writes this last block next, where the file now ends.
        blocks.append((self._block_start(writer), writer._ids, writer._weights))
        return blocks

    def _block_start(self, writer) -> int:
        """Where the block the writer writes next starts (after the list's header, if first)."""
        header = 0 if writer._blockcount else len(WHOOSH3_HEADER_MAGIC)
        return self._postfile.tell() + header

    def close(self) -> None:
        self._listing.close()
        super().close()


class Listing:
    """Writes a segment's listing: each listed term's postings as flat arrays.

    The file is :data:`LISTING_MAGIC`, then per term its document numbers
    (``uint32``), weights (``uint8`` when they are all whole numbers below
    256, as term counts are, else ``float32``) and block offsets
    (``uint64``), all little-endian, then a pickled directory ``{field: {term
    bytes: (offset, postings, blocks, bytes a weight)}}`` with the block
    size, then the directory's offset (``LISTING_TAIL``).  Every block but
    the last holds a full block of postings.
    """

    def __init__(self, file, block_size: int) -> None:
        self._file = file
        self._file.write(LISTING_MAGIC)
        self._block_size = block_size
        self._terms: dict[str, dict[bytes, tuple[int, int, int, int]]] = {}

    def add(self, fieldname: str, btext: bytes, blocks: list[tuple[int, array, array]]) -> None:
        """List a term from its blocks: ``(offset, ids, weights)`` each."""
        offset = self._file.tell()
        starts = array("Q", (start for start, _, _ in blocks))
        ids = array("I")
        weights = array("f")
        for _, block_ids, block_weights in blocks:
            ids.extend(block_ids)
            weights.extend(block_weights)
        try:
            counts = array("B", map(int, weights))
        except OverflowError:
            counts = None
        if counts is not None and counts == weights:
            weights = counts
        for values in (ids, weights, starts):
            if sys.byteorder != "little":
                values.byteswap()
            self._file.write(values.tobytes())
        entry = (offset, len(ids), len(starts), weights.itemsize)
        self._terms.setdefault(fieldname, {})[btext] = entry

    def close(self) -> None:
        offset = self._file.tell()
        directory = {"block_size": self._block_size, "terms": self._terms}
        self._file.write(pickle.dumps(directory, protocol=pickle.HIGHEST_PROTOCOL))
        self._file.write(LISTING_TAIL.pack(offset))
        self._file.close()


def _fill(
    writer, ids: list[int], weights: list[float], values: list[bytes], sizes: list[int], codec
):
    """Put one block's postings into the writer's buffer with the statistics it keeps."""
    writer._compression = 0 if len(ids) < codec.small_block else codec._compression
    writer._ids = array("I", ids)
    writer._weights = array("f", weights)
    writer._values = values
    writer._maxweight = max(0, *weights) if weights else 0
    writer._minlength = min(sizes) if sizes else None
    writer._maxlength = max(sizes) if sizes else 0


def _field_lengths(lengths, fieldname: str) -> list[int | None] | None:
    """Each document's length in the field, as the per-document reader reports it."""
    if lengths is None:
        return None
    column = lengths._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    return [byte_to_length(b) if b else None for b in column]


# prctl(PR_SET_PDEATHSIG, ...): Linux ends the process when its parent dies.
_PR_SET_PDEATHSIG = 1
# What a worker puts on the result queue, instead of its segment, when it failed:
# (FAILED, errno or None, what went wrong, the file).
FAILED = "failed"


class WriterFailed(Exception):
    """An indexing worker process failed, or ended without a word (killed)."""


class _WorkerTask(SubWriterTask):
    """Whoosh's indexing worker process, ended by the kernel if its parent dies,
    and saying why it failed instead of printing a traceback.

    Killed with ``kill -9``, an import or reindex would otherwise leave its
    workers waiting on their job queue for ever, holding memory.  A worker
    that fails (the disk full) goes on taking jobs, without doing them, until
    it is told to finish: the parent would otherwise wait for ever to hand it
    the next one.  Then it reports the failure; the parent raises it again.
    """

    def run(self):
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if not self.multisegment:
            super().run()
            return
        failure: BaseException | None = None
        writer = None
        try:
            ix = self.storage.open_index(self.indexname)
            writer = self.writer = SegmentWriter(ix, _lk=False, **self.kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the parent below
            failure = exc
        while (job := self.jobqueue.get()) is not None:
            if failure is None:
                try:
                    self._process_file(*job)
                except Exception as exc:  # noqa: BLE001 - reported to the parent below
                    failure = exc
        if failure is None:
            try:
                fieldnames = writer.pool.fieldnames
                segment = writer._finalize_segment()
                self.resultqueue.put((None, fieldnames, segment), timeout=5)
                return
            except Exception as exc:  # noqa: BLE001 - reported to the parent below
                failure = exc
        # What it wrote is the parent's to remove (it holds the index's lock).
        self.resultqueue.put(
            (
                FAILED,
                getattr(failure, "errno", None),
                getattr(failure, "strerror", None) or f"{type(failure).__name__}: {failure}",
                getattr(failure, "filename", None),
            ),
            timeout=5,
        )


class ParallelWriter(MpWriter):
    """Whoosh's multiprocess writer with workers that do not outlive it, and whose
    failures fail the commit (Whoosh commits what the others wrote, silently)."""

    def _new_task(self):
        task = _WorkerTask(
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        self.tasks.append(task)
        task.start()
        return task

    def _commit(self, mergetype, optimize, merge):
        if not self.multisegment:
            super()._commit(mergetype, optimize, merge)
            return
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.jobqueue.put(None)
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        finalsegments += self._worker_segments()
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()

    def _worker_segments(self) -> list:
        """Each worker's segment, once all have finished; the first failure raised again."""
        for task in self.tasks:
            task.join()
        results = []
        for _ in self.tasks:
            try:
                results.append(self.resultqueue.get(timeout=1))
            except queue.Empty:
                results.append((FAILED, None, "索引を書くプロセスが応答なく終了しました", None))
        for result in results:
            if result[0] == FAILED:
                _, number, reason, filename = result
                if number is not None:
                    raise OSError(number, reason, filename)
                raise WriterFailed(reason)
        return [segment for _, _, segment in results]

    def stop_workers(self) -> None:
        """End the worker processes at once (a write given up: what they wrote goes too)."""
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
        for task in self.tasks:
            task.join(timeout=10)
