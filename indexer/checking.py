"""Does the index hold what the database holds?  ``python -m indexer check [--repair]``.

The database is the source of truth; the index should hold every article in
it, once, at its latest version, and nothing else.  Each indexed document
carries its article's id and version (its update time) in columns, so the
comparison reads two arrays from the index and two columns from the
database, not the articles themselves.  The index's files are also read
through (every term's postings must lie inside the postings file) so that
a file cut short or gone is reported as damage, with ``reindex`` to run; so
is a segment's listing (:mod:`indexer.segments`) that does not hold together.
"""

from __future__ import annotations

import logging
import pickle
import struct
import zlib
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.errors import IndexDamaged
from indexer.index import article_version
from indexer.models import Article
from indexer.postings import Snapshot

log = logging.getLogger(__name__)

# What Whoosh raises when it reads a file that is cut short, overwritten or gone.
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


@dataclass(frozen=True)
class IndexCheck:
    """How the index differs from the database (article ids, sorted)."""

    articles: int  # in the database
    documents: int  # live documents in the index
    missing: tuple[int, ...] = ()  # stored, not searchable
    extra: tuple[int, ...] = ()  # searchable, no longer stored
    stale: tuple[int, ...] = ()  # searchable as an older version
    duplicated: tuple[int, ...] = ()  # in the index more than once

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.duplicated)

    @property
    def to_index(self) -> tuple[int, ...]:
        """The articles to (re)index for the index to agree with the database."""
        return tuple(sorted({*self.missing, *self.stale, *self.duplicated}))

    @property
    def to_remove(self) -> tuple[int, ...]:
        return self.extra


def database_versions(session: Session) -> dict[int, int]:
    """Every stored article's id and version."""
    rows = session.execute(select(Article.id, Article.updated_at))
    return {article_id: article_version(updated) for article_id, updated in rows}


def index_versions(snapshot: Snapshot) -> list[tuple[int, int]]:
    """Every live document's (article id, version), reading the index's files through.

    An :class:`~indexer.errors.IndexDamaged` names the file that cannot be read.
    """
    try:
        _read_through(snapshot)
        ids = snapshot.column("article")[snapshot.live]
        versions = snapshot.column("version")[snapshot.live]
    except READ_FAILURES as exc:
        log.warning("the index cannot be read", exc_info=True)
        raise IndexDamaged(
            f"索引のファイルが壊れているか、欠けています（{exc.__class__.__name__}: {exc}）。"
            "python -m indexer reindex で作り直してください。"
        ) from exc
    return list(zip(ids.tolist(), versions.tolist(), strict=True))


def _read_through(snapshot: Snapshot) -> None:
    """Read every segment's term table, check that every posting list lies in its file."""
    with snapshot.lock:
        for segreader, _, segid in snapshot._leaves:
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
            listing = snapshot.listing(segreader, segid)
            if listing is not None:
                for field, btext, _, offset, length in listing.entries():
                    if offset + length > listing.size:
                        raise EOFError(
                            f"the listed postings of {field}:{btext!r} end past the end of "
                            f"{listing.path.name} ({listing.size} bytes)"
                        )


def compare(stored: dict[int, int], indexed: list[tuple[int, int]]) -> IndexCheck:
    """The differences between the database's and the index's (id, version) pairs."""
    counts = Counter(article_id for article_id, _ in indexed)
    in_index = dict(indexed)
    return IndexCheck(
        articles=len(stored),
        documents=len(indexed),
        missing=tuple(sorted(set(stored) - set(in_index))),
        extra=tuple(sorted(set(in_index) - set(stored))),
        stale=tuple(
            sorted(i for i, version in in_index.items() if i in stored and stored[i] != version)
        ),
        duplicated=tuple(sorted(i for i, n in counts.items() if n > 1 and i in stored)),
    )
