"""Backups: a consistent copy while another process imports, restored on another machine."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import cli

from .conftest import ROOT, SAMPLE, SAMPLE_ARTICLES, import_into, make_archive


@pytest.fixture
def backend() -> str:
    """Backups are SQLite's own; another database is sent to its own tools (tested last)."""
    return "sqlite"


# Articles another process imports, one file each; each has the common word
# and a word of its own (ASCII letters: one token, whatever Sudachi knows).
COMMON = "保存試験"
IMPORTED = 60
HALF = IMPORTED // 2


def own_word(number: int) -> str:
    return "bk" + "".join(chr(ord("a") + int(d)) for d in f"{number:03d}")


def article_line(number: int) -> str:
    record = {
        "title": f"{COMMON}の記事 {own_word(number)}",
        "body": f"{COMMON}のために書いた{number}番目の記事です。",
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def database_facts(path: Path) -> tuple[str, str, int]:
    """(integrity check, journal mode, articles) of a database file, opened read-only."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return (
            db.execute("PRAGMA integrity_check").fetchone()[0],
            db.execute("PRAGMA journal_mode").fetchone()[0],
            db.execute("SELECT count(*) FROM articles").fetchone()[0],
        )


def release(pipe: Path, importer: subprocess.Popen) -> None:
    """Write the held-back article into the pipe once the importer reads it (while it runs)."""
    while importer.poll() is None:
        try:
            descriptor = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader yet
            time.sleep(0.05)
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(article_line(HALF))
        return


def test_a_backup_taken_halfway_through_an_import_restores_on_another_machine(
    archive, home, tmp_path
):
    import_into(archive, SAMPLE)
    folder = tmp_path / "incoming"
    folder.mkdir()
    for number in range(IMPORTED):
        path = folder / f"{number:04d}.jsonl"
        if number == HALF:
            # A named pipe: the importer stores the files before it, then waits
            # here, halfway through its import, until the test writes the article.
            os.mkfifo(path)
        else:
            path.write_text(article_line(number), encoding="utf-8")
    log = tmp_path / "import.log"
    with log.open("wb") as out:
        importer = subprocess.Popen(
            [sys.executable, "-m", "indexer", "import", str(folder)],
            cwd=ROOT,
            env={**os.environ, "ARCHIVE_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while archive.article_count() < SAMPLE_ARTICLES + HALF:
                assert importer.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the importer stored too little"
                time.sleep(0.05)
            halfway = archive.backup(tmp_path / "halfway.db")
        finally:
            release(folder / f"{HALF:04d}.jsonl", importer)
        assert importer.wait(timeout=60) == 0, log.read_text()
    assert halfway == SAMPLE_ARTICLES + HALF
    assert database_facts(tmp_path / "halfway.db") == ("ok", "delete", halfway)
    assert archive.backup(tmp_path / "after.db") == SAMPLE_ARTICLES + IMPORTED

    # Another machine: another home, from the backup file alone.
    elsewhere = make_archive(tmp_path / "another-machine")
    assert elsewhere.restore(tmp_path / "halfway.db") == halfway
    assert elsewhere.article_count() == elsewhere.index_info().documents == halfway
    assert elsewhere.search(COMMON).total == HALF
    assert elsewhere.search("関西国際空港").total == 1
    for number in (0, HALF - 1):
        [hit] = elsewhere.search(own_word(number)).hits
        assert hit.title.endswith(own_word(number))
    assert elsewhere.search(own_word(HALF)).total == 0


def test_a_backup_holds_what_was_committed_when_it_began(archive, tmp_path):
    """A writer's open transaction neither blocks a backup nor leaks into it."""
    import_into(archive, SAMPLE)
    with contextlib.closing(sqlite3.connect(archive.settings.home / "archive.db")) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM articles")
        assert archive.backup(tmp_path / "during.db") == SAMPLE_ARTICLES
        writer.commit()
    assert archive.backup(tmp_path / "after.db") == 0
    assert database_facts(tmp_path / "during.db") == ("ok", "delete", SAMPLE_ARTICLES)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_restore_replaces_an_archive_only_when_told(home, tmp_path):
    source = make_archive(tmp_path / "source")
    import_into(source, SAMPLE / "livedoor")
    backup = tmp_path / "six.db"
    result = run("backup", str(backup), env={"ARCHIVE_HOME": str(tmp_path / "source")})
    assert result.exit_code == 0, result.output
    assert f"6件の記事を {backup} にバックアップしました" in result.output
    assert f"python -m indexer restore {backup}" in result.output

    target = make_archive(home)
    import_into(target, SAMPLE)
    refused = run("restore", str(backup))
    assert refused.exit_code == 1
    assert f"{home} にはもう{SAMPLE_ARTICLES}件の記事があります" in refused.output
    assert f"python -m indexer restore --force {backup}" in refused.output
    assert target.article_count() == SAMPLE_ARTICLES

    replaced = run("restore", "--force", str(backup))
    assert replaced.exit_code == 0, replaced.output
    assert f"{backup} から6件の記事を戻し、索引を作り直しました" in replaced.output
    assert target.article_count() == 6
    assert target.search("DeepSeek").total == 0  # a saved page, not in the livedoor folder
    assert target.search("関西国際空港").total == 1


@pytest.mark.parametrize(
    ("command", "content", "message"),
    [
        ("restore", None, "というファイルはありません"),
        (
            "restore",
            b"not a database, only text\n" * 100,
            "記事アーカイブのバックアップではありません",
        ),
        ("backup", None, "アーカイブのデータベースそのものです"),
    ],
    ids=["missing backup", "not a database", "backup onto the database"],
)
def test_backup_and_restore_refuse_what_is_not_a_backup(home, tmp_path, command, content, message):
    import_into(make_archive(home), SAMPLE / "livedoor")
    path = home / "archive.db" if command == "backup" else tmp_path / "backup.db"
    if content is not None:
        path.write_bytes(content)
    result = run(command, str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_another_database_is_backed_up_with_its_own_tools(tmp_path, command):
    env = {
        "ARCHIVE_HOME": str(tmp_path / "home"),
        "ARCHIVE_DATABASE_URL": "postgresql://archive@db.example/archive",
    }
    result = run(command, str(tmp_path / "backup.db"), env=env)
    assert result.exit_code == 1
    assert "SQLite のデータベースだけです（このアーカイブは postgresql）" in result.output
    assert "pg_dump" in result.output
