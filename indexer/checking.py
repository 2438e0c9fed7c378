"""Does the index hold what the database holds?  ``python -m indexer check [--repair]``.

The database is the source of truth; the index should hold every article in
it, once, at its latest version, and nothing else.  Each indexed document
carries its article's id and version (its update time) in columns, so the
comparison reads two arrays from the index and two columns from the
database, not the articles themselves.  The index's files are also read
through (every term's postings must lie inside the postings file) so that
a file cut short or gone is reported as damage, with ``reindex`` to run; so
is a segment's listing that does not hold together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.engine import READ_FAILURES, Snapshot, article_version, damaged
from indexer.store.models import Article


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

    An :class:`~indexer.errors.IndexDamaged` says that a file cannot be read.
    """
    try:
        snapshot.read_through()
        ids = snapshot.column("article")[snapshot.live]
        versions = snapshot.column("version")[snapshot.live]
    except READ_FAILURES as exc:
        raise damaged(exc) from exc
    return list(zip(ids.tolist(), versions.tolist(), strict=True))


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
