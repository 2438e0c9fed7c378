"""Shared fixtures: real files, a real database (SQLite or PostgreSQL), a real Whoosh index.

Tests that take ``home`` or ``archive`` run once on SQLite and once on
PostgreSQL, each in a database of its own.  The PostgreSQL server is named by
``ARCHIVE_TEST_POSTGRES_URL`` (``bash scripts/test.sh`` starts one and sets
it); without it those tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from indexer.archive import Archive
from indexer.config import Settings
from indexer.engine import IndexStore
from indexer.errors import ReadError
from indexer.importing import ImportSummary
from indexer.readers import read_file
from indexer.readers.drafts import ArticleDraft
from indexer.search.planning import Plan
from indexer.search.service import SearchService
from indexer.store.articles import make_engine

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = ROOT / "sample"
# How many articles the bundled sample archive holds (three are one wire story).
SAMPLE_ARTICLES = 24
SHARED_DATA = ROOT.parent / "shared" / "data"
LIVEDOOR = SHARED_DATA / "livedoor"
JAQUAD = SHARED_DATA / "jaquad-dev"

needs_livedoor = pytest.mark.skipif(
    not LIVEDOOR.is_dir(), reason=f"the livedoor corpus is not at {LIVEDOOR}"
)


BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL = os.environ.get("ARCHIVE_TEST_POSTGRES_URL")
# Searches in tests have no time budget: on a shared machine under load a search
# past its 250 ms would answer with part of its results, and what a test expects
# would depend on the machine's speed.  The budget's own tests set one
# (tests/test_search_budget.py); the commands and servers tests start read it here.
NO_BUDGET = "0"
os.environ["ARCHIVE_SEARCH_BUDGET_MS"] = NO_BUDGET


def make_archive(home: Path, database_url: str | None = None) -> Archive:
    """The archive in ``home``; its database is SQLite in ``home`` unless a URL is given."""
    environ = {"ARCHIVE_HOME": str(home), "ARCHIVE_SEARCH_BUDGET_MS": NO_BUDGET}
    if database_url:
        environ["ARCHIVE_DATABASE_URL"] = database_url
    return Archive(Settings.from_env(environ))


@contextlib.contextmanager
def database(archive: Archive) -> Iterator[Engine]:
    """An engine on the archive's database, for tests that read or change its rows directly."""
    engine = make_engine(archive.settings.database_url, prepare=False)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def session_of(archive: Archive) -> Iterator[Session]:
    """A session on the archive's database (see :func:`database`)."""
    with database(archive) as engine, Session(engine) as session:
        yield session


def index_store(archive: Archive) -> IndexStore:
    """The archive's index generations, for tests of the index itself."""
    return IndexStore(archive.settings.index_root)


def plan_of(archive: Archive, text: str) -> Plan:
    """The plan a search of ``archive`` makes of ``text`` (its synonyms included)."""
    return SearchService(index_store(archive)).understand(text)[0]


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


class PostgresServer:
    """The test server: hands out fresh, empty databases and drops them after."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"t{uuid.uuid4().hex[:8]}"
        self.counter = itertools.count(1)

    def create(self) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not POSTGRES_URL:
        reason = (
            "no PostgreSQL server for the tests: set ARCHIVE_TEST_POSTGRES_URL "
            "(bash scripts/test.sh starts one with scripts/postgres.sh and sets it)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but there is {reason}")
        pytest.skip(reason)
    server = PostgresServer(POSTGRES_URL)
    yield server
    server.admin.dispose()


class Databases:
    """Fresh empty databases of one backend for one test: ``new()`` gives a URL."""

    def __init__(self, backend: str, folder: Path, server: PostgresServer | None) -> None:
        self.backend = backend
        self.folder = folder
        self.server = server
        self.made: list[str] = []

    def new(self) -> str:
        if self.server is None:
            url = f"sqlite:///{self.folder / f'db-{len(self.made) + 1}.sqlite'}"
        else:
            url = self.server.create()
        self.made.append(url)
        return url

    def drop_all(self) -> None:
        if self.server is not None:
            for url in self.made:
                self.server.drop(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def databases(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Databases]:
    server = request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    made = Databases(backend, tmp_path, server)
    yield made
    made.drop_all()


@pytest.fixture
def postgres_databases(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[Databases]:
    """Fresh PostgreSQL databases, for the tests that are about PostgreSQL only."""
    made = Databases("postgresql", tmp_path, postgres_server)
    yield made
    made.drop_all()


@pytest.fixture
def database_url(databases: Databases) -> str | None:
    """This test's database: None for SQLite (the archive's own file in its home)."""
    return None if databases.backend == "sqlite" else databases.new()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> Path:
    """An empty ARCHIVE_HOME for this test, also set in the environment for the CLI.

    On PostgreSQL, ARCHIVE_DATABASE_URL names a fresh database for it too.
    """
    path = tmp_path / "home"
    monkeypatch.setenv("ARCHIVE_HOME", str(path))
    if database_url:
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def archive(home: Path, database_url: str | None) -> Iterator[Archive]:
    archive = make_archive(home, database_url)
    yield archive
    archive.close()


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample archive, imported once; tests must not change it."""
    path = tmp_path_factory.mktemp("sample-home")
    summary = import_into(make_archive(path), SAMPLE)
    assert summary.ok and summary.added == SAMPLE_ARTICLES, summary
    return path


@pytest.fixture(scope="session")
def sample_postgres(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """The bundled sample archive in a PostgreSQL database: its home and database URL."""
    path = tmp_path_factory.mktemp("sample-postgres-home")
    url = postgres_server.create()
    with make_archive(path, url) as archive:
        summary = import_into(archive, SAMPLE)
    assert summary.ok and summary.added == SAMPLE_ARTICLES, summary
    yield path, url
    postgres_server.drop(url)


@pytest.fixture
def sample_archive(sample_home: Path, monkeypatch: pytest.MonkeyPatch) -> Archive:
    monkeypatch.setenv("ARCHIVE_HOME", str(sample_home))
    monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    return make_archive(sample_home)


@pytest.fixture
def open_client():
    """A test client of a new app (configured like create_app's ``test_config``), closed after.

    Open to anyone who asks unless ``ACCESS="private"`` (as served on loopback).
    """
    from archive import create_app

    apps = []

    def open_(**config):
        apps.append(create_app({"TESTING": True, "ACCESS": "open", **config}))
        return apps[-1].test_client()

    yield open_
    for app in apps:
        app.extensions["archive"].close()
