"""Storing articles: the database is the archive's source of truth."""

from __future__ import annotations

import enum
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, delete, event, func, or_, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from indexer.analysis import extract_entities
from indexer.errors import ArticleNotFound, ArticleRejected, EditConflict
from indexer.readers.dates import TOKYO
from indexer.readers.drafts import ArticleDraft
from indexer.readers.drafts import content_hash as hash_of
from indexer.store import audit, changes, stories
from indexer.store import revisions as schema
from indexer.store.models import Article, utcnow

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
# A URL is unique, so it is indexed: PostgreSQL refuses an index entry over
# ~2,700 bytes, and the column holds 2,048 characters.  The same limit on
# every backend, so that an archive can move between them.
MAX_URL_BYTES = 2048
# SQLSTATEs of a transaction PostgreSQL gave up and that may simply be run
# again: deadlock_detected and serialization_failure.
_TRANSIENT_SQLSTATES = {"40P01", "40001"}
# How long an SQLite writer waits for another one's lock before failing.
SQLITE_BUSY_MS = 30_000
# Between tries to put a new SQLite database in WAL mode while another process does.
WAL_RETRY_SECONDS = 0.05


class Outcome(enum.Enum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def make_engine(url: str, prepare: bool = True) -> Engine:
    """An engine on the archive's database; for SQLite the folder is created too.

    With ``prepare`` the schema is made ready first (:func:`indexer.store.revisions.prepare`):
    a new database is created by the migrations, an embedded SQLite archive is
    upgraded, and any other database at an older revision is refused.
    """
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    if prepare:
        try:
            schema.prepare(engine, auto_upgrade=engine.dialect.name == "sqlite")
        except BaseException:
            engine.dispose()
            raise
    return engine


def snapshot_session(engine: Engine) -> Session:
    """A session whose reads all see the database as of one moment (for long reads).

    So that a count and the batches read after it agree while others write.
    Python's sqlite3 starts no transaction for reads by itself: begin one (a
    WAL read snapshot).
    """
    if engine.dialect.name == "postgresql":
        return Session(engine.execution_options(isolation_level="REPEATABLE READ"))
    session = Session(engine)
    session.connection()  # BEGIN now (on SQLite a WAL read snapshot), not at the first read
    return session


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Python 3.11's sqlite3 begins transactions itself, only before writes, and
    # lets a SAVEPOINT outside a transaction commit on release: an article stored
    # in its savepoint stayed stored even when its file's transaction rolled back.
    # SQLAlchemy begins instead (_sqlite_begin), before the first statement.
    dbapi_connection.isolation_level = None
    # WAL lets the web app read while an import writes; the busy timeout makes
    # a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    use_wal(cursor)
    # In WAL mode NORMAL loses no committed data on a crash of the program,
    # only (rarely) the last commits on a power cut, and saves an fsync per file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode (kept in the file), trying again while it is locked.

    Two processes opening a new archive at the same moment both convert it,
    and SQLite tells one of them "database is locked" at once, without waiting
    (waiting would deadlock them).  Its statement ended, the other finishes,
    and the file is then in WAL mode already.
    """
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_SECONDS)


def _sqlite_begin(connection) -> None:
    # A writer takes SQLite's write lock at BEGIN (IMMEDIATE), not at its first
    # write after reading, where a second writer could only fail ("database is
    # locked") instead of waiting its turn.
    immediate = connection.get_execution_options().get("sqlite_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer_session(engine: Engine, **options: Any) -> Session:
    """A session for a transaction that writes: on SQLite it holds the write lock from its start."""
    return Session(engine.execution_options(sqlite_immediate=True), **options)


def is_transient(exc: SQLAlchemyError) -> bool:
    """Whether the transaction failed only for the moment (a deadlock, a busy SQLite file)."""
    if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def _check_storable(values: dict[str, Any]) -> None:
    url = values["url"]
    if url and len(url.encode("utf-8")) > MAX_URL_BYTES:
        raise ArticleRejected(
            f"URLが長すぎて保存できません（{len(url.encode('utf-8'))}バイト、"
            f"上限は{MAX_URL_BYTES}バイト）"
        )
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            # PostgreSQL's text cannot hold it; refused on SQLite too, for one behaviour.
            raise ArticleRejected(f"{name} にNUL文字（\\u0000）が含まれていて保存できません")


def _values(draft: ArticleDraft) -> dict[str, Any]:
    values = {name: getattr(draft, name) for name in CONTENT_FIELDS}
    for name in _LIST_FIELDS:
        values[name] = list(values[name])
    values["content_hash"] = draft.content_hash
    return values


# Built once, not for every article stored: building is a good part of
# what a statement costs.
_BY_URL_OR_TEXT = select(Article).where(
    or_(Article.url == bindparam("url"), Article.content_hash == bindparam("content_hash"))
)
_BY_TEXT = select(Article).where(Article.content_hash == bindparam("content_hash"))


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
    _check_storable(values)
    # The article at this URL and the one with this text, in one query.
    found = session.scalars(
        _BY_URL_OR_TEXT if draft.url else _BY_TEXT,
        {"url": draft.url, "content_hash": values["content_hash"]},
    ).all()
    existing = next((a for a in found if draft.url and a.url == draft.url), None)
    twin = next((a for a in found if a.content_hash == values["content_hash"]), None)
    if existing is None:
        if twin is not None:
            return Saved(Outcome.UNCHANGED, twin)
        article = Article(
            **values,
            source_path=draft.source_path,
            source_format=draft.source_format,
            entities=extract_entities(values["title"], values["body"]),
        )
        session.add(article)
        session.flush()
        changes.record(session, article.id, changes.INSERT)
        stories.place(session, article, new=True)
        return Saved(Outcome.ADDED, article)
    if twin is not None and twin.id != existing.id:
        return Saved(Outcome.UNCHANGED, twin)
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        return Saved(Outcome.UNCHANGED, existing)
    for key, value in changed.items():
        setattr(existing, key, value)
    if "title" in changed or "body" in changed:
        existing.entities = extract_entities(existing.title, existing.body)
    existing.source_path = draft.source_path
    existing.source_format = draft.source_format
    existing.updated_at = utcnow()
    session.flush()
    changes.record(session, existing.id, changes.UPDATE)
    if "body" in changed:
        stories.place(session, existing, new=False)
    changed.pop("content_hash", None)
    return Saved(Outcome.UPDATED, existing, tuple(changed))


def _instant(text: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo else None


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise ArticleNotFound(f"ID {article_id} の記事はありません。")
    return article


def get_articles(session: Session, ids: list[int]) -> list[Article]:
    """The articles with these ids, in the order given (missing ones left out)."""
    found = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def bylines(session: Session, ids: list[int]) -> dict[int, tuple[str | None, tuple[str, ...]]]:
    """The author and tags of the articles with these ids (their text not read)."""
    rows = session.execute(
        select(Article.id, Article.author, Article.tags).where(Article.id.in_(ids))
    )
    return {row.id: (row.author, tuple(row.tags or ())) for row in rows}


def delete_articles(session: Session, ids: list[int]) -> list[int]:
    """Delete the articles with these ids; returns the ids that were there."""
    articles = get_articles(session, ids)
    found = [a.id for a in articles]
    if found:
        for article in articles:
            audit.note(session, article.id, audit.DELETED, article.title)
        stories.leave(session, found)
        session.execute(delete(Article).where(Article.id.in_(found)))
        for article_id in found:
            changes.record(session, article_id, changes.DELETE)
    return found


# What an editor may change on the web: how the article is found and shown, never its text.
EDITABLE_FIELDS = ("title", "category", "tags")
MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 255  # a category's or a tag's (the columns' width)
MAX_TAGS = 50


def edit_article(
    session: Session,
    article_id: int,
    *,
    title: str,
    category: str | None,
    tags: list[str],
    version: str | None = None,
) -> tuple[Article, tuple[str, ...]]:
    """Change an article's title, category and tags; the article and the fields that changed.

    ``version`` is the ``updated_at`` the editor saw (ISO 8601): when the article
    changed since, :class:`EditConflict` instead of undoing that change.
    """
    article = session.get(Article, article_id, with_for_update=True)
    if article is None:
        raise EditConflict(f"ID {article_id} の記事はもうありません（削除されました）。")
    if version is not None and article.updated_at != _instant(version):
        raise EditConflict(
            "この記事は編集画面を開いたあとにほかの人か取り込みで変更されました。"
            "変更を確かめてから、もう一度編集してください。"
        )
    title = " ".join(title.split())
    category = " ".join((category or "").split()) or None
    tags = list(dict.fromkeys(t for t in (" ".join(tag.split()) for tag in tags) if t))
    if not title:
        raise ArticleRejected("見出しを空にはできません。")
    if len(title) > MAX_TITLE_CHARS:
        raise ArticleRejected(
            f"見出しが長すぎます（{len(title)}文字、{MAX_TITLE_CHARS}文字まで）。"
        )
    if category and len(category) > MAX_NAME_CHARS:
        raise ArticleRejected(f"カテゴリーが長すぎます（{MAX_NAME_CHARS}文字まで）。")
    if len(tags) > MAX_TAGS or any(len(tag) > MAX_NAME_CHARS for tag in tags):
        raise ArticleRejected(f"タグは{MAX_TAGS}個まで、それぞれ{MAX_NAME_CHARS}文字までです。")
    values: dict[str, Any] = {"title": title, "category": category, "tags": tags}
    _check_storable({"url": None, **values})
    changed = tuple(k for k in EDITABLE_FIELDS if getattr(article, k) != values[k])
    if not changed:
        return article, ()
    if "title" in changed:
        new_hash = hash_of(title, article.body)
        twin = session.scalar(
            select(Article.id).where(Article.content_hash == new_hash, Article.id != article.id)
        )
        if twin is not None:
            raise ArticleRejected(f"同じ見出しと本文の記事がすでにあります（ID {twin}）。")
        article.content_hash = new_hash
    for key in changed:
        setattr(article, key, values[key])
    if "title" in changed:
        article.entities = extract_entities(article.title, article.body)
    article.updated_at = utcnow()
    session.flush()
    changes.record(session, article.id, changes.UPDATE)
    audit.note(session, article.id, audit.EDITED, title, changed)
    return article, changed


def count_articles(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0


@dataclass(frozen=True)
class ArticleSummary:
    """The archive in figures: how many articles, the largest sites, the dates they span."""

    articles: int
    sites: tuple[tuple[str | None, int], ...]
    oldest: datetime | None
    newest: datetime | None
    undated: int


def summarize(session: Session, sites: int = 20) -> ArticleSummary:
    """How many articles there are, the ``sites`` largest sites, and the dates spanned."""
    largest = session.execute(
        select(Article.site, func.count())
        .group_by(Article.site)
        .order_by(func.count().desc(), Article.site)
        .limit(sites)
    ).all()
    oldest, newest = session.execute(
        select(func.min(Article.published_at), func.max(Article.published_at))
    ).one()
    undated = session.scalar(
        select(func.count()).select_from(Article).where(Article.published_at.is_(None))
    )
    return ArticleSummary(
        articles=count_articles(session),
        sites=tuple((site, n) for site, n in largest),
        oldest=_aware(oldest),
        newest=_aware(newest),
        undated=undated or 0,
    )


def _aware(value: datetime | str | None) -> datetime | None:
    # Aggregates may bypass the column type: SQLite can hand back naive UTC (or
    # text), PostgreSQL an instant in the session's time zone.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


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
    return value.isoformat() if value else None


def _tokyo(value: datetime | None) -> datetime | None:
    return value.astimezone(TOKYO) if value else None


@dataclass(frozen=True)
class ArticleRecord:
    """One stored article, detached from the database; times in Tokyo."""

    id: int
    title: str
    body: str
    url: str | None
    site: str | None
    agency: str | None
    author: str | None
    credit_sources: tuple[str, ...]
    captions: tuple[str, ...]
    published_at: datetime | None
    category: str | None
    tags: tuple[str, ...]
    content_hash: str
    source_path: str | None
    source_format: str | None
    imported_at: datetime | None
    updated_at: datetime | None
    # The story of near-identical articles it belongs to (its smallest id); None alone.
    story_id: int | None = None
    # The people, organisations and places it names, by kind, most mentioned first.
    entities: dict[str, list[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, article: Article) -> ArticleRecord:
        return cls(
            id=article.id,
            title=article.title,
            body=article.body,
            url=article.url,
            site=article.site,
            agency=article.agency,
            author=article.author,
            credit_sources=tuple(article.credit_sources or ()),
            captions=tuple(article.captions or ()),
            published_at=_tokyo(article.published_at),
            category=article.category,
            tags=tuple(article.tags or ()),
            content_hash=article.content_hash,
            source_path=article.source_path,
            source_format=article.source_format,
            imported_at=_tokyo(article.imported_at),
            updated_at=_tokyo(article.updated_at),
            story_id=article.story_id,
            entities={kind: list(names) for kind, names in (article.entities or {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        """The whole article as JSON-ready data (``show --json`` and ``/api/articles/<id>``)."""
        return {
            name: _iso(value)
            if isinstance(value, datetime)
            else list(value)
            if isinstance(value, tuple)
            else value
            for name, value in vars(self).items()
        }


def article_record(article: Article) -> dict[str, Any]:
    """The whole article as JSON-ready data."""
    return ArticleRecord.of(article).to_json()
