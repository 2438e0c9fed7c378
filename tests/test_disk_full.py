"""A full (or read-only) disk: one clear message, nothing stored lost, nothing half-written left.

Each test mounts a small filesystem of its own (a tmpfs: we run as root;
without the right to mount, the tests skip and say why), puts the archive's
index, its database or a backup there, fills it, and runs the real commands
(``python -m indexer`` in a subprocess).  Each failure must end with status 1
and a message (what failed, the room it needs and the room there is, that
nothing stored was lost, the command to run), no traceback; leave no half
generation, temporary file or unlisted index file behind; and keep the last
good index answering searches.  Freeing the space and running the command
named must then finish the job.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from archive import create_app

from .conftest import ROOT, SAMPLE, SAMPLE_ARTICLES

# Words to make articles of: enough of them that the index grows with the text.
PLACES = ["札幌", "仙台", "新潟", "金沢", "名古屋", "京都", "神戸", "広島", "高松", "福岡", "那覇"]
THINGS = [
    "図書館",
    "水族館",
    "商店街",
    "港湾",
    "鉄道",
    "農園",
    "醸造所",
    "研究所",
    "美術館",
    "温泉",
]
EVENTS = ["改修", "開業", "調査", "展示", "祭り", "実験", "再開", "移転", "募集", "発表"]
WORD = "満杯試験"


@pytest.fixture
def backend() -> str:
    """These tests fill one filesystem; the database's own disk on PostgreSQL is its server's."""
    return "sqlite"


class Disk:
    """A tmpfs mounted for one test: fill it, free it, grow it, make it read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def free(self) -> int:
        return shutil.disk_usage(self.path).free

    def fill(self, leave: int = 0) -> None:
        """Take all the room but ``leave`` bytes (tmpfs gives out pages: roughly)."""
        with self.filler.open("ab") as out:
            while (room := self.free() - leave) > 0:
                try:
                    out.write(b"\0" * min(room, 1 << 20))
                    out.flush()
                except OSError:
                    break

    def release(self) -> None:
        self.filler.unlink(missing_ok=True)

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)


@pytest.fixture
def mount(tmp_path):
    """``mount(mib)``: a new tmpfs of that size, unmounted after the test."""
    mounted: list[Path] = []

    def mount_(mib: int) -> Disk:
        if os.geteuid() != 0:
            pytest.skip("mounting a small filesystem (tmpfs) for the disk-full tests needs root")
        path = tmp_path / f"disk{len(mounted)}"
        path.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here, the disk-full tests need one: {done.stderr}")
        mounted.append(path)
        return Disk(path)

    yield mount_
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def articles(path: Path, count: int, seed: int, start: int = 0) -> Path:
    """A JSON Lines file of ``count`` articles of about 1,500 characters each, all different."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for n in range(start, start + count):
            sentences = [
                f"{rng.choice(PLACES)}の{rng.choice(THINGS)}で{rng.choice(EVENTS)}があり、"
                f"{rng.randrange(10, 9999)}人が訪れた（{WORD}、第{n}号の{k}）。"
                for k in range(40)
            ]
            record = {"title": f"{WORD}の記事 第{n}号", "body": "".join(sentences)}
            record["url"] = f"https://disk.example/{n}"
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def run(home: Path, *args: str, database: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    if database is not None:
        env["ARCHIVE_DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def said(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def fails_clearly(result: subprocess.CompletedProcess, *phrases: str) -> str:
    """The message of a command that failed as it should: status 1, no traceback."""
    output = said(result)
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    for phrase in phrases:
        assert phrase in output, (phrase, output)
    return output


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, said(result)
    return said(result)


# What each message must say besides what failed.
SPACE = ("の空き", "必要な空きは約", "MiB")


def leftovers(home: Path, generations: set[str] | None = None) -> list[str]:
    """What a failed write left behind: generations other than ``generations`` (half
    built ones), temporary files and folders, index files no table of contents lists."""
    index = home / "index"
    found = []
    for generation in sorted(index.glob("gen-*")):
        if generations is not None and generation.name not in generations:
            found.append(f"half generation {generation.name}")
            continue
        storage = FileStorage(str(generation))
        toc = TOC.read(storage, "MAIN")
        listed = {segment.segment_id() for segment in toc.segments}
        for name in storage.list():
            segment = re.match(r"(MAIN_[0-9a-z]+)\.", name)
            if segment and segment.group(1) not in listed:
                found.append(f"unlisted {generation.name}/{name}")
    for item in home.rglob("*"):
        if item.name.endswith((".tmp", ".part", "-journal")) or ".toc." in item.name:
            found.append(f"temporary {item.relative_to(home)}")
    return found


def generations(home: Path) -> set[str]:
    return {path.name for path in (home / "index").glob("gen-*")}


def found(home: Path, query: str, database: Path | None = None) -> int:
    result = run(home, "search", "--json", query, database=database)
    ok(result)
    return json.loads(result.stdout)["total"]


def test_an_import_onto_a_full_index_disk_says_so_and_keeps_the_index_answering(mount, tmp_path):
    """The probe's case: the database elsewhere, the index's disk fills under Whoosh's writer."""
    disk = mount(6)
    home, database = disk.path / "home", tmp_path / "archive.db"
    ok(run(home, "import", str(SAMPLE), database=database))
    before = generations(home)
    source = articles(tmp_path / "many.jsonl", 400, seed=1)

    output = fails_clearly(
        run(home, "import", str(source), database=database),
        "ディスクの空きが足りなくなったため、取り込みを続けられませんでした",
        *SPACE,
        "失われていません",
        f"python -m indexer import {source}",
    )
    assert str(home) in output
    assert leftovers(home, before) == []
    assert found(home, "空港", database) >= 1  # the last good index answers
    ok(run(home, "search", "関西国際空港", database=database))

    disk.remount("size=64m")
    ok(run(home, "import", str(source), database=database))
    ok(run(home, "check", database=database))
    assert found(home, WORD, database) == 400


