"""Search latency over HTTP from the production server, next to SQLite FTS5 trigram in the same run.

    python bench/search_latency.py --home /tmp/bench-homes/livedoor --build-from ../shared/data/livedoor
    python bench/search_latency.py --home /tmp/bench-homes/gen-100k --workers 2

Starts ``python -m archive serve`` over ``--home`` (built first from a corpus
with ``--build-from`` when the home is empty), warms it up, then one client
sends ``GET /api/search?q=…`` one request at a time:

* **title pairs**: ``--queries`` (300) queries of two content words from
  titles of the archive, drawn with a fixed seed (see ``bench/queries.py``);
* **common words**: 30 high-frequency words and pairs (日本, 発表, 日本 代表 …).

Each query is sent with ``limit=10`` (timed: the page a reader sees), then
with ``limit=100``; both must report the same ``total``, and the number of
queries where they differ is printed.

**Reference, same run**: an FTS5 table with the trigram tokenizer over the
same articles (exported with ``Archive.export``), asked each query as the AND
of its words, top 10 by ``bm25()``, in this process (no HTTP).  Trigrams
cannot match a word of fewer than three characters, so FTS5 cannot run such a
query (most Japanese words are two kanji): those are counted, not timed.
The HTTP floor is ``GET /api/articles/<id>`` (one database read, no search).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Client,
    Server,
    Spread,
    add_home_arguments,
    ensure_built,
    exported_articles,
    index_mib,
    load_note,
    table,
)
from bench.queries import COMMON_QUERIES, title_queries  # noqa: E402

SEED = 20261128
WARMUP_QUERIES = 30
FLOOR_REQUESTS = 50


class Fts5Reference:
    """SQLite FTS5 (trigram tokenizer) over the archive's articles; top 10 by bm25()."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)
        self.connection.execute("DROP TABLE IF EXISTS docs")
        self.connection.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='trigram')"
        )

    def add(self, rows: Sequence[tuple[str, str]]) -> None:
        self.connection.executemany("INSERT INTO docs(title, body) VALUES (?, ?)", rows)

    def commit(self) -> None:
        self.connection.commit()

    @staticmethod
    def can_run(query: str) -> bool:
        return all(len(word) >= 3 for word in query.split())

    def search(self, query: str) -> float:
        """Milliseconds for the top 10 of the AND of the query's words."""
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in query.split())
        started = time.perf_counter()
        self.connection.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,)
        ).fetchall()
        return (time.perf_counter() - started) * 1000


def fill(fts: Fts5Reference, home: Path, scratch: Path) -> list[str]:
    """Put the archive's articles into the FTS5 table; their titles, in id order."""
    titles, batch = [], []
    for record in exported_articles(home, scratch):
        titles.append(record["title"])
        batch.append((record["title"], record["body"]))
        if len(batch) == 1000:
            fts.add(batch)
            batch = []
    fts.add(batch)
    fts.commit()
    return titles


@dataclass(frozen=True)
class Answer:
    """One query: our latency and total at limit 10 and 100, and FTS5's latency if it can run."""

    query: str
    ms: float
    ms_100: float
    total: int
    total_100: int
    partial: bool  # no article had every word: the best partial matches
    fts_ms: float | None


@dataclass
class QuerySet:
    name: str
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ours(self) -> list[float]:
        return [a.ms for a in self.answers]

    @property
    def ours_100(self) -> list[float]:
        return [a.ms_100 for a in self.answers]

    @property
    def fts(self) -> list[float]:
        return [a.fts_ms for a in self.answers if a.fts_ms is not None]

    @property
    def fts_skipped(self) -> int:
        return sum(1 for a in self.answers if a.fts_ms is None)

    @property
    def differing(self) -> list[Answer]:
        """Queries whose total at limit=10 is not their total at limit=100."""
        return [a for a in self.answers if a.total != a.total_100]


def run_set(client: Client, fts: Fts5Reference, name: str, queries: list[str]) -> QuerySet:
    """Each query at limit 10, at limit 100, then on FTS5 (when it can run it)."""
    measured = QuerySet(name)
    for query in queries:
        status, page, ms = client.search(query, limit=10)
        status_100, page_100, ms_100 = client.search(query, limit=100)
        if status != 200 or status_100 != 200:
            measured.errors.append(f"{query!r}: HTTP {status}/{status_100} {page.get('error')}")
            continue
        fts_ms = fts.search(query) if fts.can_run(query) else None
        measured.answers.append(
            Answer(query, ms, ms_100, page["total"], page_100["total"], page["partial"], fts_ms)
        )
    return measured


