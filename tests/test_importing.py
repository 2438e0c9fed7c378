"""Importing files: stored once, updated when changed, bad files reported and harmless."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from indexer import importing
from indexer.store.articles import article_record
from indexer.store.models import Article

from .conftest import (
    FIXTURES,
    LIVEDOOR,
    SAMPLE,
    SAMPLE_ARTICLES,
    database,
    import_into,
    index_store,
    needs_livedoor,
    session_of,
    write_jsonl,
)


def stored(archive) -> list[Article]:
    with session_of(archive) as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def test_sample_archive_imports_cleanly(archive):
    summary = import_into(archive, SAMPLE)
    assert summary.ok, summary.failed
    assert summary.added == SAMPLE_ARTICLES
    assert archive.search("関西国際空港").total == 1


def test_same_article_imported_twice_is_stored_once(archive, tmp_path):
    first = import_into(archive, FIXTURES / "clo_article.txt")
    copy = tmp_path / "copy.txt"
    shutil.copy(FIXTURES / "clo_article.txt", copy)
    second = import_into(archive, copy, FIXTURES / "clo_article.txt")
    assert (first.added, second.added, second.unchanged) == (1, 0, 2)
    assert len(stored(archive)) == 1


def test_same_text_without_url_is_one_article(archive, tmp_path):
    records = [
        {"title": "見出し", "body": "本文　です。"},
        {"title": "見出し", "body": "本文 です。"},
    ]
    summary = import_into(archive, write_jsonl(tmp_path / "a.jsonl", records))
    assert (summary.added, summary.unchanged) == (1, 1)


def test_changed_article_at_the_same_url_is_updated_in_place(archive, tmp_path):
    url = "https://www.news.example/a/1"
    import_into(
        archive,
        write_jsonl(tmp_path / "v1.jsonl", [{"title": "速報", "body": "台風が接近。", "url": url}]),
    )
    [before] = stored(archive)
    summary = import_into(
        archive,
        write_jsonl(
            tmp_path / "v2.jsonl", [{"title": "続報", "body": "台風が上陸した。", "url": url}]
        ),
    )
    assert (summary.added, summary.updated) == (0, 1)
    [after] = stored(archive)
    assert after.id == before.id
    assert after.title == "続報"
    assert after.imported_at == before.imported_at
    assert after.updated_at > before.updated_at
    assert archive.search("上陸").total == 1
    assert archive.search("速報").total == 0


def test_times_are_time_zone_aware_and_unknown_dates_stay_empty(archive):
    import_into(archive, SAMPLE / "livedoor" / "kix-terminal.txt", FIXTURES / "clo_article.txt")
    dated, undated = stored(archive)
    assert dated.published_at == datetime(2025, 3, 14, 0, 30, tzinfo=UTC)
    assert undated.published_at is None
    assert dated.imported_at.tzinfo is not None
    record = article_record(dated)
    assert record["published_at"] == "2025-03-14T09:30:00+09:00"
    assert article_record(undated)["published_at"] is None


def test_one_broken_file_never_stops_the_rest(archive, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(FIXTURES / "clo_article.txt", folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "lines.jsonl").write_text(
        '{"title": "良い行", "body": "本文。"}\n{oops\n', encoding="utf-8"
    )
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    (folder / "LICENSE.txt").write_text("Creative Commons", encoding="utf-8")
    summary = import_into(archive, folder, tmp_path / "missing")
    assert summary.added == 2
    reasons = sorted(str(e) for e in summary.failed)
    assert reasons == sorted(
        [
            f"{folder / 'binary.txt'}: テキストではありません（NULバイトを含むバイナリファイル）",
            f"{folder / 'empty.txt'}: 空のファイルです",
            f"{folder / 'lines.jsonl'}:2: JSONとして読めません（Expecting property name enclosed in double quotes）",
            f"{tmp_path / 'missing'}: ファイルもフォルダーもありません",
        ]
    )
    assert sorted(summary.skipped) == [str(folder / "LICENSE.txt"), str(folder / "photo.jpg")]
    assert {a.title for a in stored(archive)} == {
        "良い行",
        "中国の新興企業DeepSeekは、米国のAI業界に大きな衝撃を与えています",
    }


def test_files_named_one_by_one_skip_what_a_folder_skips(archive, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE / "livedoor" / "kix-terminal.txt", folder / "kix-terminal.txt")
    for name in ("LICENSE.txt", "README.txt", "CHANGES.txt", ".hidden.txt"):
        (folder / name).write_text("http://x.example/\n2012-05-15\n見出し\n本文。\n", "utf-8")
    (folder / "notes.md").write_text("http://x.example/1\n2012-05-15\n見出し\n本文。\n", "utf-8")
    named = sorted(folder.iterdir())  # what the shell makes of corpus/*
    summary = import_into(archive, *named)
    assert summary.ok and summary.added == 2, summary  # notes.md was named: it is read
    assert sorted(summary.skipped) == sorted(
        str(folder / n) for n in (".hidden.txt", "CHANGES.txt", "LICENSE.txt", "README.txt")
    )
    again = import_into(archive, folder)
    assert again.added == 0 and again.unchanged == 1
    assert sorted(again.skipped) == sorted(
        str(folder / n) for n in ("CHANGES.txt", "LICENSE.txt", "README.txt", "notes.md")
    )


@needs_livedoor
def test_a_livedoor_import_keeps_each_folder_as_the_category(archive):
    named = [LIVEDOOR / "smax" / "LICENSE.txt"]
    for folder in ("smax", "sports-watch"):
        named += sorted((LIVEDOOR / folder).glob(f"{folder}-*.txt"))[:3]
    summary = import_into(archive, *named)
    assert summary.ok and summary.added == 6, summary
    assert summary.skipped == [str(LIVEDOOR / "smax" / "LICENSE.txt")]
    page = archive.search("", sort="newest", category="smax")
    assert page.total == 3
    assert {v.value: v.count for v in page.facets.category} == {"smax": 3, "sports-watch": 3}


def test_a_failed_import_leaves_what_was_stored_intact(archive, tmp_path):
    import_into(archive, SAMPLE / "feed.jsonl")
    before = [article_record(a) for a in stored(archive)]
    (tmp_path / "bad.jsonl").write_text("not json\n", encoding="utf-8")
    summary = import_into(archive, tmp_path / "bad.jsonl")
    assert not summary.ok
    assert [article_record(a) for a in stored(archive)] == before
    assert archive.search("円安").total == 1


def test_symlink_loop_is_reported_not_followed_forever(archive, tmp_path):
    folder = tmp_path / "loop"
    folder.mkdir()
    shutil.copy(FIXTURES / "clo_article.txt", folder / "a.txt")
    (folder / "again").symlink_to(folder)
    summary = import_into(archive, folder)
    assert summary.added == 1
    assert any("シンボリックリンクが循環" in str(e) for e in summary.failed)


def test_a_file_whose_transaction_fails_stores_none_of_its_articles(archive):
    """Each article has a savepoint; on SQLite a savepoint once committed on its own."""
    from sqlalchemy.orm import Session

    from indexer.importing import store_draft
    from indexer.readers.drafts import ArticleDraft

    before = len(stored(archive))
    with (
        pytest.raises(RuntimeError),
        database(archive) as engine,
        Session(engine) as session,
        session.begin(),
    ):
        store_draft(session, ArticleDraft(title="途中まで保存", body="この記事は残らない。"))
        raise RuntimeError("the file fails after its first article")
    assert len(stored(archive)) == before


# The database refuses an article, or a change, whose title is this one.
REFUSED = "壊れた記事"
_SQLITE_REFUSE = """
    CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN {condition}
    BEGIN SELECT RAISE(ABORT, 'refused by a test'); END
