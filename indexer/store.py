"""Storing articles: the database is the archive's source of truth."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, select
from sqlalchemy.orm import Session

from indexer.dates import TOKYO
from indexer.drafts import ArticleDraft
from indexer.errors import ArticleNotFound
from indexer.models import Article, Base, utcnow

# What an article says, as opposed to where this archive got it or when: what a
# re-import may change, and what an export writes.
CONTENT_FIELDS = (
    "title",
    "body",
    "url",
    "site",
    "agency",
    "author",
    "credit_sources",
    "captions",
    "published_at",
    "category",
    "tags",
)
_LIST_FIELDS = ("credit_sources", "captions", "tags")


class Outcome(enum.Enum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def make_engine(url: str) -> Engine:
    """An engine with the schema in place; for SQLite the folder is created too."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web app read while an import writes; the busy timeout makes
    # a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL loses no committed data on a crash of the program,
    # only (rarely) the last commits on a power cut, and saves an fsync per file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _values(draft: ArticleDraft) -> dict[str, Any]:
    values = {name: getattr(draft, name) for name in CONTENT_FIELDS}
    for name in _LIST_FIELDS:
        values[name] = list(values[name])
    values["content_hash"] = draft.content_hash
    return values


@dataclass(frozen=True)
class Saved:
    outcome: Outcome
    article: Article
    changed: tuple[str, ...] = ()  # the fields an update changed


def save_article(session: Session, draft: ArticleDraft) -> Saved:
    """Add ``draft``, or update the article it is a new copy of.

    The same URL is the same article; without a URL, the same normalized text
    is.  Another article with this exact text keeps its place: the draft is
    reported unchanged against it.
    """
    values = _values(draft)
    existing = None
    if draft.url:
        existing = session.scalars(select(Article).where(Article.url == draft.url)).first()
    twin = session.scalars(
        select(Article).where(Article.content_hash == values["content_hash"])
    ).first()
    if existing is None:
        if twin is not None:
            return Saved(Outcome.UNCHANGED, twin)
        article = Article(
            **values, source_path=draft.source_path, source_format=draft.source_format
        )
        session.add(article)
        session.flush()
        return Saved(Outcome.ADDED, article)
    if twin is not None and twin.id != existing.id:
        return Saved(Outcome.UNCHANGED, twin)
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        return Saved(Outcome.UNCHANGED, existing)
    for key, value in changed.items():
        setattr(existing, key, value)
    existing.source_path = draft.source_path
    existing.source_format = draft.source_format
    existing.updated_at = utcnow()
    session.flush()
    changed.pop("content_hash", None)
    return Saved(Outcome.UPDATED, existing, tuple(changed))


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise ArticleNotFound(f"no article has id {article_id}")
    return article


def get_articles(session: Session, ids: list[int]) -> list[Article]:
    """The articles with these ids, in the order given (missing ones left out)."""
    found = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def delete_articles(session: Session, ids: list[int]) -> list[int]:
    """Delete the articles with these ids; returns the ids that were there."""
    found = [a.id for a in get_articles(session, ids)]
    if found:
        session.execute(delete(Article).where(Article.id.in_(found)))
    return found


def count_articles(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0


def iter_articles(session: Session, batch: int = 500) -> Iterator[Article]:
    """Every article by id, read in batches so a large archive never sits in memory."""
    last = 0
    while True:
        rows = session.scalars(
            select(Article).where(Article.id > last).order_by(Article.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(TOKYO).isoformat() if value else None


def article_record(article: Article) -> dict[str, Any]:
    """The whole article as JSON-ready data (``show --json`` and ``/api/articles/<id>``)."""
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "url": article.url,
        "site": article.site,
        "agency": article.agency,
        "author": article.author,
        "credit_sources": list(article.credit_sources or []),
        "captions": list(article.captions or []),
        "published_at": _iso(article.published_at),
        "category": article.category,
        "tags": list(article.tags or []),
        "content_hash": article.content_hash,
        "source_path": article.source_path,
        "source_format": article.source_format,
        "imported_at": _iso(article.imported_at),
        "updated_at": _iso(article.updated_at),
    }