@dataclass
class LatencyReport:
    articles: int
    server: str
    index_mib: float
    fts_build_seconds: float
    floor: Spread
    sets: list[QuerySet]
    server_peak_mib: float = 0.0


def measure(
    home: Path, serve_options: Sequence[str], title_count: int, scratch: Path
) -> LatencyReport:
    """Serve ``home``, send the query sets, and time FTS5 on the same queries in between."""
    fts = Fts5Reference(scratch / "fts5.db")
    started = time.perf_counter()
    titles = fill(fts, home, scratch)
    fts_seconds = time.perf_counter() - started
    queries = title_queries(titles, title_count, SEED)
    warmup = title_queries(titles, WARMUP_QUERIES, SEED + 1)

    print(f"serving {home} ({load_note()})", flush=True)
    with Server(home, *serve_options) as server:
        client = Client(server.url)
        found = {hit["id"] for query in warmup for hit in client.search(query)[1].get("hits", [])}
        ids = random.Random(SEED).sample(sorted(found), min(FLOOR_REQUESTS, len(found)))
        floor = Spread.of([client.get(f"/api/articles/{i}")[2] for i in ids])
        sets = [
            run_set(client, fts, "title pairs", queries),
            run_set(client, fts, "common words", list(COMMON_QUERIES)),
        ]
        client.close()
    print(f"done ({load_note()})", flush=True)
    report = LatencyReport(
        articles=len(titles),
        server=" ".join(serve_options) or "(defaults)",
        index_mib=index_mib(home),
        fts_build_seconds=fts_seconds,
        floor=floor,
        sets=sets,
    )
    report.server_peak_mib = server.peak_mib
    return report


def print_report(report: LatencyReport) -> None:
    print(
        f"{report.articles:,} articles, index {report.index_mib:,.0f} MiB; "
        f"server: python -m archive serve {report.server} (largest process "
        f"{report.server_peak_mib:,.0f} MiB); FTS5 table built in {report.fts_build_seconds:.0f} s"
    )
    print()
    floor = report.floor
    rows = [["HTTP floor: GET /api/articles/<id>", "–", floor.n, 0, *_spread(floor)]]
    for s in report.sets:
        rows += [
            ["ours, HTTP, limit=10", s.name, len(s.ours), 0, *_spread(Spread.of(s.ours))],
            ["ours, HTTP, limit=100", s.name, len(s.ours_100), 0, *_spread(Spread.of(s.ours_100))],
            [
                "FTS5 trigram, top 10, in-process",
                s.name,
                len(s.fts),
                s.fts_skipped,
                *_spread(Spread.of(s.fts)),
            ],
        ]
    headers = ["engine", "query set", "timed", "cannot run", "p50 ms", "p95 ms", "max ms"]
    print(table(headers, rows))
    print("(FTS5 trigram cannot run a query with a word of fewer than 3 characters)")
    print()
    rows = []
    for s in report.sets:
        totals = [a.total for a in s.answers]
        rows.append(
            [
                s.name,
                len(s.answers) + len(s.errors),
                len(s.errors),
                sum(1 for t in totals if t == 0),
                sum(1 for a in s.answers if a.partial),
                statistics.median(totals) if totals else 0,
                len(s.differing),
            ]
        )
    headers = ["query set", "queries", "errors", "no result", "partial", "median total"]
    print(table([*headers, "total differs, limit 10 vs 100"], rows))
    for s in report.sets:
        for error in s.errors[:5]:
            print(f"  error ({s.name}): {error}")
        if s.differing:
            shown = ", ".join(f"{a.query} ({a.total} vs {a.total_100})" for a in s.differing[:5])
            print(f"  e.g. ({s.name}): {shown}")
    print()
    nan = float("nan")
    print(
        table(
            ["common query", "total, limit=10", "total, limit=100", "ours ms", "FTS5 ms"],
            [
                [a.query, a.total, a.total_100, a.ms, nan if a.fts_ms is None else a.fts_ms]
                for a in report.sets[1].answers
            ],
        )
    )


def _spread(spread: Spread) -> list[float]:
    return [spread.p50, spread.p95, spread.max]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_home_arguments(parser)
    parser.add_argument("--workers", type=int, default=1, help="python -m archive serve --workers")
    parser.add_argument("--server", choices=("auto", "waitress", "gunicorn"), default="auto")
    parser.add_argument("--queries", type=int, default=300, help="title-pair queries")
    args = parser.parse_args()
    ensure_built(args.home, args.build_from)

    options = ["--workers", str(args.workers), "--server", args.server]
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as scratch:
        print_report(measure(args.home, options, args.queries, Path(scratch)))


if __name__ == "__main__":
    main()