def test_an_import_onto_a_full_database_disk_stores_whole_files_or_none(mount, tmp_path):
    disk = mount(3)
    home = disk.path / "home"
    ok(run(home, "import", str(SAMPLE)))
    source = articles(tmp_path / "many.jsonl", 400, seed=2)

    output = fails_clearly(
        run(home, "import", str(source)),
        "取り込みを続けられませんでした",
        *SPACE,
        "失われていません",
    )
    assert str(home) in output
    assert leftovers(home) == []
    assert found(home, "空港") >= 1

    disk.remount("size=64m")
    ok(run(home, "import", str(source)))
    ok(run(home, "check"))
    assert found(home, WORD) == 400


def test_a_first_import_that_fills_the_disk_leaves_no_half_index(mount, tmp_path):
    """Into an empty archive the index is rebuilt while the articles are stored."""
    disk = mount(4)
    home, database = disk.path / "home", tmp_path / "archive.db"
    source = articles(tmp_path / "many.jsonl", 400, seed=3)
    fails_clearly(run(home, "import", str(source), database=database), "取り込み", *SPACE)
    assert generations(home) == set() and leftovers(home) == []

    disk.remount("size=64m")
    ok(run(home, "import", str(source), database=database))
    ok(run(home, "check", database=database))


def test_reindex_and_restore_check_the_room_they_need_before_they_start(mount, tmp_path):
    disk = mount(16)
    home = disk.path / "home"
    ok(run(home, "import", str(SAMPLE), str(articles(tmp_path / "some.jsonl", 60, seed=4))))
    current = (home / "index" / "CURRENT").read_text()
    disk.fill(leave=100_000)

    output = fails_clearly(
        run(home, "reindex"),
        "ディスクの空きが足りないため、索引の作り直しを始めませんでした",
        *SPACE,
        "いまの索引",
        "python -m indexer reindex",
    )
    assert "何も変えていません" in output
    assert (home / "index" / "CURRENT").read_text() == current and leftovers(home) == []

    backup = tmp_path / "backup.db"
    disk.release()
    ok(run(home, "backup", str(backup)))
    other = disk.path / "other"
    ok(run(other, "db", "upgrade"))  # an empty archive, its tables made
    disk.fill(leave=100_000)
    # Even a new archive's tables need room.
    fails_clearly(
        run(disk.path / "new", "restore", str(backup)),
        "データベースの準備を続けられませんでした",
        *SPACE,
        "失われていません",
        "もう一度同じコマンドを実行してください",
    )
    fails_clearly(
        run(other, "restore", str(backup)),
        "ディスクの空きが足りないため、復元を始めませんでした",
        *SPACE,
        f"python -m indexer restore {backup}",
    )
    disk.release()
    ok(run(home, "reindex"))
    ok(run(other, "restore", str(backup)))
    ok(run(other, "check"))


