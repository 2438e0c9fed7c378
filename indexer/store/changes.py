"""The change log: what search nodes read to keep their indexes up to date with the database.

Every insert, update and delete of an article (:func:`record`, called by the
store) writes a row to ``changes`` in the same transaction, numbered by
``seq``.  A node remembers the last ``seq`` its index has applied and reads
the changes after it.

The sequence-gap race, and why a node can never skip a change: numbers from a
sequence are handed out when a row is inserted, but become visible when its
transaction commits, so a transaction holding seq 10 may commit after one
holding seq 11; a node that read 11 and moved on would miss 10 forever.  Here
the numbers are handed out only at commit: the rows are written in the
session's ``before_commit``, after taking PostgreSQL's EXCLUSIVE lock on
``changes`` (held until the commit ends; readers are never blocked).  So
transactions take their numbers one at a time in commit order, and by the
time seq 11 can be seen, the transaction that took 10 has committed (10 is
visible too) or rolled back (10 will never exist).  A node may therefore move
to the highest number it read, gaps and all.  SQLite has one writer at a time
and so the same order without a lock.  The lock is held only from the
numbering to the end of the commit, so concurrent importers still overlap in
everything else.

A change names an article, not what it became: a node reads the article's
current row, indexing it if it is there and removing it if not, so applying
a change twice, or late, does no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from indexer.store.models import Change, utcnow

log = logging.getLogger(__name__)

INSERT, UPDATE, DELETE = "insert", "update", "delete"
_PENDING = "archive_changes"  # the session.info key of the changes not yet written


def record(session: Session, article_id: int, kind: str) -> None:
    """Note that this article was inserted, updated or deleted; written when the session commits."""
    pending: dict[int, str] = session.info.setdefault(_PENDING, {})
    earlier = pending.get(article_id)
    # Inserted then updated is still an insert; anything then deleted is a delete.
    pending[article_id] = kind if earlier is None or kind == DELETE else earlier


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the changes are written with the transaction around it
    pending: dict[int, str] = session.info.pop(_PENDING, {})
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE changes IN EXCLUSIVE MODE"))
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {"article_id": article_id, "kind": kind, "changed_at": now}
        for article_id, kind in pending.items()
    ]
    session.execute(insert(Change), rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back transaction changed nothing; a committed one wrote its changes.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def last_seq(session: Session) -> int:
    """The number of the newest change (0 when there is none)."""
    return session.scalar(select(func.max(Change.seq))) or 0


def last_change(session: Session) -> tuple[int, datetime | None]:
    """The number of the newest change and when it was made ((0, None) when there is none)."""
    row = session.execute(
        select(Change.seq, Change.changed_at).order_by(Change.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, None)


def count_after(session: Session, seq: int) -> int:
    return session.scalar(select(func.count()).select_from(Change).where(Change.seq > seq)) or 0


def changes_after(session: Session, seq: int, limit: int) -> list[Change]:
    """The next ``limit`` changes after ``seq``, oldest first."""
    return list(
        session.scalars(select(Change).where(Change.seq > seq).order_by(Change.seq).limit(limit))
    )
