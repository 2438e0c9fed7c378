"""The store on each backend: times, Japanese text and lists come back as they went in."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError

from indexer.readers.dates import TOKYO
from indexer.store.articles import use_wal
from indexer.store.models import Article

from .conftest import database, import_into, make_archive, session_of, write_jsonl

TEXTS = {
    "title": "𠮷野家の「牛丼」が値上げ ｶﾀｶﾅ ㍿ ①",
    "body": "髙橋さんは﨑陽軒でシウマイを買った。🍜 が好き。\n二行目：全角　空白。",
    "author": "渡邊 太郎",
    "site": "news.例え.jp",
    "category": "経済",
}
LISTS = {"tags": ["値上げ", "外食", "AI"], "captions": ["写真：店舗の外観"]}


def dated(title: str, published: datetime) -> dict:
    return {"title": title, "body": f"{title}の本文。", "published_at": published.isoformat()}


def test_japanese_text_and_lists_come_back_unchanged(archive, tmp_path):
    record = {**TEXTS, **LISTS, "url": "https://news.例え.jp/記事/1"}
    import_into(archive, write_jsonl(tmp_path / "a.jsonl", [record]))
    stored = archive.article(1)
    for name, value in TEXTS.items():
        assert getattr(stored, name) == value
    assert stored.tags == tuple(LISTS["tags"])
    assert stored.captions == tuple(LISTS["captions"])
    assert stored.url == record["url"]


@pytest.mark.parametrize("session_zone", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_postgresql_gives_the_same_instant_whatever_the_session_time_zone(
    postgres_databases, tmp_path, session_zone
):
    url = postgres_databases.new()
    published = datetime(2025, 1, 20, 9, 5, 7, 123456, tzinfo=TOKYO)
    with make_archive(tmp_path / "home", url) as archive:
        import_into(archive, write_jsonl(tmp_path / "a.jsonl", [dated("時刻", published)]))
    zoned = make_url(url).update_query_dict({"options": f"-c timezone={session_zone}"})
    with make_archive(tmp_path / "home", zoned.render_as_string(False)) as archive:
        with session_of(archive) as session:
            row = session.get(Article, 1)
            assert row.published_at == published
            assert row.published_at.tzinfo is UTC
            assert abs(row.imported_at - datetime.now(UTC)) < timedelta(minutes=5)
        assert archive.article(1).published_at.isoformat() == "2025-01-20T09:05:07.123456+09:00"
        stats = archive.stats()
    assert stats.oldest == stats.newest == published


def test_postgresql_keeps_times_with_their_time_zone(postgres_databases, tmp_path):
    with make_archive(tmp_path / "home", postgres_databases.new()) as archive:
        with database(archive) as engine:
            columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("articles")}
    for name in ("published_at", "imported_at", "updated_at"):
        assert columns[name].timezone, name


def test_a_naive_time_is_refused(archive):
    with session_of(archive) as session, pytest.raises(StatementError, match="naive datetime"):
        session.add(
            Article(title="t", body="b", content_hash="x", published_at=datetime(2025, 1, 1))
        )
        session.flush()


def test_an_offset_other_than_tokyo_is_kept_as_the_same_instant(archive, tmp_path):
    published = datetime(2025, 1, 20, 23, 30, 0, 500, tzinfo=timezone(timedelta(hours=-5)))
    import_into(archive, write_jsonl(tmp_path / "a.jsonl", [dated("時差", published)]))
    assert archive.article(1).published_at == published
    assert archive.article(1).published_at.isoformat() == "2025-01-21T13:30:00.000500+09:00"
    stats = archive.stats()
    assert stats.oldest == stats.newest == published


def test_a_new_database_locked_by_another_opener_is_put_in_wal_mode_once_it_is_free(tmp_path):
    """SQLite answers "locked" at once, not after waiting, to one of two processes converting
    a new archive at the same moment (waiting would deadlock them); it must try again."""
    path = tmp_path / "archive.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE t (x)")
    release = threading.Timer(0.3, holder.execute, ["COMMIT"])
    release.start()
    opener = sqlite3.connect(path, isolation_level=None, timeout=0)  # no waiting in SQLite
    try:
        cursor = opener.cursor()
        use_wal(cursor)
        assert cursor.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        release.join()
        opener.close()
        holder.close()