"""
_POSTGRES_REFUSE = [
    """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF {condition} THEN RAISE EXCEPTION 'refused by a test'; END IF; RETURN NEW; END $$""",
    "CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()",
]


def refuse(archive, table: str, condition: str) -> None:
    """Make the database itself refuse the rows of ``table`` that meet ``condition``."""
    with database(archive) as engine, engine.begin() as connection:
        postgresql = engine.dialect.name == "postgresql"
        statements = _POSTGRES_REFUSE if postgresql else [_SQLITE_REFUSE]
        for statement in statements:
            connection.exec_driver_sql(statement.format(table=table, condition=condition))


def one_article_files(folder, titles):
    folder.mkdir()
    for n, title in enumerate(titles):
        write_jsonl(folder / f"{n:02}.jsonl", [{"title": title, "body": f"{title}の本文その{n}。"}])
    return folder


def change_log(archive) -> list[tuple[int, str]]:
    with database(archive) as engine, engine.connect() as connection:
        return sorted(
            map(tuple, connection.exec_driver_sql("SELECT article_id, kind FROM changes"))
        )


def test_an_article_refused_in_the_middle_of_a_group_costs_its_file_only(archive, tmp_path):
    refuse(archive, "articles", f"NEW.title = '{REFUSED}'")
    folder = one_article_files(tmp_path / "group", ["一つ目", REFUSED, "三つ目"])
    assert importing.GROUP_FILES >= 3  # one transaction for all three files

    summary = import_into(archive, folder)

    assert summary.added == 2 and summary.files == 3
    [error] = summary.failed
    assert error.path == str(folder / "01.jsonl") and "refused by a test" in str(error)
    assert [a.title for a in stored(archive)] == ["一つ目", "三つ目"]
    assert change_log(archive) == [(a.id, "insert") for a in stored(archive)]
    assert archive.search("三つ目").total == 1


def test_a_group_that_cannot_commit_is_stored_one_file_at_a_time(archive, tmp_path):
    # Changes are written as the transaction commits: the group's commit fails.
    refuse(
        archive,
        "changes",
        f"(SELECT title FROM articles WHERE id = NEW.article_id) = '{REFUSED}'",
    )
    folder = one_article_files(tmp_path / "group", ["一つ目", "二つ目", REFUSED, "四つ目"])

    summary = import_into(archive, folder)

    assert summary.added == 3 and summary.files == 4
    [error] = summary.failed
    assert error.path == str(folder / "02.jsonl")
    assert "データベースのエラーで何も保存していません" in str(error)
    assert [a.title for a in stored(archive)] == ["一つ目", "二つ目", "四つ目"]
    assert change_log(archive) == [(a.id, "insert") for a in stored(archive)]


def test_a_first_import_indexes_the_last_version_of_an_article_it_updates(
    archive, tmp_path, monkeypatch
):
    """The index is built while the files are stored: a later file's update still lands in it."""
    monkeypatch.setattr(importing, "GROUP_FILES", 1)  # a transaction a file, indexed in turn
    url = "https://www.news.example/a/1"
    first = write_jsonl(
        tmp_path / "a1.jsonl", [{"title": "速報", "body": "台風が接近。", "url": url}]
    )
    others = write_jsonl(
        tmp_path / "a2.jsonl",
        [
            {"title": f"港の話題{i}", "body": f"港の話題その{i}。", "url": f"{url}/{i}"}
            for i in range(5)
        ],
    )
    later = write_jsonl(
        tmp_path / "a3.jsonl", [{"title": "続報", "body": "台風が上陸した。", "url": url}]
    )
    summary = import_into(archive, first, others, later)
    assert (summary.added, summary.updated) == (6, 1)
    assert archive.search("上陸").total == 1
    assert archive.search("速報").total == 0
    assert archive.search("港").total == 5
    assert archive.check().ok


def test_a_first_import_stopped_midway_keeps_no_half_index_and_the_next_one_finishes(
    archive, tmp_path, monkeypatch
):
    monkeypatch.setattr(importing, "GROUP_FILES", 1)
    files = [
        write_jsonl(
            tmp_path / f"f{i}.jsonl",
            [
                {
                    "title": f"灯台{i}",
                    "body": f"灯台の話題その{i}。",
                    "url": f"https://x.example/{i}",
                }
            ],
        )
        for i in range(4)
    ]
    done = []

    def stop_at_the_second(path):
        done.append(path)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with database(archive) as engine:
            importing.import_files(files, engine, index_store(archive), on_file=stop_at_the_second)
    assert not list(archive.settings.index_root.glob("gen-*"))
    assert len(stored(archive)) == 2
    summary = import_into(archive, *files)
    assert (summary.added, summary.unchanged) == (2, 2)
    assert archive.search("灯台").total == 4
    assert archive.check().ok
