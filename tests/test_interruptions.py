"""Killed halfway: ``kill -9`` a real import or reindex, run it again, lose nothing.

Each scenario starts the real command in a subprocess, kills it (SIGKILL) at a
point drawn from a seed, runs the command again, and then wants ``check`` clean
and every article found, while searches in this process kept answering (and,
once an index existed, never lost an article they had found).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import ROOT, make_archive
from .test_disk_full import leftovers

FILES = 30
PER_FILE = 10
WORD = "中断試験"
SEEDS = (1, 2, 3)


@pytest.fixture
def backend() -> str:
    """The scenarios kill processes around one SQLite file; PostgreSQL has its own suite."""
    return "sqlite"


def write_sources(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(FILES):
        path = folder / f"part{f:02d}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for n in range(PER_FILE):
                i = f * PER_FILE + n
                record = {
                    "title": f"{WORD}の記事 第{i}号",
                    "body": f"{WORD}のために書いた{i}番目の記事です。" * 8,
                    "url": f"https://kill.example/{i}",
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "indexer", *args]


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    return subprocess.run(
        command(home, *args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def kill_during(home: Path, seed: int, *args: str, longest: float) -> bool:
    """Start the command, SIGKILL it at a seeded moment; whether it was still running."""
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    proc = subprocess.Popen(
        command(home, *args),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.Random(seed).uniform(0.8, longest))
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return running


class Searcher(threading.Thread):
    """Searches the archive over and over, keeping what went wrong."""

    def __init__(self, home: Path, must_have: int = 0) -> None:
        super().__init__(daemon=True)
        self.home = home
        self.must_have = must_have
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.searches = 0

    def run(self) -> None:
        with make_archive(self.home) as archive:
            while not self.stop.is_set():
                try:
                    total = archive.search(WORD).total
                except Exception as exc:  # noqa: BLE001 - every failure is the finding
                    if self.must_have:
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                else:
                    if total < self.must_have:
                        self.errors.append(f"found {total} of {self.must_have}")
                self.searches += 1
                time.sleep(0.02)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=30)


def assert_whole(home: Path, articles: int) -> None:
    result = run(home, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    # What the killed writer left (segments, job files) went with the next write.
    assert leftovers(home) == []
    with make_archive(home) as archive:
        assert archive.search(WORD).total == articles
        assert archive.article_count() == articles


def no_workers_left_behind(home: Path) -> None:
    """The killed command's indexing workers ended with it (they die with their parent).

    Its processes are those started with this home in their environment, so an
    indexer someone else runs on the same machine does not count.
    """
    deadline = time.monotonic() + 5
    while (left := processes_of(home)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, left


def processes_of(home: Path) -> list[str]:
    """The command lines of the running processes whose ARCHIVE_HOME is ``home``."""
    wanted = f"ARCHIVE_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and wanted in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_first_import_is_completed_by_running_it_again(home, tmp_path, seed):
    sources = write_sources(tmp_path / "src")
    kill_during(home, seed, "import", str(sources[0].parent), longest=5.0)
    no_workers_left_behind(home)
    result = run(home, "import", str(sources[0].parent))
    assert result.returncode == 0, result.stdout + result.stderr
    assert_whole(home, FILES * PER_FILE)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_later_import_loses_nothing_and_search_never_drops_an_article(
    home, tmp_path, seed
):
    sources = write_sources(tmp_path / "src")
    first = tmp_path / "first"
    first.mkdir()
    for path in sources[: FILES // 2]:
        path.rename(first / path.name)
    assert run(home, "import", str(first)).returncode == 0
    searcher = Searcher(home, must_have=FILES // 2 * PER_FILE)
    searcher.start()
    try:
        kill_during(home, seed, "import", str(tmp_path / "src"), longest=4.0)
        no_workers_left_behind(home)
        result = run(home, "import", str(tmp_path / "src"))
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        searcher.finish()
    assert searcher.searches > 10 and not searcher.errors, searcher.errors[:5]
    assert_whole(home, FILES * PER_FILE)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_reindex_leaves_the_old_index_answering(home, tmp_path, seed):
    sources = write_sources(tmp_path / "src")
    assert run(home, "import", str(sources[0].parent)).returncode == 0
    searcher = Searcher(home, must_have=FILES * PER_FILE)
    searcher.start()
    try:
        kill_during(home, seed, "reindex", longest=4.0)
        no_workers_left_behind(home)
        assert run(home, "reindex").returncode == 0
    finally:
        searcher.finish()
    assert searcher.searches > 10 and not searcher.errors, searcher.errors[:5]
    assert_whole(home, FILES * PER_FILE)
    generations = sorted(p.name for p in (home / "index").glob("gen-*"))
    assert len(generations) <= 2, generations  # what a killed rebuild left is gone


def test_two_first_imports_at_once_both_end_searchable(home, tmp_path):
    sources = write_sources(tmp_path / "src")
    halves = [tmp_path / "a", tmp_path / "b"]
    for n, path in enumerate(sources):
        halves[n % 2].mkdir(exist_ok=True)
        path.rename(halves[n % 2] / path.name)
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    procs = [
        subprocess.Popen(
            command(home, "import", str(half)),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in halves
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]  # both, before judging
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + err
    assert_whole(home, FILES * PER_FILE)


def test_an_empty_current_file_is_damage_that_an_import_repairs(home, tmp_path):
    sources = write_sources(tmp_path / "src")
    assert run(home, "import", str(sources[0].parent)).returncode == 0
    (home / "index" / "CURRENT").write_text("", encoding="utf-8")
    result = run(home, "search", WORD)
    assert result.returncode == 1 and "CURRENT" in result.stderr + result.stdout
    assert run(home, "import", str(sources[0].parent)).returncode == 0
    assert_whole(home, FILES * PER_FILE)