def test_a_backup_checks_its_room_first_and_leaves_no_part_behind(mount, tmp_path):
    disk = mount(1)
    home = tmp_path / "home"
    ok(run(home, "import", str(SAMPLE), str(articles(tmp_path / "some.jsonl", 300, seed=5))))
    target = disk.path / "archive-backup.db"
    fails_clearly(
        run(home, "backup", str(target)),
        "ディスクの空きが足りないため、バックアップを始めませんでした",
        *SPACE,
        "データベースの大きさ",
        f"python -m indexer backup {target}",
    )
    assert list(disk.path.iterdir()) == []

    # What a backup killed halfway (kill -9) left: its process is gone.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    elsewhere = tmp_path / "backups" / "archive.db"
    elsewhere.parent.mkdir()
    for suffix in (".part", ".part-journal"):
        (elsewhere.parent / f".archive.db.{gone.pid}{suffix}").write_bytes(b"\0" * 4096)
    ok(run(home, "backup", str(elsewhere)))
    assert sorted(p.name for p in elsewhere.parent.iterdir()) == ["archive.db"]


def test_a_node_on_a_full_disk_serves_its_last_index_and_check_says_why(mount, tmp_path):
    """A search node following a shared database: its disk fills, other nodes import."""
    disk = mount(6)
    database = tmp_path / "shared.db"
    importer, node = tmp_path / "importer", disk.path / "node"
    ok(run(importer, "import", str(SAMPLE), database=database))
    ok(run(node, "follow", "--once", database=database))
    disk.fill(leave=20_000)
    ok(
        run(
            importer,
            "import",
            str(articles(tmp_path / "many.jsonl", 300, seed=6)),
            database=database,
        )
    )

    fails_clearly(
        run(node, "follow", "--once", database=database),
        "ディスクの空きが足りなくなったため、索引への反映を続けられませんでした",
        *SPACE,
        "データベースの記事は失われていません",
        "まで反映した状態のまま",
        "python -m indexer follow --once",
    )
    app = create_app(
        {
            "TESTING": True,
            "ACCESS": "open",
            "ARCHIVE_HOME": str(node),
            "ARCHIVE_DATABASE_URL": f"sqlite:///{database}",
        }
    )
    try:
        answer = app.test_client().get("/api/search", query_string={"q": "空港"})
        assert answer.status_code == 200 and answer.get_json()["total"] >= 1
    finally:
        app.extensions["archive"].close()
    output = said(run(node, "check", database=database))
    assert "ディスクの空きがありません" in output and "索引に入っていません" in output, output
    assert f"最後に書き終えた索引（{SAMPLE_ARTICLES}件" in output, output
    assert leftovers(node) == []

    # Room made: the filler gone, and the disk made larger than the 300 changes are
    # estimated to need (from the size per article of this small index, ~75 KB).
    disk.release()
    disk.remount("size=64m")
    ok(run(node, "follow", "--once", database=database))
    assert "ディスクの空き" not in ok(run(node, "check", database=database)).split("\n", 2)[2]
    assert found(node, WORD, database) == 300


def test_a_read_only_disk_is_one_message_too(mount, tmp_path):
    """(Searches stop too: SQLite cannot open a WAL database where it cannot write its -shm.)"""
    disk = mount(8)
    home = disk.path / "home"
    ok(run(home, "import", str(SAMPLE)))
    disk.remount("ro")
    try:
        fails_clearly(
            run(home, "import", str(articles(tmp_path / "few.jsonl", 5, seed=7))),
            "読み取り専用のファイルシステムです",
            "失われていません",
        )
    finally:
        disk.remount("rw")
