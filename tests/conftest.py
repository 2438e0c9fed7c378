"""Shared fixtures: real files, a real SQLite database, a real Whoosh index."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from indexer.archive import Archive
from indexer.config import Settings
from indexer.drafts import ArticleDraft
from indexer.errors import ReadError
from indexer.importing import ImportSummary
from indexer.readers import read_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = ROOT / "sample"
SHARED_DATA = ROOT.parent / "shared" / "data"
LIVEDOOR = SHARED_DATA / "livedoor"
JAQUAD = SHARED_DATA / "jaquad-dev"

needs_livedoor = pytest.mark.skipif(
    not LIVEDOOR.is_dir(), reason=f"the livedoor corpus is not at {LIVEDOOR}"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(home: Path, log: Path, *options: str, timeout: float = 30.0) -> Iterator[str]:
    """``python -m archive serve [options]`` over ``home`` on a free port: its base URL.

    The server's output goes to ``log``; it is stopped with SIGTERM at the end.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    command = [sys.executable, "-m", "archive", "serve", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), *options],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(url + "/", proc, log, timeout)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout}s:\n{log.read_text()}")


def make_archive(home: Path) -> Archive:
    return Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))


def write_jsonl(path: Path, records: Iterable[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def read_one(path: Path, fmt: str = "auto") -> ArticleDraft:
    """The one article in ``path``, failing the test on anything else."""
    items = list(read_file(path, fmt))
    assert len(items) == 1, items
    assert isinstance(items[0], ArticleDraft), items[0]
    return items[0]


def read_errors(path: Path, fmt: str = "auto") -> list[ReadError]:
    return [item for item in read_file(path, fmt) if isinstance(item, ReadError)]


def import_into(archive: Archive, *paths: Path) -> ImportSummary:
    return archive.import_paths(paths)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ARCHIVE_HOME for this test, also set in the environment for the CLI."""
    path = tmp_path / "home"
    monkeypatch.setenv("ARCHIVE_HOME", str(path))
    monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def archive(home: Path) -> Archive:
    return make_archive(home)


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample archive, imported once; tests must not change it."""
    path = tmp_path_factory.mktemp("sample-home")
    summary = import_into(make_archive(path), SAMPLE)
    assert summary.ok and summary.added >= 20, summary
    return path


@pytest.fixture
def sample_archive(sample_home: Path, monkeypatch: pytest.MonkeyPatch) -> Archive:
    monkeypatch.setenv("ARCHIVE_HOME", str(sample_home))
    monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    return make_archive(sample_home)
