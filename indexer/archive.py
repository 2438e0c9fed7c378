"""The archive as one object: the door every front end (CLI, web, scripts) goes through.

An :class:`Archive` owns the database, the index and the search service of one
``ARCHIVE_HOME``; its methods take and return plain values (the result types
re-exported below), so a front end never learns about sessions, engines,
index generations or Whoosh.  The errors it raises are in ``indexer.errors``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from indexer.analysis import AnalyzedToken, analyze
from indexer.backup import backup_article_count, backup_sqlite, restore_sqlite, sqlite_path
from indexer.config import Settings
from indexer.duplicates import DuplicatePair, near_duplicates
from indexer.errors import ArchiveError, ArticleNotFound, QueryError
from indexer.exporting import write_jsonl
from indexer.highlight import Highlighter, Snippet
from indexer.importing import ImportSummary, discover, import_files
from indexer.index import IndexInfo, IndexStore
from indexer.models import Article
from indexer.readers import FORMATS
from indexer.search import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    QueryTerm,
    RelatedArticle,
    SearchHit,
    SearchPage,
    SearchService,
    parse_day,
)
from indexer.store import (
    ArticleRecord,
    count_articles,
    delete_articles,
    get_article,
    get_articles,
    iter_articles,
    make_engine,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FORMATS",
    "MAX_PAGE_SIZE",
    "SORTS",
    "AnalyzedToken",
    "Archive",
    "ArchiveStats",
    "ArticleRecord",
    "DuplicateMatch",
    "Highlighter",
    "ImportSummary",
    "IndexInfo",
    "QueryTerm",
    "RelatedArticle",
    "SearchHit",
    "SearchPage",
    "Settings",
    "Snippet",
]

# Called with (files done, files in all); first with 0 once the files are known.
ImportProgress = Callable[[int, int], None]

# Ids are 64-bit integers in every database; a larger number (SQLite would raise
# OverflowError on it) names no article.
MAX_ARTICLE_ID = 2**63 - 1


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


@dataclass(frozen=True)
class DuplicateMatch:
    """Two near-identical articles (one wire story on two sites) and how alike they are."""

    similarity: float
    first: ArticleRecord
    second: ArticleRecord


class Archive:
    """One archive: its articles (the source of truth) and the index that finds them."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.index = IndexStore(self.settings.index_root)
        self._search = SearchService(self.index)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The database, connected (and its schema created) on first use.

        Not at once: ``backup`` of a PostgreSQL archive must be able to say
        "use pg_dump" on a machine without the PostgreSQL driver.
        """
        with self._engine_lock:
            if self._engine is None:
                self._engine = make_engine(self.settings.database_url)
            return self._engine

    def session(self) -> Session:
        return Session(self.engine)

    # Reading

    def article(self, article_id: int) -> ArticleRecord:
        """The article with this id; :class:`~indexer.errors.ArticleNotFound` if there is none."""
        if not 0 < article_id <= MAX_ARTICLE_ID:
            raise ArticleNotFound(f"ID {article_id} の記事はありません。")
        with self.session() as session:
            return ArticleRecord.of(get_article(session, article_id))

    def article_count(self) -> int:
        with self.session() as session:
            return count_articles(session)

    def search(
        self,
        query: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str = "relevance",
        date_from: str | date | None = None,
        date_to: str | date | None = None,
    ) -> SearchPage:
        """One page of results; dates as ``date`` or text (``2025-01-20``, ``令和7年1月20日``)."""
        return self._search.search(
            query,
            page=page,
            page_size=page_size,
            sort=sort,
            date_from=_day(date_from),
            date_to=_day(date_to),
        )

    def highlighter(self, query: str) -> Highlighter:
        """What a search for ``query`` marks, to mark an article opened from its results."""
        return self._search.highlighter(query)

    def related(self, article_id: int) -> tuple[RelatedArticle, ...]:
        """Articles about what this one is about."""
        return self._search.related(article_id)

    def load_synonyms(self) -> None:
        """Load the synonym map now (a second or two the first time) instead of on a search."""
        self._search.planner()

    @staticmethod
    def analyze(text: str, *, query: bool = False) -> list[AnalyzedToken]:
        """The tokens the index stores for ``text``, or what ``text`` becomes as a query."""
        return analyze(text, query=query)

    # Writing

    def import_paths(
        self,
        paths: Iterable[Path],
        fmt: str = "auto",
        on_progress: ImportProgress | None = None,
    ) -> ImportSummary:
        """Import every article file under ``paths`` (files and folders) and index it."""
        summary = ImportSummary()
        files = list(discover(paths, summary))
        done = 0

        def on_file(_path: Path) -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, len(files))

        if on_progress is not None:
            on_progress(0, len(files))
        return import_files(files, self.engine, self.index, fmt, summary, on_file)

    def delete(self, ids: list[int]) -> list[int]:
        """Remove these articles from the database, then from the index; the ids found."""
        ids = [i for i in ids if 0 < i <= MAX_ARTICLE_ID]
        with self.session() as session, session.begin():
            found = delete_articles(session, ids)
        if found:
            self.index.delete_articles(found)
        return found

    def reindex(self, on_progress: Callable[[int], None] | None = None) -> IndexInfo:
        """Rebuild the whole index from the database and switch searches to it."""
        with self.session() as session:
            total = count_articles(session)
            return self.index.rebuild(iter_articles(session), total, on_progress)

    # Backups (SQLite only; other databases have their own tools)

    def backup(self, destination: Path) -> int:
        """Copy the database to the file ``destination``, consistent even while imports
        run; how many articles the copy holds."""
        database = sqlite_path(self.settings.database_url, "バックアップ")
        return backup_sqlite(self.engine, database, destination)

    def restore(
        self, source: Path, *, force: bool = False, on_progress: ImportProgress | None = None
    ) -> int:
        """Replace the articles with those of the backup ``source``, then rebuild the index.

        An archive that holds articles is replaced only with ``force``.
        ``on_progress`` is told (articles indexed, articles in all) as the index is built.
        """
        sqlite_path(self.settings.database_url, "バックアップから復元")
        backup_article_count(source)  # a bad file is refused before anything is touched
        if not force and (present := self.article_count()):
            raise ArchiveError(
                f"{self.settings.home} にはもう{present}件の記事があります。置き換えるなら"
                f" --force を付けてください: python -m indexer restore --force {source}"
            )
        total = restore_sqlite(source, self.engine)
        done = 0

        def indexed(count: int) -> None:
            nonlocal done
            done += count
            if on_progress is not None:
                on_progress(done, total)

        if on_progress is not None:
            on_progress(0, total)
        self.reindex(indexed)
        return total

    # Whole-archive reports

    def export(self, out: TextIO, query: str | None = None) -> int:
        """Write the archive (or every result of ``query``) as JSON Lines; how many were written."""
        with self.session() as session:
            if query:
                articles: Iterable[Article] = get_articles(
                    session, self._search.matching_ids(query)
                )
            else:
                articles = iter_articles(session)
            return write_jsonl(articles, out)

    def duplicates(self, threshold: float = 0.8) -> list[DuplicateMatch]:
        """Pairs of near-identical articles, most alike first."""
        with self.session() as session:
            pairs: list[DuplicatePair] = near_duplicates(
                ((a.id, a.body) for a in iter_articles(session)), threshold
            )
            ids = sorted({i for p in pairs for i in (p.first, p.second)})
            records = {a.id: ArticleRecord.of(a) for a in get_articles(session, ids)}
        return [DuplicateMatch(p.similarity, records[p.first], records[p.second]) for p in pairs]

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


# A date is written in a few characters; longer text in a date field is a mistake, or an
# attempt to make the server read megabytes of it.
MAX_DATE_CHARS = 100


def _day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if len(value) > MAX_DATE_CHARS:
        raise QueryError(
            f"日付が長すぎます（{len(value):,}文字、{MAX_DATE_CHARS}文字まで）。"
            "2025-01-20 のように入れてください。"
        )
    return parse_day(value)


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite hands back naive UTC (or text).
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
