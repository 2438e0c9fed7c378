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

from .conftest import ROOT, SAMPLE, import_into, make_archive

# Articles imported by another process during the backups; each has the common
# word and a word of its own (ASCII letters: one token, whatever Sudachi knows).
COMMON = "保存試験"
IMPORTED = 80


def own_word(number: int) -> str:
    return "bk" + "".join(chr(ord("a") + int(d)) for d in f"{number:03d}")


def article_files(folder: Path) -> Path:
    folder.mkdir()
    for number in range(IMPORTED):
        record = {
            "title": f"{COMMON}の記事 {own_word(number)}",
            "body": f"{COMMON}のために書いた{number}番目の記事です。",
        }
        (folder / f"{number:04d}.jsonl").write_text(
            json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return folder


def database_facts(path: Path) -> tuple[str, str, int]:
    """(integrity check, journal mode, articles) of a database file, opened read-only."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return (
            db.execute("PRAGMA integrity_check").fetchone()[0],
            db.execute("PRAGMA journal_mode").fetchone()[0],
            db.execute("SELECT count(*) FROM articles").fetchone()[0],
        )


def test_backups_taken_while_another_process_imports_restore_on_another_machine(
    archive, home, tmp_path
):
    import_into(archive, SAMPLE)
    folder = article_files(tmp_path / "incoming")
    log = tmp_path / "import.log"
    with log.open("wb") as out:
        importer = subprocess.Popen(
            [sys.executable, "-m", "indexer", "import", str(folder)],
            cwd=ROOT,
            env={**os.environ, "ARCHIVE_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        taken: list[tuple[int, Path]] = []
        while importer.poll() is None:
            path = tmp_path / "backups" / f"{len(taken):04d}.db"
            taken.append((archive.backup(path), path))
            time.sleep(0.02)
        assert importer.wait() == 0, log.read_text()
    taken.append(
        (archive.backup(tmp_path / "backups" / "last.db"), tmp_path / "backups" / "last.db")
    )

    counts = [count for count, _ in taken]
    assert counts == sorted(counts)
    assert counts[-1] == 20 + IMPORTED
    for count, path in taken:
        assert database_facts(path) == ("ok", "delete", count)
    during = [(count, path) for count, path in taken if 20 < count < 20 + IMPORTED]
    assert during, f"no backup was taken while the import was storing: {counts}"

    # Another machine: another home, from the backup file alone.
    for count, path in (during[-1], taken[-1]):
        elsewhere = make_archive(tmp_path / f"machine-{count}")
        assert elsewhere.restore(path) == count
        assert elsewhere.article_count() == count
        assert elsewhere.index.info().documents == count
        assert elsewhere.search(COMMON).total == count - 20
        assert elsewhere.search("関西国際空港").total == 1
    assert elsewhere.search(own_word(0)).hits[0].title.endswith(own_word(0))
    assert elsewhere.search(own_word(IMPORTED - 1)).total == 1


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
    assert f"{home} にはもう20件の記事があります" in refused.output
    assert f"python -m indexer restore --force {backup}" in refused.output
    assert target.article_count() == 20

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
