"""Moving an archive to another database (SQLite ↔ PostgreSQL), ids and change log kept."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text, tuple_
from sqlalchemy.engine import make_url

from indexer.errors import ArchiveError
from indexer.store import revisions as schema
from indexer.store.articles import make_engine, snapshot_session
from indexer.store.models import (
    ApiToken,
    Article,
    ArticleEvent,
    Change,
    SavedSearch,
    Secret,
    Sketch,
    User,
)

log = logging.getLogger(__name__)

COPY_BATCH = 1000
# Copied beside the articles, so that the same people log in to the moved archive,
# with the same tokens, saved searches, history and session secret.
ACCOUNT_TABLES = (User, ApiToken, SavedSearch, ArticleEvent, Secret)


@dataclass(frozen=True)
class CopyResult:
    articles: int
    changes: int
    target: str  # the target's URL, password hidden


def copy_database(
    source: Engine,
    target_url: str,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
    batch: int = COPY_BATCH,
) -> CopyResult:
    """Copy every article, the change log and the accounts into the database at ``target_url``.

    The target is brought to the newest schema and must hold no articles (or
    ``force``: what it holds is replaced).  Rows keep their ids and change
    numbers, so an index built from the source stays right for the target.
    It is written in one transaction: a failed copy leaves the target as it was.
    """
    shown = make_url(target_url).render_as_string(hide_password=True)
    if make_url(target_url) == source.url:
        raise ArchiveError("コピー元とコピー先が同じデータベースです。")
    target = make_engine(target_url, prepare=False)
    try:
        schema.upgrade(target)
        with snapshot_session(source) as reading, target.begin() as writing:
            held = writing.scalar(select(func.count()).select_from(Article))
            if held and not force:
                raise ArchiveError(
                    f"コピー先のデータベースは空ではありません（記事 {held}件）: {shown}。"
                    "中身を置き換えるには --force を付けてください。"
                )
            for model in (Change, Sketch, Article, *ACCOUNT_TABLES):
                writing.execute(delete(model))
            source_rows = reading.connection()
            articles = _copy_table(source_rows, writing, Article.__table__, batch, on_progress)
            changes = _copy_table(source_rows, writing, Change.__table__, batch, None)
            _copy_table(source_rows, writing, Sketch.__table__, batch, None)
            for model in ACCOUNT_TABLES:
                _copy_table(source_rows, writing, model.__table__, batch, None)
            if writing.dialect.name == "postgresql":
                _reset_sequences(writing)
    finally:
        target.dispose()
    log.info("copied %d articles and %d changes to %s", articles, changes, shown)
    return CopyResult(articles, changes, shown)


def _copy_table(
    source: Connection,
    target: Connection,
    table: Table,
    batch: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    keys = list(table.primary_key.columns)
    copied, last = 0, None
    while True:
        query = select(table).order_by(*keys).limit(batch)
        if last is not None:
            query = query.where(tuple_(*keys) > tuple_(*last))
        rows = [dict(row) for row in source.execute(query).mappings()]
        if not rows:
            return copied
        target.execute(insert(table), rows)
        copied += len(rows)
        last = [rows[-1][key.name] for key in keys]
        if on_progress is not None:
            on_progress(len(rows))


def _reset_sequences(connection: Connection) -> None:
    # Rows came with their ids: move the sequences past them, or the next
    # insert would be handed an id already taken.
    for table, column in (
        ("articles", "id"),
        ("changes", "seq"),
        ("users", "id"),
        ("api_tokens", "id"),
        ("saved_searches", "id"),
        ("article_events", "id"),
    ):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
            )
        )
