"""The archive as one object: its database, its index and its search service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from indexer.config import Settings
from indexer.errors import ArchiveError
from indexer.index import IndexInfo, IndexStore
from indexer.models import Article
from indexer.search import SearchService
from indexer.store import count_articles, delete_articles, iter_articles, make_engine


@dataclass(frozen=True)
class ArchiveStats:
    articles: int
    sites: tuple[tuple[str, int], ...]
    oldest: datetime | None
    newest: datetime | None
    undated: int
    database: str
    index: IndexInfo | None
    index_bytes: int


class Archive:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.engine = make_engine(self.settings.database_url)
        self.index = IndexStore(self.settings.index_root)
        self.search = SearchService(self.index)

    def session(self) -> Session:
        return Session(self.engine)

    def article_count(self) -> int:
        with self.session() as session:
            return count_articles(session)

    def reindex(self, on_progress: Callable[[int], None] | None = None) -> IndexInfo:
        """Rebuild the whole index from the database and switch searches to it."""
        with self.session() as session:
            total = count_articles(session)
            return self.index.rebuild(iter_articles(session), total, on_progress)

    def delete(self, ids: list[int]) -> list[int]:
        """Remove these articles from the database, then from the index; the ids found."""
        with self.session() as session, session.begin():
            found = delete_articles(session, ids)
        if found:
            self.index.delete_articles(found)
        return found

    def stats(self) -> ArchiveStats:
        with self.session() as session:
            sites = session.execute(
                select(Article.site, func.count())
                .group_by(Article.site)
                .order_by(func.count().desc(), Article.site)
                .limit(20)
            ).all()
            oldest, newest = session.execute(
                select(func.min(Article.published_at), func.max(Article.published_at))
            ).one()
            undated = session.scalar(
                select(func.count()).select_from(Article).where(Article.published_at.is_(None))
            )
            total = count_articles(session)
        try:
            info = self.index.info()
        except ArchiveError:
            info = None  # a missing or stale index is part of the report
        size = directory_size(info.path) if info else 0
        return ArchiveStats(
            articles=total,
            sites=tuple((site or "(none)", n) for site, n in sites),
            oldest=_aware(oldest),
            newest=_aware(newest),
            undated=undated or 0,
            database=make_url(self.settings.database_url).render_as_string(hide_password=True),
            index=info,
            index_bytes=size,
        )


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite hands back naive UTC (or text).
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
