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
"""

from __future__ import annotations

import ctypes
import signal
import sys
from array import array
from itertools import groupby
from operator import itemgetter

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3FieldWriter, _lenfield
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util.numeric import byte_to_length

# Blocks of fewer postings than this are written uncompressed: most terms of a
# segment occur in one or two documents, and zlib cost more on their 30-byte
# blocks than it saved (readers look at each block's flag, so both read back).
SMALL_BLOCK = 8


class Codec(W3Codec):
    """The W3 codec, writing posting lists with :class:`FieldWriter`."""

    def __init__(self, *args, small_block: int = SMALL_BLOCK, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.small_block = small_block

    def field_writer(self, storage, segment):
        return FieldWriter(self, storage, segment)


class FieldWriter(W3FieldWriter):
    def add_postings(self, schema, lengths, items) -> None:
        """Write the sorted ``(field, term, docnum, weight, value)`` postings of a segment."""
        for fieldname, field_items in groupby(items, key=itemgetter(0)):
            self.start_field(fieldname, schema[fieldname])
            doc_lengths = _field_lengths(lengths, fieldname)
            for btext, term_items in groupby(field_items, key=itemgetter(1)):
                self.start_term(btext)
                self._add_term(term_items, doc_lengths)
                self.finish_term()
            self.finish_field()

    def _add_term(self, items, doc_lengths: list[int | None] | None) -> None:
        """Fill the postings writer a block at a time, as ``add_posting`` would one by one."""
        writer = self._postwriter
        limit = writer._blocklimit
        ids: list[int] = []
        weights: list[float] = []
        values: list[bytes] = []
        sizes: list[int] = []
        for _, _, docnum, weight, value in items:
            if docnum == -1:
                continue  # a spelling-graph entry, which W3 does not store
            if len(ids) == limit:
                _fill(writer, ids, weights, values, sizes, self._codec)
                writer._write_block()
                ids, weights, values, sizes = [], [], [], []
            ids.append(docnum)
            weights.append(weight)
            if value:
                values.append(value)
            if doc_lengths is not None and (size := doc_lengths[docnum]):
                sizes.append(size)
        _fill(writer, ids, weights, values, sizes, self._codec)


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


class _WorkerTask(SubWriterTask):
    """Whoosh's indexing worker process, ended by the kernel if its parent dies.

    Killed with ``kill -9``, an import or reindex would otherwise leave its
    workers waiting on their job queue for ever, holding memory.
    """

    def run(self):
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        super().run()


class ParallelWriter(MpWriter):
    """Whoosh's multiprocess writer with workers that do not outlive it."""

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
