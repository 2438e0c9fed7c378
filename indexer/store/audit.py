"""Who added, updated, edited or deleted which article, and when.

An event is noted (:func:`note`) where the article is stored, edited or
deleted and written with the transaction that changed it, so the record and
the change stand or fall together.  The actor is the session's (set with
:func:`acting_as` when the session is made): ``user:NAME`` for someone logged
in to the web app, ``token:NAME`` for a script with an API token,
``shell:NAME`` for the command line.  Events stay after their article is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from indexer.store.models import ArticleEvent, utcnow

ADDED, UPDATED, EDITED, DELETED = "added", "updated", "edited", "deleted"
_ACTOR = "archive_actor"
_PENDING = "archive_events"
UNKNOWN_ACTOR = "unknown"


@dataclass(frozen=True)
class Event:
    article_id: int
    action: str
    actor: str
    title: str
    fields: tuple[str, ...]
    at: datetime

    @classmethod
    def of(cls, row: ArticleEvent) -> Event:
        return cls(row.article_id, row.action, row.actor, row.title, tuple(row.fields), row.at)


def acting_as(session: Session, actor: str | None) -> Session:
    """Name who the session's changes are by; the session, for chaining."""
    session.info[_ACTOR] = actor or UNKNOWN_ACTOR
    return session


def note(
    session: Session, article_id: int, action: str, title: str, fields: Iterable[str] = ()
) -> None:
    """Record an event for this article, written when the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append((article_id, action, title, tuple(fields)))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    actor = session.info.get(_ACTOR, UNKNOWN_ACTOR)
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "article_id": article_id,
            "action": action,
            "actor": actor,
            "title": title,
            "fields": list(fields),
            "at": now,
        }
        for article_id, action, title, fields in pending
    ]
    session.execute(insert(ArticleEvent), rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def history(session: Session, article_id: int) -> list[Event]:
    """The article's events, oldest first."""
    rows = session.scalars(
        select(ArticleEvent).where(ArticleEvent.article_id == article_id).order_by(ArticleEvent.id)
    )
    return [Event.of(r) for r in rows]


def recent(session: Session, limit: int = 50) -> list[Event]:
    """The newest events of the whole archive, newest first."""
    rows = session.scalars(select(ArticleEvent).order_by(ArticleEvent.id.desc()).limit(limit))
    return [Event.of(r) for r in rows]
