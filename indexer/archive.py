"""The archive as one object: the door every front end (CLI, web, scripts) goes through.

An :class:`Archive` owns the database, the index and the search service of one
``ARCHIVE_HOME``; its methods take and return plain values (the result types
re-exported below), so a front end never learns about sessions, engines,
index generations or Whoosh.  The errors it raises are in ``indexer.errors``.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shlex
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from indexer import accounts
from indexer.accounts import ADMIN, EDITOR, READER, ROLE_NAMES, ROLES, Account, TokenInfo, at_least
from indexer.analysis import AnalyzedToken, analyze, extract_entities
from indexer.checking import IndexCheck, compare, database_versions, index_versions
from indexer.config import Settings, search_budget
from indexer.engine import ChangeBatch, IndexInfo, IndexStore
from indexer.errors import (
    ArchiveError,
    ArticleNotFound,
    IndexDamaged,
    IndexMissing,
    IndexOutdated,
    QueryError,
)
from indexer.importing import ImportSummary, StoredArticle, Upload, discover, import_files
from indexer.indexing import REINDEX_AFTER, FollowResult, catch_up, follow, rebuild_index
from indexer.readers import FORMATS
from indexer.readers.drafts import content_hash
from indexer.search.desk import Concordance, ConcordanceLine, DayCounts
from indexer.search.facets import FACET_LIMIT, Facets, FacetValue, Filters, month_bounds
from indexer.search.highlight import Highlighter, Snippet
from indexer.search.results import QueryTerm, RelatedArticle, SearchHit, SearchPage, StoryCopy
from indexer.search.service import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    SearchService,
    parse_day,
)
from indexer.space import (
    MIN_FREE_BYTES,
    Operation,
    free_bytes,
    import_needs,
    mebibytes,
    rebuild_needs,
    reported,
    size_of,
    update_needs,
)
from indexer.store import audit, changes, saved
from indexer.store import revisions as schema
from indexer.store.articles import (
    EDITABLE_FIELDS,
    ArticleRecord,
    bylines,
    count_articles,
    delete_articles,
    edit_article,
    get_article,
    get_articles,
    iter_articles,
    make_engine,
    summarize,
    writer_session,
)
from indexer.store.audit import Event
from indexer.store.backup import backup_article_count, backup_sqlite, restore_sqlite, sqlite_path
from indexer.store.copying import CopyResult, copy_database
from indexer.store.exporting import write_jsonl
from indexer.store.models import Article
from indexer.store.resemblance import DuplicatePair, near_duplicates
from indexer.store.revisions import Revision, SchemaStatus
from indexer.store.saved import SEARCH_PARAMS
from indexer.store.saved import Saved as SavedSearch
from indexer.store.stories import story_copies, story_members

__all__ = [
    "ADMIN",
    "DEFAULT_PAGE_SIZE",
    "EDITABLE_FIELDS",
    "EDITOR",
    "READER",
    "ROLES",
    "ROLE_NAMES",
    "SEARCH_PARAMS",
    "Account",
    "Event",
    "SavedSearch",
    "StoredArticle",
    "TokenInfo",
    "Upload",
    "at_least",
    "shell_actor",
    "FORMATS",
    "MAX_PAGE_SIZE",
    "REINDEX_AFTER",
    "SORTS",
    "AnalyzedToken",
    "Archive",
    "ArchiveState",
    "ArchiveStats",
    "ArticleRecord",
    "Concordance",
    "ConcordanceLine",
    "CopyResult",
    "DayCounts",
    "DuplicateMatch",
    "ExportedArticle",
    "FACET_LIMIT",
    "FacetValue",
    "Facets",
    "DiskSpace",
    "Filters",
    "FollowResult",
    "Highlighter",
    "ImportSummary",
    "IndexCheck",
    "IndexInfo",
    "QueryTerm",
    "RelatedArticle",
    "Revision",
    "SchemaStatus",
    "SearchHit",
    "SearchPage",
    "Settings",
    "Snippet",
    "StoryCopy",
    "content_hash",
    "database_status",
    "mebibytes",
    "migration_history",
    "month_bounds",
    "search_budget",
    "upgrade_database",
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
class ArchiveState:
    """Where the archive stands: the last change stored, and the index searches read.

    Two equal states give every request the same answer, so a front end can
    base validators (ETags) on it; ``changed_at`` is when either last changed.
    """

    version: str
    changed_at: datetime | None


@dataclass(frozen=True)
class DiskSpace:
    """The room the index has: free bytes where it lives, and what writing to it needs."""

    path: Path
    free: int
    rebuild_needs: int  # a reindex, beside the index in use
    rebuild_how: str  # how that was estimated
    pending: int  # changes of the database the index has not applied
    pending_needs: int  # applying them
    documents: int  # in the index searches use (0 when there is none)
    applied_seq: int  # the last change it applied

    @property
    def full(self) -> bool:
        """Whether no write of any size can be counted on."""
        return self.free < MIN_FREE_BYTES

    @property
    def short(self) -> bool:
        """Whether the changes waiting for the index are estimated not to fit."""
        return bool(self.pending) and self.free < self.pending_needs


@dataclass(frozen=True)
class DuplicateMatch:
    """Two near-identical articles (one wire story on two sites) and how alike they are."""

    similarity: float
    first: ArticleRecord
    second: ArticleRecord


@dataclass(frozen=True)
class ExportedArticle:
    """One article of an export: its record, and the ids of the other articles of its story."""

    record: ArticleRecord
    copies: tuple[int, ...]


# An export reads this many articles at a time (their copies with one query).
EXPORT_BATCH = 500


def _in_story(article: Article, copies: list[int]) -> ArticleRecord:
    """The article's record, its ``story_id`` the story's id whenever it has copies.

    The database labels a story's first article with its own id or with None
    (see ``indexer.store.stories``); a reader of the record should not need to know.
    """
    record = ArticleRecord.of(article)
    if record.story_id is None and copies:
        record = replace(record, story_id=record.id)
    return record


class Archive:
    """One archive: its articles (the source of truth) and the index that finds them.

    Public: ``settings`` (where the archive lives) and the methods below; the
    database engine, the index's generations and the search service are its
    own, so that what the archive promises is all a front end can rely on.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        # Opening a new (or older) SQLite archive writes its tables.
        opening = Operation(
            doing="データベースの準備",
            where=self.settings.home,
            needed=MIN_FREE_BYTES,
            how="データベースの表を作るのに",
            kept="保存済みの記事は失われていません（何も変えていません）。",
            retry=None,
            database=self._database_file(),
        )
        with reported(lambda: opening):
            self._engine = make_engine(self.settings.database_url)
        self._index = IndexStore(self.settings.index_root)
        self._search = SearchService(self._index, self.settings.search_budget_ms)
        self._secret: str | None = None

    def _session(self) -> Session:
        return Session(self._engine)

    def close(self) -> None:
        """Close the index files and the database connections (both reopen if used again)."""
        self._search.close()
        self._engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Reading

    def article(self, article_id: int) -> ArticleRecord:
        """The article with this id; :class:`~indexer.errors.ArticleNotFound` if there is none."""
        if not 0 < article_id <= MAX_ARTICLE_ID:
            raise ArticleNotFound(f"ID {article_id} の記事はありません。")
        with self._session() as session:
            article = get_article(session, article_id)
            return _in_story(article, story_copies(session, [article])[article.id])

    def articles(self, ids: list[int]) -> list[ArticleRecord]:
        """The articles with these ids, in that order (ids of no article left out)."""
        ids = [i for i in ids if 0 < i <= MAX_ARTICLE_ID]
        with self._session() as session:
            articles = get_articles(session, ids)
            copies = story_copies(session, articles)
            return [_in_story(a, copies[a.id]) for a in articles]

    def article_count(self) -> int:
        with self._session() as session:
            return count_articles(session)

    def every_article(self) -> Iterator[ArticleRecord]:
        """Every stored article, by id, read in batches (a large archive never sits in memory)."""
        with self._session() as session:
            for article in iter_articles(session):
                yield ArticleRecord.of(article)

    def state(self) -> ArchiveState:
        """The archive's state now: one query and a look at the index folder (no index opened).

        The index's part is its generation and when its folder last changed (a
        segment written, a change applied), so an index that catches up with
        the database later than the change was stored moves the state again.
        """
        with self._session() as session:
            seq, changed_at = changes.last_change(session)
        index, index_at = "", None
        try:
            path = self._index.current_path()
            if path is not None:
                mtime = path.stat().st_mtime_ns
                index = f"{path.name}@{mtime}"
                index_at = datetime.fromtimestamp(mtime / 1e9, UTC)
        except (IndexDamaged, OSError):
            index = "unreadable"
        times = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (changed_at, index_at) if t]
        return ArchiveState(f"{seq}/{index}", max(times, default=None))

    def index_info(self) -> IndexInfo:
        """The index searches use: its folder, documents, versions and the last change applied.

        :class:`~indexer.errors.IndexMissing`, ``IndexOutdated`` or ``IndexDamaged``
        when there is none that can be searched.
        """
        return self._index.info()

    def search(
        self,
        query: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str = "relevance",
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        site: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        facet_limit: int = FACET_LIMIT,
        group: bool = False,
        exclude: Mapping[str, Sequence[str]] | None = None,
        undated: bool = False,
        person: str | Sequence[str] | None = None,
        org: str | Sequence[str] | None = None,
        place: str | Sequence[str] | None = None,
    ) -> SearchPage:
        """One page of results, with the facets of all of them.

        Dates as ``date`` or text (``2025-01-20``, ``令和7年1月20日``); ``site``,
        ``category`` and ``tag`` keep the articles with exactly that value (width
        and case aside), or with any of several; ``person``, ``org`` and ``place``
        those naming that person, organisation or place; ``exclude`` leaves out the
        articles with a value (``{"site": ["a.jp"]}``), ``undated`` keeps the
        articles without a date.  An empty ``query`` lists the articles (newest first
        with ``sort="newest"``).  With ``group``, near-identical articles (one wire
        story on several sites) are one result: pages count stories, ``total`` articles.
        """
        named = {"site": site, "category": category, "tag": tag}
        named.update(person=person, org=org, place=place)
        found = self._search.search(
            query,
            page=page,
            page_size=page_size,
            sort=sort,
            filters=_filters(named, date_from, date_to, exclude, undated),
            facet_limit=facet_limit,
            group=group,
        )
        return self._with_authors(found)

    def browse(
        self,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str = "newest",
        facet_limit: int = FACET_LIMIT,
        group: bool = False,
    ) -> SearchPage:
        """Every article (newest first), with the facets of the whole archive."""
        found = self._search.search(
            "",
            page=page,
            page_size=page_size,
            sort=sort,
            facet_limit=facet_limit,
            listing=True,
            group=group,
        )
        return self._with_authors(found)

    def _with_authors(self, page: SearchPage) -> SearchPage:
        """The page's hits with their authors and tags, read from the database (one query:
        the index keeps no author)."""
        if not page.hits:
            return page
        with self._session() as session:
            stored = bylines(session, [hit.id for hit in page.hits])
        hits = tuple(
            replace(hit, author=stored[hit.id][0], tags=stored[hit.id][1])
            if hit.id in stored
            else hit
            for hit in page.hits
        )
        return replace(page, hits=hits)

    def export_records(
        self,
        query: str = "",
        *,
        sort: str = "relevance",
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        site: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        exclude: Mapping[str, Sequence[str]] | None = None,
        undated: bool = False,
        person: str | Sequence[str] | None = None,
        org: str | Sequence[str] | None = None,
        place: str | Sequence[str] | None = None,
    ) -> Iterator[ExportedArticle]:
        """Every article a search finds, in its order: the articles its ``total`` counts.

        Every copy of a story is an article of its own (as ``total`` counts
        them, grouped or not); an empty ``query`` without filters is every
        article.  The search is run (and a bad argument raised) before the
        first article is read; the articles are then read ``EXPORT_BATCH`` at
        a time, so an export of the whole archive never sits in memory (only
        its ids do).  An article deleted meanwhile is left out.
        """
        named = {"site": site, "category": category, "tag": tag}
        named.update(person=person, org=org, place=place)
        filters = _filters(named, date_from, date_to, exclude, undated)
        ids = self._search.matching_ids(query, sort, filters, listing=not query.strip())
        return self._exported(ids)

    def _exported(self, ids: list[int]) -> Iterator[ExportedArticle]:
        with self._session() as session:
            for start in range(0, len(ids), EXPORT_BATCH):
                articles = get_articles(session, ids[start : start + EXPORT_BATCH])
                copies = story_copies(session, articles)
                for article in articles:
                    found = copies[article.id]
                    yield ExportedArticle(_in_story(article, found), tuple(found))
                session.expunge_all()

    def day_counts(
        self,
        query: str,
        *,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        site: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        exclude: Mapping[str, Sequence[str]] | None = None,
        undated: bool = False,
        person: str | Sequence[str] | None = None,
        org: str | Sequence[str] | None = None,
        place: str | Sequence[str] | None = None,
    ) -> DayCounts:
        """How many articles the search for ``query`` finds on each day (Tokyo time).

        The articles :meth:`search` counts in its ``total`` (with the same
        filters), each once, on its day; an empty ``query`` counts every
        article the filters keep, to compare a query's counts with.
        """
        named = {"site": site, "category": category, "tag": tag}
        named.update(person=person, org=org, place=place)
        filters = _filters(named, date_from, date_to, exclude, undated)
        return self._search.day_counts(query, filters)

    def concordance(
        self,
        query: str,
        *,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        site: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        exclude: Mapping[str, Sequence[str]] | None = None,
        undated: bool = False,
        person: str | Sequence[str] | None = None,
        org: str | Sequence[str] | None = None,
        place: str | Sequence[str] | None = None,
    ) -> Concordance:
        """Every word the search for ``query`` marks in its articles' bodies, with the text
        on either side (keyword in context), newest articles first."""
        named = {"site": site, "category": category, "tag": tag}
        named.update(person=person, org=org, place=place)
        filters = _filters(named, date_from, date_to, exclude, undated)
        return self._search.concordance(query, filters)

    def story(self, article_id: int) -> list[ArticleRecord]:
        """The other articles of this one's story (near-identical copies), oldest first."""
        with self._session() as session:
            # Each is in a story with this article: its story_id is never None.
            return [_in_story(a, [article_id]) for a in story_members(session, article_id)]

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

    @staticmethod
    def entities(title: str, body: str) -> dict[str, list[str]]:
        """The people, organisations and places an article with this text names, by kind."""
        return extract_entities(title, body)

    # Writing

    def import_paths(
        self,
        paths: Iterable[Path],
        fmt: str = "auto",
        on_progress: ImportProgress | None = None,
    ) -> ImportSummary:
        """Import every article file under ``paths`` (files and folders) and index it.

        A full or failing disk is a :class:`~indexer.errors.DiskFull` (or
        ``WriteFailed``) saying how far the import got and what to run then.
        """
        paths = list(paths)
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

        def operation() -> Operation:
            self._truncate_log()
            needed, how = import_needs(sum(size_of(path) for path in files))
            searched = (
                "検索は最後に書き終えた索引で続けられます。"
                if self._index_figures()[1]
                else "索引はまだできていません。"
            )
            return Operation(
                doing="取り込み",
                where=self.settings.home,
                needed=needed,
                how=how,
                kept=f"この取り込みで保存した記事（追加 {summary.added}件、更新 {summary.updated}件）"
                f"も、それまでの記事も失われていません。{searched}",
                retry=f"python -m indexer import {_shown(paths)}",
                database=self._database_file(),
            )

        with reported(operation):
            return import_files(
                files, self._engine, self._index, fmt, summary, on_file, actor=shell_actor()
            )

    def delete(self, ids: list[int], actor: str | None = None) -> list[int]:
        """Remove these articles from the database, then from the index; the ids found.

        ``actor`` is who deletes them, for their history (the shell's user by default).
        """
        ids = [i for i in ids if 0 < i <= MAX_ARTICLE_ID]
        with writer_session(self._engine) as session, session.begin():
            audit.acting_as(session, actor or shell_actor())
            found = delete_articles(session, ids)
        if found:
            kept = f"{len(found)}件の記事はデータベースから削除しました。"
            with reported(lambda: self._catch_up_operation("索引からの削除", kept, REPAIR)):
                catch_up(self._engine, self._index)
        return found

    def add_uploads(
        self, uploads: Iterable[Upload], actor: str, fmt: str = "auto"
    ) -> ImportSummary:
        """Import files that came over the network, as ``import`` does files on disk.

        The same readers, dedupe and rules for bad input; the summary lists every
        article read (``articles``) and every file or line refused, with why.
        """
        summary = ImportSummary(articles=[])
        return import_files(list(uploads), self._engine, self._index, fmt, summary, actor=actor)

    def add_records(self, records: list[Any], actor: str) -> ImportSummary:
        """Import articles given as JSON objects, each read as a line of a JSON Lines file."""
        # ASCII escapes keep what a record holds (half a surrogate pair too) for the
        # reader to judge, as it would in a file.
        data = "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in records)
        return self.add_uploads([Upload("api.jsonl", data.encode("ascii"))], actor, "jsonl")

    def edit(
        self,
        article_id: int,
        actor: str,
        *,
        title: str,
        category: str | None,
        tags: list[str],
        version: str | None = None,
    ) -> tuple[ArticleRecord, tuple[str, ...]]:
        """Change an article's title, category and tags; the article and what changed.

        Logged in the change log like an import, so every node's index follows.
        :class:`~indexer.errors.EditConflict` when the article changed since
        ``version`` (its ``updated_at`` as the editor saw it), or went.
        """
        if not 0 < article_id <= MAX_ARTICLE_ID:
            raise ArticleNotFound(f"ID {article_id} の記事はありません。")
        with writer_session(self._engine, expire_on_commit=False) as session, session.begin():
            audit.acting_as(session, actor)
            article, changed = edit_article(
                session, article_id, title=title, category=category, tags=tags, version=version
            )
            record = ArticleRecord.of(article)
        if changed:
            catch_up(self._engine, self._index)
        return record, changed

    def history(self, article_id: int) -> list[Event]:
        """Who added, updated, edited (or deleted) this article and when, oldest first."""
        with self._session() as session:
            return audit.history(session, article_id)

    def recent_events(self, limit: int = 50) -> list[Event]:
        """The archive's newest additions, edits and deletions, newest first."""
        with self._session() as session:
            return audit.recent(session, limit)

    # Who may use the archive: users, roles, API tokens, feed keys, saved searches

    def add_user(self, name: str, password: str, role: str = READER) -> Account:
        with self._session() as session, session.begin():
            return accounts.add_user(session, name, password, role)

    def users(self) -> list[Account]:
        with self._session() as session:
            return accounts.list_users(session)

    def user_count(self) -> int:
        with self._session() as session:
            return accounts.user_count(session)

    def remove_user(self, name: str) -> None:
        """Remove the user and their saved searches; their sessions end at their next request."""
        with self._session() as session, session.begin():
            accounts.remove_user(session, name)

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session signed in with the old one ends."""
        with self._session() as session, session.begin():
            accounts.set_password(session, name, password)

    def set_role(self, name: str, role: str) -> Account:
        with self._session() as session, session.begin():
            return accounts.set_role(session, name, role)

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account this name and password open, or ``None``."""
        with self._session() as session, session.begin():
            return accounts.authenticate(session, name, password)

    def account(self, user_id: int, session_key: str) -> Account | None:
        """The account a session names, while its key is the user's (a new password ends it)."""
        with self._session() as session:
            return accounts.account(session, user_id, session_key)

    def create_token(self, name: str, role: str) -> tuple[TokenInfo, str]:
        """A new API token: what is kept of it, and the token (shown once, kept only hashed)."""
        with self._session() as session, session.begin():
            return accounts.create_token(session, name, role)

    def tokens(self) -> list[TokenInfo]:
        with self._session() as session:
            return accounts.list_tokens(session)

    def revoke_token(self, name: str) -> TokenInfo:
        with self._session() as session, session.begin():
            return accounts.revoke_token(session, name)

    def verify_token(self, token: str) -> TokenInfo:
        """The API token a request presents; :class:`~indexer.errors.TokenRejected` if none."""
        with self._session() as session:
            return accounts.verify_token(session, token)

    def web_secret(self) -> str:
        """The secret sessions are signed with: one for every worker and node of this database."""
        if self._secret is None:
            with self._session() as session, session.begin():
                self._secret = accounts.shared_secret(session)
        return self._secret

    def feed_key(self, account: Account) -> str:
        """The key that lets a feed reader fetch this user's feeds (until it is renewed)."""
        return accounts.feed_key(self.web_secret(), account)

    def feed_account(self, key: str) -> Account | None:
        with self._session() as session:
            return accounts.feed_account(session, self.web_secret(), key)

    def renew_feed_key(self, user_id: int) -> Account:
        """Revoke the user's feed key: every feed URL handed out with it stops working."""
        with self._session() as session, session.begin():
            return accounts.renew_feed_key(session, user_id)

    def save_search(self, user_id: int, name: str, params: dict[str, str]) -> SavedSearch:
        with self._session() as session, session.begin():
            return saved.save(session, user_id, name, params)

    def saved_searches(self, user_id: int) -> list[SavedSearch]:
        with self._session() as session:
            return saved.searches(session, user_id)

    def remove_saved_search(self, user_id: int, search_id: int) -> bool:
        with self._session() as session, session.begin():
            return saved.remove(session, user_id, search_id)

    def reindex(self, on_progress: Callable[[int], None] | None = None) -> IndexInfo:
        """Rebuild the whole index from the database and switch searches to it.

        Refused first, with the figures (:class:`~indexer.errors.DiskFull`),
        when the disk has less room than the new index is estimated to take.
        """
        operation = self._rebuild_operation(
            self.article_count(),
            kept="データベースも元の索引もそのままで、検索には元の索引を使い続けます。",
            retry="python -m indexer reindex",
        )
        operation.check()
        with reported(lambda: operation):
            return rebuild_index(self._engine, self._index, on_progress)

    def check(self) -> IndexCheck:
        """How the index differs from the database.

        :class:`~indexer.errors.IndexMissing`, ``IndexOutdated`` or ``IndexDamaged``
        when there is no index to compare, or it cannot be read (``reindex``).
        """
        self._index.open()
        with self._search.snapshot() as snapshot:
            indexed = index_versions(snapshot)
        with self._session() as session:
            stored = database_versions(session)
        return compare(stored, indexed)

    def repair(self, found: IndexCheck) -> IndexCheck:
        """Index or remove what ``found`` says differs, and check again."""
        if found.ok:
            return found
        repairing = self._catch_up_operation(
            "索引の修復", "データベースの記事は失われていません。", REPAIR, len(found.to_index)
        )
        with self._session() as session, reported(lambda: repairing):
            articles = get_articles(session, list(found.to_index))
            present = {a.id for a in articles}
            removed = [*found.to_remove, *(i for i in found.to_index if i not in present)]
            self._index.apply_changes(
                lambda applied: ChangeBatch(articles, removed, seq=applied, changes=0),
                expected=len(articles),
            )
        return self.check()

    def disk_space(self) -> DiskSpace:
        """How much room the index has, and what a reindex and the waiting changes need."""
        index_bytes, documents, applied = self._index_figures()
        with self._session() as session:
            pending = changes.count_after(session, applied) if documents else 0
            articles = count_articles(session)
        needed, how = rebuild_needs(articles, index_bytes, documents, self._database_bytes())
        return DiskSpace(
            path=self.settings.index_root,
            free=free_bytes(self.settings.index_root),
            rebuild_needs=needed,
            rebuild_how=how,
            pending=pending,
            pending_needs=update_needs(pending, index_bytes, documents)[0],
            documents=documents,
            applied_seq=applied,
        )

    # Following the database (a search node sharing it with others)

    def follow(self, reindex_after: int | None = REINDEX_AFTER) -> FollowResult:
        """Apply the changes other nodes (or imports) made since the index last caught up.

        A node without a usable index, or more than ``reindex_after`` changes
        behind, rebuilds its index instead.
        """
        with reported(lambda: self._catch_up_operation("索引への反映", FOLLOW_KEPT, FOLLOW)):
            return catch_up(self._engine, self._index, reindex_after)

    def follow_forever(
        self,
        interval: float,
        stop: threading.Event,
        on_round: Callable[[FollowResult | Exception], None] | None = None,
        reindex_after: int | None = REINDEX_AFTER,
    ) -> None:
        """Follow every ``interval`` seconds until ``stop`` is set; a failed round is retried.

        A round that failed on a full or failing disk is told to ``on_round`` as
        the :class:`~indexer.errors.DiskFull` (or ``WriteFailed``) saying so.
        """

        def told(result: FollowResult | Exception) -> None:
            if isinstance(result, Exception):
                operation = self._catch_up_operation("索引への反映", FOLLOW_KEPT, FOLLOW)
                result = operation.failed(result) or result
            if on_round is not None:
                on_round(result)

        follow(self._engine, self._index, interval, stop, told, reindex_after)

    def copy_to(
        self,
        database_url: str,
        force: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> CopyResult:
        """Copy the articles and the change log to another database, ids kept (see copying)."""
        return copy_database(self._engine, database_url, force, on_progress)

    # Backups (SQLite only; other databases have their own tools)

    @staticmethod
    def require_backups(settings: Settings | None = None, action: str = "バックアップ") -> None:
        """Refuse, with the tools to use instead, an archive whose database is not SQLite.

        Asked before an :class:`Archive` is opened, so a database that cannot be
        reached still gets the advice rather than a connection error.
        """
        sqlite_path((settings or Settings.from_env()).database_url, action)

    def backup(self, destination: Path) -> int:
        """Copy the database to the file ``destination``, consistent even while imports
        run; how many articles the copy holds."""
        database = sqlite_path(self.settings.database_url, "バックアップ")
        size = self._database_bytes()
        operation = Operation(
            doing="バックアップ",
            where=destination.absolute().parent,
            needed=max(MIN_FREE_BYTES, size),
            how=f"データベースの大きさ {mebibytes(size)}",
            kept="アーカイブは何も変わっていません（書きかけのバックアップは消しました）。",
            retry=f"python -m indexer backup {shlex.quote(str(destination))}",
        )
        operation.check()
        with reported(lambda: operation):
            return backup_sqlite(self._engine, database, destination)

    def restore(
        self, source: Path, *, force: bool = False, on_progress: ImportProgress | None = None
    ) -> int:
        """Replace the articles with those of the backup ``source``, then rebuild the index.

        An archive that holds articles is replaced only with ``force``.
        ``on_progress`` is told (articles indexed, articles in all) as the index is built.
        """
        database = sqlite_path(self.settings.database_url, "バックアップから復元")
        count = backup_article_count(source)  # a bad file is refused before anything is touched
        if not force and (present := self.article_count()):
            raise ArchiveError(
                f"{self.settings.home} にはもう{present}件の記事があります。置き換えるなら"
                f" --force を付けてください: python -m indexer restore --force {source}"
            )
        retry = f"python -m indexer restore {'--force ' if force else ''}{shlex.quote(str(source))}"
        # The copy goes through the database's write-ahead log: twice the backup's size.
        copying = Operation(
            doing="復元",
            where=database.parent,
            needed=2 * size_of(source),
            how=f"バックアップ {mebibytes(size_of(source))} の2倍",
            kept="アーカイブのデータベースも索引も元のままです。",
            retry=retry,
            database=database,
        )
        indexing = self._rebuild_operation(
            count,
            database_bytes=size_of(source),
            kept=f"記事{count}件はデータベースに戻しました。索引は作り直せていないため、"
            "検索にはまだ以前の索引が使われます。",
            retry="python -m indexer reindex",
        )
        _check_both(copying, indexing)
        with reported(lambda: copying):
            total = restore_sqlite(source, self._engine)
            # A backup made by an older version is at an older revision: bring it to
            # this one's (the entities of 0005 are read then), as opening it would.
            schema.prepare(self._engine, auto_upgrade=True)
        done = 0

        def indexed(count: int) -> None:
            nonlocal done
            done += count
            if on_progress is not None:
                on_progress(done, total)

        if on_progress is not None:
            on_progress(0, total)
        with reported(lambda: indexing):
            rebuild_index(self._engine, self._index, indexed)
        return total

    # What writing needs (for the messages of a full or failing disk)

    def _database_file(self) -> Path | None:
        """The SQLite database's file; ``None`` for another database."""
        try:
            return sqlite_path(self.settings.database_url, "")
        except ArchiveError:
            return None

    def _index_figures(self) -> tuple[int, int, int]:
        """The index searches use: its bytes, documents and last change applied (zeros if none)."""
        try:
            info = self._index.info()
        except (IndexMissing, IndexOutdated, IndexDamaged):
            return 0, 0, 0
        return directory_size(info.path), info.documents, info.applied_seq

    def _truncate_log(self) -> None:
        """Give the disk back what SQLite's write-ahead log kept of a transaction rolled
        back (the log does not shrink by itself); nothing if that fails too."""
        if self._database_file() is None:
            return
        with contextlib.suppress(Exception), self._engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def _database_bytes(self) -> int:
        database = self._database_file()
        if database is None:
            return 0
        return size_of(database) + size_of(database.with_name(database.name + "-wal"))

    def _rebuild_operation(
        self, articles: int, kept: str, retry: str, database_bytes: int | None = None
    ) -> Operation:
        index_bytes, documents, _ = self._index_figures()
        database_bytes = self._database_bytes() if database_bytes is None else database_bytes
        needed, how = rebuild_needs(articles, index_bytes, documents, database_bytes)
        return Operation("索引の作り直し", self.settings.index_root, needed, how, kept, retry)

    def _catch_up_operation(
        self, doing: str, kept: str, retry: str, articles: int | None = None
    ) -> Operation:
        """What bringing the index up to the database needs: its waiting changes, applied
        (``articles`` of them, when known), or a rebuild when it has no index."""
        index_bytes, documents, applied = self._index_figures()
        with self._session() as session:
            waiting = changes.count_after(session, applied) if articles is None else articles
            stored = count_articles(session)
        if not documents or waiting > REINDEX_AFTER:
            needed, how = rebuild_needs(stored, index_bytes, documents, self._database_bytes())
        else:
            needed, how = update_needs(waiting, index_bytes, documents)
        kept += f"索引は変更 #{applied} まで反映した状態のまま、検索に使えます。"
        return Operation(doing, self.settings.index_root, needed, how, kept, retry)

    # Whole-archive reports

    def export(self, out: TextIO, query: str | None = None) -> int:
        """Write the archive (or every result of ``query``) as JSON Lines; how many were written."""
        with self._session() as session:
            if query:
                return write_jsonl(get_articles(session, self._search.matching_ids(query)), out)
            return write_jsonl(iter_articles(session), out)

    def duplicates(self, threshold: float = 0.8) -> list[DuplicateMatch]:
        """Pairs of near-identical articles, most alike first."""
        with self._session() as session:
            pairs: list[DuplicatePair] = near_duplicates(
                ((a.id, a.body) for a in iter_articles(session)), threshold
            )
            ids = sorted({i for p in pairs for i in (p.first, p.second)})
            records = {a.id: ArticleRecord.of(a) for a in get_articles(session, ids)}
        return [DuplicateMatch(p.similarity, records[p.first], records[p.second]) for p in pairs]

    def stats(self) -> ArchiveStats:
        with self._session() as session:
            summary = summarize(session)
        try:
            info = self.index_info()
        except ArchiveError:
            info = None  # a missing or stale index is part of the report
        size = directory_size(info.path) if info else 0
        return ArchiveStats(
            articles=summary.articles,
            sites=tuple((site or "(none)", n) for site, n in summary.sites),
            oldest=summary.oldest,
            newest=summary.newest,
            undated=summary.undated,
            database=make_url(self.settings.database_url).render_as_string(hide_password=True),
            index=info,
            index_bytes=size,
        )


def shell_actor() -> str:
    """Who changes the archive from the command line, for the articles' history."""
    try:
        return f"shell:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container, say)
        return "shell"


# The database's schema, apart from any one archive (an outdated one cannot be opened)


def database_status(settings: Settings | None = None) -> SchemaStatus:
    """The revision the archive's database is at, and the newest one."""
    engine = make_engine((settings or Settings.from_env()).database_url, prepare=False)
    try:
        return schema.status(engine)
    finally:
        engine.dispose()


def upgrade_database(settings: Settings | None = None) -> tuple[SchemaStatus, SchemaStatus]:
    """Migrate the archive's database to the newest revision; where it stood before and after."""
    engine = make_engine((settings or Settings.from_env()).database_url, prepare=False)
    try:
        return schema.upgrade(engine)
    finally:
        engine.dispose()


def migration_history() -> list[Revision]:
    """Every revision of the schema, oldest first."""
    return schema.history()


# A date is written in a few characters; longer text in a date field is a mistake, or an
# attempt to make the server read megabytes of it.
MAX_DATE_CHARS = 100
# A site, category or tag is a name; a longer one matches nothing anyway.
MAX_FILTER_CHARS = 300


def _filters(
    named: Mapping[str, str | Sequence[str] | None],
    date_from: str | date | None,
    date_to: str | date | None,
    exclude: Mapping[str, Sequence[str]] | None = None,
    undated: bool = False,
) -> Filters:
    """The filters of a search, or a :class:`QueryError` naming the argument at fault.

    ``named``: the value facets (site, category, tag, person, org, place), each
    one value or several (any of them); ``exclude`` leaves out the articles
    with a value; ``undated`` keeps those without a date.
    """
    values = {n: (v,) if isinstance(v, str) else tuple(v or ()) for n, v in named.items()}
    excluded = tuple((n, v) for n, vs in (exclude or {}).items() for v in vs)
    for name in exclude or {}:
        if name not in named:
            raise QueryError(
                f"{name} では除外できません（{'、'.join(named)} のどれかです）。", "exclude"
            )
    for name, value in [(n, v) for n, vs in values.items() for v in vs] + list(excluded):
        if value and len(value) > MAX_FILTER_CHARS:
            raise QueryError(
                f"{name} が長すぎます（{len(value):,}文字、{MAX_FILTER_CHARS}文字まで）。", name
            )
    days = []
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        try:
            days.append(_day(value))
        except QueryError as exc:
            exc.parameter = exc.parameter or name
            raise
    chosen = {n: vs[0] if len(vs) == 1 else vs or None for n, vs in values.items()}
    return Filters(
        date_from=days[0],
        date_to=days[1],
        excluded=excluded,
        undated=undated,
        **chosen,
    )


def _day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if len(value) > MAX_DATE_CHARS:
        raise QueryError(
            f"日付が長すぎます（{len(value):,}文字、{MAX_DATE_CHARS}文字まで）。"
            "2025-01-20 のように入れてください。"
        )
    return parse_day(value)


def directory_size(path: Path) -> int:
    return size_of(path)


# The commands that bring an index up to the database, for the messages that need one.
REPAIR = "python -m indexer check --repair"
FOLLOW = "python -m indexer follow --once"
FOLLOW_KEPT = "データベースの記事は失われていません。"


def _shown(paths: list[Path]) -> str:
    """Paths as a command line takes them (the first few)."""
    shown = shlex.join(str(path) for path in paths[:3])
    return shown + (" …" if len(paths) > 3 else "")


def _check_both(first: Operation, second: Operation) -> None:
    """Check two operations' room, together when they write to one filesystem."""
    try:
        same = os.stat(_existing(first.where)).st_dev == os.stat(_existing(second.where)).st_dev
    except OSError:
        same = False
    if same:
        both = first.needed + second.needed
        how = f"{first.how}と、{second.doing}に {mebibytes(second.needed)}（{second.how}）"
        replace(first, needed=both, how=how).check()
    else:
        first.check()
        second.check()


def _existing(path: Path) -> Path:
    return next(folder for folder in (path, *path.parents) if folder.exists())
