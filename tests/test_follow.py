"""Search nodes sharing one database: each index follows the change log and converges on it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.cli import cli
from indexer.indexing import catch_up
from indexer.readers.drafts import ArticleDraft
from indexer.store.articles import save_article
from indexer.store.models import Article, Change

from .conftest import (
    ROOT,
    SAMPLE,
    SAMPLE_ARTICLES,
    database,
    import_into,
    index_store,
    make_archive,
    session_of,
    write_jsonl,
)


def indexed_ids(archive) -> set[int]:
    with index_store(archive).open().searcher() as searcher:
        return {int(fields["id"]) for fields in searcher.all_stored_fields()}


def stored_ids(archive) -> set[int]:
    with session_of(archive) as session:
        return set(session.scalars(select(Article.id)))


def change_log(archive) -> list[tuple[int, str]]:
    with session_of(archive) as session:
        return [
            (c.article_id, c.kind) for c in session.scalars(select(Change).order_by(Change.seq))
        ]


def news(n: int, title: str = "灯台の改修") -> list[dict]:
    return [
        {
            "title": f"{title} {i}",
            "body": f"{title}の続報その{i}。",
            "url": f"https://n.example/{title}/{i}",
        }
        for i in range(n)
    ]


def follow_once(home, url, *args: str) -> str:
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url}
    result = CliRunner().invoke(cli, ["follow", "--once", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def nodes(databases, tmp_path):
    """Two search nodes (two homes, two indexes) on one database, and its URL."""
    url = databases.new()
    first = make_archive(tmp_path / "node-a", url)
    second = make_archive(tmp_path / "node-b", url)
    yield first, second, url
    first.close()
    second.close()


def test_two_nodes_converge_on_what_the_database_holds(nodes, tmp_path):
    a, b, url = nodes
    assert import_into(a, SAMPLE).added == SAMPLE_ARTICLES
    assert f"索引を作り直しました: {SAMPLE_ARTICLES}件" in follow_once(b.settings.home, url)
    [kix] = b.search("関西国際空港").hits
    assert b.delete([kix.id]) == [kix.id]
    import_into(b, write_jsonl(tmp_path / "more.jsonl", news(3)))

    assert "変更4件を索引に反映しました: 索引 3件、削除 1件" in follow_once(a.settings.home, url)
    assert "索引は最新です" in follow_once(b.settings.home, url)
    for node in (a, b):
        assert indexed_ids(node) == stored_ids(node)
        assert kix.id not in {hit.id for hit in node.search("関西国際空港").hits}
        assert node.search("灯台").total == 3
        assert node.search("京都").total == 1
    assert a.index_info().applied_seq == b.index_info().applied_seq == SAMPLE_ARTICLES + 4


def test_a_node_that_was_off_catches_up_in_batches(nodes, tmp_path):
    a, b, _url = nodes
    import_into(a, SAMPLE)
    b.follow()
    for n in range(3):
        import_into(a, write_jsonl(tmp_path / f"day{n}.jsonl", news(4, f"第{n}報")))
    with database(b) as engine:
        result = catch_up(engine, index_store(b), batch=5)
    assert (result.changes, result.indexed, result.reindexed) == (12, 12, None)
    assert indexed_ids(b) == stored_ids(b)


def test_a_node_too_far_behind_rebuilds_its_index(nodes, tmp_path):
    a, b, url = nodes
    import_into(a, SAMPLE)
    b.follow()
    before = index_store(b).current_path()
    import_into(a, write_jsonl(tmp_path / "many.jsonl", news(6)))
    output = follow_once(b.settings.home, url, "--reindex-after", "5")
    assert f"6件の変更の遅れがあったため、索引を作り直しました: {SAMPLE_ARTICLES + 6}件" in output
    assert index_store(b).current_path() != before
    assert b.search("灯台").total == 6


def test_an_index_built_by_another_analyzer_is_rebuilt_by_follow(nodes):
    a, b, _url = nodes
    import_into(a, SAMPLE)
    b.follow()
    meta_path = index_store(b).current_path() / "archive-index.json"
    meta = json.loads(meta_path.read_text())
    meta["analyzer"] = "0"
    meta_path.write_text(json.dumps(meta))
    result = b.follow()
    assert result.reindexed is not None and "別の版" in result.reason
    assert b.search("関西国際空港").total == 1


def test_a_follower_waiting_for_a_first_import_follows_its_index_instead_of_rebuilding(
    tmp_path,
):
    # serve --follow on the home of a first import: it finds no index, waits for
    # the import's rebuild, and then has nothing to rebuild.
    home = tmp_path / "home"
    importer, follower = make_archive(home), make_archive(home)
    files = [write_jsonl(tmp_path / f"part{n}.jsonl", news(3, f"第{n}報")) for n in range(3)]
    followed: list = []
    waiting = threading.Thread(target=lambda: followed.append(follower.follow()))

    def on_progress(done: int, _total: int) -> None:
        if done == 1:
            waiting.start()
            time.sleep(1.0)  # long enough to find no index and wait for the rebuild
            assert waiting.is_alive()

    summary = importer.import_paths(files, on_progress=on_progress)
    waiting.join(timeout=60)
    assert summary.added == 9
    [result] = followed
    assert result.reindexed is None
    assert result.seq == importer.index_info().applied_seq
    assert importer.search("続報").total == 9
    importer.close()
    follower.close()


def test_every_change_is_logged_with_its_article_in_the_same_transaction(archive, tmp_path):
    url = "https://n.example/a/1"
    import_into(
        archive,
        write_jsonl(tmp_path / "v1.jsonl", [{"title": "速報", "body": "接近。", "url": url}]),
    )
    import_into(
        archive,
        write_jsonl(tmp_path / "v2.jsonl", [{"title": "続報", "body": "上陸。", "url": url}]),
    )
    import_into(
        archive,
        write_jsonl(tmp_path / "v3.jsonl", [{"title": "続報", "body": "上陸。", "url": url}]),
    )
    archive.delete([1])
    assert change_log(archive) == [(1, "insert"), (1, "update"), (1, "delete")]
    # A transaction that rolls back logs nothing.
    with session_of(archive) as session:
        session.begin()
        save_article(session, ArticleDraft(title="幻", body="書かれなかった記事。"))
        session.rollback()
    assert change_log(archive)[-1] == (1, "delete")


def test_imports_and_deletes_keep_the_local_index_current_with_the_log(archive, tmp_path):
    import_into(archive, SAMPLE)  # the first import builds the index
    assert archive.follow().changes == 0
    import_into(archive, write_jsonl(tmp_path / "more.jsonl", news(2)))
    archive.delete([3])
    assert archive.index_info().applied_seq == SAMPLE_ARTICLES + 3
    assert archive.follow().changes == 0
    assert indexed_ids(archive) == stored_ids(archive)


def test_a_reindex_records_the_change_it_is_current_to(archive, tmp_path):
    import_into(archive, SAMPLE)
    archive.delete([5, 6])
    info = archive.reindex()
    assert info.applied_seq == SAMPLE_ARTICLES + 2
    assert archive.follow().changes == 0


def test_a_change_committed_late_with_a_lower_number_is_never_skipped(postgres_databases, tmp_path):
    """The sequence-gap race: a transaction that wrote first but commits last."""
    url = postgres_databases.new()
    with (
        make_archive(tmp_path / "writer", url) as writer,
        make_archive(tmp_path / "node", url) as node,
        database(writer) as engine,
    ):
        import_into(writer, SAMPLE)
        node.follow()
        slow = Session(engine)
        slow.begin()
        save_article(slow, ArticleDraft(title="遅い取り込み", body="先に書いて後で確定した記事。"))
        with Session(engine) as fast, fast.begin():
            save_article(
                fast, ArticleDraft(title="速い取り込み", body="後に書いて先に確定した記事。")
            )
        assert node.follow().changes == 1
        assert (
            indexed_ids(node)
            == stored_ids(node)
            == set(range(1, SAMPLE_ARTICLES + 1)) | {SAMPLE_ARTICLES + 2}
        )
        slow.commit()
        slow.close()
        assert node.follow().changes == 1
        assert indexed_ids(node) == stored_ids(node) == set(range(1, SAMPLE_ARTICLES + 3))
        assert node.search("遅い取り込み").hits[0].title == "遅い取り込み"


def test_a_follower_thread_picks_up_another_nodes_import(nodes, tmp_path):
    a, b, _url = nodes
    import_into(a, SAMPLE)
    stop = threading.Event()
    rounds = []
    thread = threading.Thread(target=b.follow_forever, args=(0.2, stop, rounds.append))
    thread.start()
    try:
        import_into(a, write_jsonl(tmp_path / "more.jsonl", news(2)))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if index_store(b).current_path() and b.search("灯台").total == 2:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert b.search("灯台").total == 2
    assert not [r for r in rounds if isinstance(r, Exception)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_follow_shows_what_another_node_imports(nodes, tmp_path):
    a, b, url = nodes
    import_into(a, SAMPLE)
    port = free_port()
    env = {**os.environ, "ARCHIVE_HOME": str(b.settings.home), "ARCHIVE_DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archive",
            "serve",
            "--port",
            str(port),
            "--follow",
            "--interval",
            "0.3",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import_into(a, write_jsonl(tmp_path / "more.jsonl", news(2)))
        query = urllib.parse.urlencode({"q": "灯台"})
        total, deadline = None, time.monotonic() + 60
        while total != 2 and time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?{query}") as r:
                    total = json.load(r)["total"]
            except OSError:
                continue  # not listening yet, or no index yet (503)
        assert total == 2
    finally:
        server.terminate()
        server.wait(timeout=30)
