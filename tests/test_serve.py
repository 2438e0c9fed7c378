"""``python -m archive serve --workers 2``: gunicorn workers answer, and each sees a new index.

The server runs in a subprocess with an access log that names the worker (its
pid) behind every answer, so a test can tell that both workers answered.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from archive.cli import cli as archive_cli
from indexer.cli import cli as indexer_cli

from .conftest import served, write_jsonl

PENGUIN = {
    "title": "水族館でペンギンの赤ちゃんが誕生",
    "body": "海沿いの水族館で、ペンギンの赤ちゃんが生まれ、一般公開が始まった。",
    "url": "https://coast-news.example/penguin",
}
OBSERVATORY = {
    "title": "山頂の天文台が改修を終えて再開",
    "body": "県立天文台の望遠鏡が新しくなり、夜の観望会が再開された。",
    "url": "https://coast-news.example/observatory",
}
# Enough simultaneous searches that each sync worker (one request at a time) takes some.
REQUESTS, CLIENTS = 24, 4


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def search_all_at_once(base: str, query: str, phase: str) -> list[tuple[int, dict]]:
    """REQUESTS searches for ``query`` from CLIENTS threads; ``phase`` marks them in the log."""
    url = f"{base}/api/search?{urlencode({'q': query, 'phase': phase})}"
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(get, [url] * REQUESTS))


def workers_that_answered(log: Path, phase: str) -> set[str]:
    """The pids the access log names for this phase's requests (once all are logged)."""
    pattern = re.compile(rf"phase={phase} HTTP/1\.1\" \d+ .* <(\d+)>$", re.MULTILINE)
    deadline = time.monotonic() + 10
    while True:
        pids = pattern.findall(log.read_text(encoding="utf-8"))
        if len(pids) >= REQUESTS or time.monotonic() > deadline:
            return set(pids)
        time.sleep(0.1)  # a worker logs just after it answers


def titles(answer: dict) -> set[str]:
    return {hit["title"] for hit in answer["hits"]}


def test_two_workers_answer_the_json_api(sample_home, tmp_path):
    with served(sample_home, tmp_path / "serve.log", "--workers", "2") as url:
        status, answer = get(f"{url}/api/search?{urlencode({'q': '空港'})}")
    assert status == 200
    assert [hit["title"] for hit in answer["hits"]] == [
        "関西国際空港の新国際線エリアが完成、出国手続きの待ち時間短縮へ"
    ]
    assert "gunicorn" in (tmp_path / "serve.log").read_text(encoding="utf-8")


def test_every_worker_finds_what_is_imported_or_reindexed(home, tmp_path):
    log = tmp_path / "access.log"
    options = ("--workers", "2", "--access-log", str(log))
    with served(home, tmp_path / "serve.log", *options) as url:
        # Both workers start before there is any index.
        answers = search_all_at_once(url, "ペンギン", "before")
        assert {status for status, _ in answers} == {503}

        # The first import builds the first index generation.
        run_indexer("import", str(write_jsonl(tmp_path / "penguin.jsonl", [PENGUIN])))
        answers = search_all_at_once(url, "ペンギン", "imported")
        assert all(titles(a) == {PENGUIN["title"]} for _, a in answers), answers
        assert len(workers_that_answered(log, "imported")) == 2

        # A rebuild switches to a new generation; the next import goes into that one.
        run_indexer("reindex")
        run_indexer("import", str(write_jsonl(tmp_path / "observatory.jsonl", [OBSERVATORY])))
        answers = search_all_at_once(url, "天文台", "reindexed")
        assert all(titles(a) == {OBSERVATORY["title"]} for _, a in answers), answers
        assert len(workers_that_answered(log, "reindexed")) == 2


def run_indexer(*args: str) -> None:
    result = CliRunner().invoke(indexer_cli, list(args))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--server", "waitress", "--workers", "2"], "gunicorn"),
        (["--access-log", "-"], "--access-log"),
    ],
)
def test_serve_refuses_what_waitress_cannot_do(options, message):
    result = CliRunner().invoke(archive_cli, ["serve", *options])
    assert result.exit_code == 2
    assert message in result.output


def test_workers_serving_with_follow_see_what_another_home_stored(tmp_path):
    """A search node (its own home) sharing the database another node imports into."""
    node = tmp_path / "node"
    other = tmp_path / "other"
    assert (
        CliRunner()
        .invoke(
            indexer_cli,
            ["import", str(write_jsonl(tmp_path / "a.jsonl", [OBSERVATORY]))],
            env={"ARCHIVE_HOME": str(node)},
        )
        .exit_code
        == 0
    )
    shared = {
        "ARCHIVE_HOME": str(other),
        "ARCHIVE_DATABASE_URL": f"sqlite:///{node / 'archive.db'}",
    }
    log = tmp_path / "serve.log"
    with served(node, log, "--workers", "2", "--follow", "--interval", "0.5") as base:
        penguins = f"{base}/api/search?{urlencode({'q': 'ペンギン'})}"
        status, found = get(penguins)
        assert status == 200 and found["total"] == 0
        penguin = write_jsonl(tmp_path / "b.jsonl", [PENGUIN])
        result = CliRunner().invoke(indexer_cli, ["import", str(penguin)], env=shared)
        assert result.exit_code == 0, result.output
        deadline = time.monotonic() + 30
        while get(penguins)[1]["total"] != 1:
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.5)
        assert all(r[1]["total"] == 1 for r in search_all_at_once(base, "ペンギン", "follow"))
