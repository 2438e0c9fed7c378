"""``check`` and ``check --repair``: the index against the database, and damage reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from indexer.cli import cli
from indexer.errors import IndexDamaged
from indexer.importing import store_group

from .conftest import (
    SAMPLE,
    SAMPLE_ARTICLES,
    database,
    import_into,
    index_store,
    make_archive,
    write_jsonl,
)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def archive(home, database_url):
    archive = make_archive(home, database_url)
    import_into(archive, SAMPLE)
    yield archive
    archive.close()


def test_an_archive_just_imported_checks_clean(archive):
    found = archive.check()
    assert found.ok and found.articles == found.documents == SAMPLE_ARTICLES
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "一致しています" in result.output


def test_articles_stored_by_an_interrupted_import_are_found_and_repaired(archive, tmp_path):
    # What an import stopped after storing and before indexing leaves: rows
    # (and their changes) in the database, nothing in the index.
    source = write_jsonl(
        tmp_path / "late.jsonl",
        [{"title": f"遅れた記事{n}", "body": f"索引に入らなかった記事{n}。"} for n in range(3)],
    )
    with database(archive) as engine:
        [done] = store_group(engine, [source], "auto")
    assert len(done.stored) == 3 and not done.failed
    missing = sorted(saved.article.id for saved in done.stored)
    found = archive.check()
    assert found.missing == tuple(missing) and not found.extra and not found.stale

    result = run("check", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["missing"] == missing
    result = run("check", "--repair")
    assert result.exit_code == 0, result.output
    assert "直しました" in result.output
    assert archive.check().ok
    assert archive.search("遅れた記事").total == 3


def test_an_import_that_stores_nothing_new_still_indexes_what_an_earlier_one_left(
    archive, tmp_path
):
    source = write_jsonl(tmp_path / "late.jsonl", [{"title": "置き去り", "body": "本文です。"}])
    with database(archive) as engine:
        store_group(engine, [source], "auto")
    summary = archive.import_paths([source])  # everything unchanged now
    assert summary.unchanged == 1 and summary.added == 0
    assert archive.search("置き去り").total == 1
    assert archive.check().ok


def test_rows_changed_or_removed_behind_the_index_are_found_and_repaired(archive):
    target = archive.search("京都").hits[0].id
    gone = archive.search("空港").hits[0].id
    later = datetime(2030, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    with database(archive) as engine, engine.begin() as connection:
        # Behind the change log's back: as a damaged or restored database might be.
        connection.execute(
            text("UPDATE articles SET title = '差し替えた見出し', updated_at = :t WHERE id = :i"),
            {"t": later, "i": target},
        )
        connection.execute(text("DELETE FROM articles WHERE id = :i"), {"i": gone})
    found = archive.check()
    assert found.stale == (target,) and found.extra == (gone,) and not found.missing
    assert archive.repair(found).ok
    assert [h.id for h in archive.search("差し替えた見出し").hits] == [target]
    assert gone not in [h.id for h in archive.search("空港").hits]


def test_a_damaged_index_is_reported_and_reindex_rebuilds_it(
    archive, home, database_url, open_client
):
    postings = next(index_store(archive).current_path().glob("*.pst"))
    with postings.open("r+b") as f:
        f.truncate(postings.stat().st_size // 2)
    archive.close()
    with pytest.raises(IndexDamaged), make_archive(home, database_url) as damaged:
        damaged.check()
    result = run("check")
    assert result.exit_code == 1
    assert "壊れて" in result.output and "reindex" in result.output

    client = open_client(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=database_url)
    page = client.get("/", query_string={"q": "京都"})
    assert page.status_code == 503
    assert "索引が壊れています" in page.get_data(as_text=True)

    assert run("reindex").exit_code == 0
    assert run("check").exit_code == 0
    with make_archive(home, database_url) as rebuilt:
        assert rebuilt.search("京都").total == 1


def test_a_missing_segment_file_is_damage_a_search_reports_as_such(
    archive, home, database_url, open_client
):
    for path in index_store(archive).current_path().glob("*.trm"):
        path.unlink()
    archive.close()
    client = open_client(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=database_url)
    page = client.get("/api/search", query_string={"q": "京都"})
    assert page.status_code == 503
    assert "reindex" in page.get_json()["error"]["message"]
    assert run("check").exit_code == 1


def test_a_delete_while_the_index_is_locked_says_so_and_check_repairs_it(archive, monkeypatch):
    import subprocess
    import sys

    import indexer.engine.generations

    monkeypatch.setattr(indexer.engine.generations, "WRITE_TIMEOUT_SECONDS", 0.5)
    target = archive.search("京都").hits[0].id
    # Another process holds the index's write lock (a lock is per process).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from whoosh.filedb.filestore import FileStorage; "
            "lock = FileStorage(sys.argv[1]).lock('MAIN_WRITELOCK'); "
            "assert lock.acquire(blocking=False); print('held', flush=True); time.sleep(60)",
            str(index_store(archive).current_path()),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with holder.stdout:
            assert holder.stdout.readline().strip() == "held"
        result = run("delete", str(target))
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "check --repair" in result.output
    assert archive.check().extra == (target,)
    assert run("check", "--repair").exit_code == 0
    assert target not in [h.id for h in archive.search("京都").hits]
