"""The database schema: the articles, their sketches and the log of their changes (SQLAlchemy 2.0).

The schema itself is made and changed by the migrations in ``indexer/migrations``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Identity, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """A time-zone-aware datetime, given back in UTC on every backend.

    PostgreSQL keeps it as ``timestamp with time zone`` (an instant, shown in
    whatever time zone the session has: converted back to UTC on the way out).
    SQLite keeps no offset, so values are stored as naive UTC and given back as
    aware UTC datetimes.  A naive datetime is refused: its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    site: Mapped[str | None] = mapped_column(String(255), index=True)
    agency: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(255))
    credit_sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    captions: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    category: Mapped[str | None] = mapped_column(String(255), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_path: Mapped[str | None] = mapped_column(Text)
    source_format: Mapped[str | None] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The story this article is a copy of (near-identical articles, such as one wire
    # story on several sites): the smallest id among them; None when it stands alone.
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The people, organisations and places its title and body name, by kind
    # ({"person": [...], "org": [...], "place": [...]}; indexer.analysis.entities),
    # worked out when it is stored or its text changes (revision 0005).
    entities: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"Article(id={self.id!r}, title={self.title!r})"


class Sketch(Base):
    """One value of an article's bottom-k sketch (``indexer.store.stories``), indexed by value:
    the articles a new one may be a copy of are those sharing enough of its values."""

    __tablename__ = "sketches"

    value: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class Change(Base):
    """One insert, update or delete of an article, numbered in the order of commits.

    Search nodes apply the changes after the last one their index has seen
    (see :mod:`indexer.store.changes` for why ``seq`` never skips a late commit).
    """

    __tablename__ = "changes"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse a number

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # insert, update or delete
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Change(seq={self.seq!r}, {self.kind} {self.article_id!r})"


# Accounts, tokens, saved searches and the record of who changed what: tables of
# their own beside the articles (revision 0004), so the article rows stay as they were.


class User(Base):
    """A person who logs in to the web app: a name, an Argon2 password hash and a role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))  # reader, editor or admin
    # Part of every session cookie: changed by a new password, which ends every
    # session signed in with the old one.
    session_key: Mapped[str] = mapped_column(String(64))
    # Part of the user's feed key: raised to revoke the feed URLs handed out so far.
    feed_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A named token for scripts (``Authorization: Bearer``), kept only as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A revoked token is kept, so that using it says "revoked", not "unknown".
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SavedSearch(Base):
    """One user's saved search: a name and the search's URL parameters."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleEvent(Base):
    """Who added, updated, edited or deleted an article, and when (kept after a delete)."""

    __tablename__ = "article_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))  # added, updated, edited, deleted
    # "user:NAME", "token:NAME" or "shell:NAME" (the command line, as that OS user).
    actor: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(Text)  # the article's title at that moment
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Secret(Base):
    """A secret the web app needs alike on every worker and node (the session key)."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
