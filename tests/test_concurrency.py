"""Several importers against one database: every article stored once, none lost, none failed."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from indexer import importing
from indexer.store.articles import Outcome, save_article
from indexer.store.models import Article

from .conftest import (
    ROOT,
    database,
    import_into,
    make_archive,
    read_one,
    session_of,
    write_jsonl,
)

WITH_URL = [
    {
        "title": f"関西の話題 第{i}号",
        "body": f"第{i}号の本文。関西国際空港の発着便が{i}便増えた。",
        "url": f"https://news.example/kansai/{i}",
    }
    for i in range(150)
]
# Without a URL an article is known by its text.
WITHOUT_URL = [
    {"title": f"投稿 {i}", "body": f"URLのない投稿その{i}。京都の紅葉は{i}日目。"}
    for i in range(30)
]
SUMMARY = re.compile(r"追加 (\d+)、更新 (\d+)、変更なし (\d+)、対象外 \d+、失敗 (\d+)")


def importer(home, url, folder) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "import", str(folder)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_importers_of_overlapping_files_store_every_article_once(postgres_databases, tmp_path):
    # PostgreSQL only: SQLite takes one writer at a time, and a second
    # importer whose transaction started reading before the first committed
    # is refused ("database is locked") rather than queued.
    url = postgres_databases.new()
    with make_archive(tmp_path / "setup", url):
        pass  # the schema, made once
    records = WITH_URL + WITHOUT_URL
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    # The same articles in opposite orders, in one file and in many small
    # ones: the two importers wait for each other's rows and deadlock, and the
    # file tried again must not deadlock again (it runs alone: a flaky failure
    # in 2 of 6 runs before it did).
    write_jsonl(first / "all.jsonl", records)
    write_jsonl(second / "all-reversed.jsonl", records[::-1])
    for n in range(0, len(records), 20):
        write_jsonl(first / f"part-{n:03}.jsonl", records[n : n + 20][::-1])
        write_jsonl(second / f"part-{n:03}.jsonl", records[n : n + 20])

    processes = [
        importer(tmp_path / "node-a", url, first),
        importer(tmp_path / "node-b", url, second),
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    summaries = []
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
        added, updated, unchanged, failed = map(int, SUMMARY.search(out).groups())
        assert (updated, failed) == (0, 0), out
        assert added + unchanged == 2 * len(records), out
        summaries.append(added)
    assert sum(summaries) == len(records)

    with make_archive(tmp_path / "check", url) as archive, session_of(archive) as session:
        assert archive.article_count() == len(records)
        distinct = session.execute(
            select(func.count(func.distinct(Article.content_hash)), func.count(Article.url))
        ).one()
        assert tuple(distinct) == (len(records), len(WITH_URL))
        titles = set(session.scalars(select(Article.title)))
    assert titles == {r["title"] for r in records}


def test_a_group_of_files_that_deadlocks_is_stored_again_whole(
    postgres_databases, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger=importing.__name__)
    url = postgres_databases.new()
    folder = tmp_path / "group"
    folder.mkdir()
    for n in range(2):
        record = {"title": f"記事{n}", "body": f"本文その{n}。", "url": f"https://news.example/{n}"}
        write_jsonl(folder / f"{n}.jsonl", [record])
    files = sorted(folder.iterdir())
    drafts = [read_one(path) for path in files]
    with make_archive(tmp_path / "home", url) as archive, database(archive) as engine:
        done = []
        group = threading.Thread(
            target=lambda: done.extend(importing.store_group(engine, files, "auto"))
        )
        # Another writer stores the same two articles in the opposite order:
        # the importer waits for its second article, and then the other writer
        # for the importer's first.  PostgreSQL ends the deadlock by failing
        # the importer's transaction (it has waited longer).
        with Session(engine) as other, other.begin():
            save_article(other, drafts[1])
            group.start()
            with engine.connect() as watcher:
                deadline = time.monotonic() + 30
                while not watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                    assert time.monotonic() < deadline, "the importer never waited"
                    time.sleep(0.01)
            save_article(other, drafts[0])
        group.join(timeout=60)
        assert not group.is_alive()
    assert "storing its files again" in caplog.text
    assert [(r.path, r.failed) for r in done] == [(path, []) for path in files]
    assert [saved.outcome for r in done for saved in r.stored] == [Outcome.UNCHANGED] * 2


def test_a_url_too_long_to_index_fails_that_article_only(archive, tmp_path):
    long_url = "https://news.example/" + "記事" * 400  # 2,421 bytes in UTF-8
    summary = import_into(
        archive,
        write_jsonl(
            tmp_path / "feed.jsonl",
            [
                {"title": "長いURL", "body": "本文。", "url": long_url},
                {"title": "普通の記事", "body": "普通の本文。", "url": "https://news.example/1"},
            ],
        ),
    )
    assert summary.added == 1
    [error] = summary.failed
    assert str(error) == (
        f"{tmp_path / 'feed.jsonl'}:1: URLが長すぎて保存できません（2421バイト、上限は2048バイト）"
    )
    assert archive.search("普通").total == 1


def test_a_nul_character_is_dropped_and_the_article_kept(archive, tmp_path):
    """PostgreSQL's text cannot hold a NUL: it is dropped on every backend alike."""
    summary = import_into(
        archive,
        write_jsonl(
            tmp_path / "feed.jsonl",
            [{"title": "NUL入り", "body": "本文\x00です。"}, {"title": "無事", "body": "本文。"}],
        ),
    )
    assert summary.added == 2 and not summary.failed
    [hit] = archive.search("NUL入り").hits
    assert archive.article(hit.id).body == "本文です。"
