"""Searching while the index is rebuilt: 8 clients for 60 s against the server during a reindex.

    python bench/reindex_under_load.py --home /tmp/bench-homes/livedoor [--workers 2]

The archive is served (``python -m archive serve``), warmed up, and loaded by
``--clients`` (8) threads searching back to back for ``--seconds`` (60).  A
full ``python -m indexer reindex`` starts a few seconds in and runs alongside;
when it ends the searches go on over the new index.  The reference is the
same load with no reindex, measured first in the same run.

Prints requests served, requests/s, errors (every non-200 answer or failed
connection; there must be none), and latency p50/p95/max, for each phase: the
quiet reference, while the reindex ran, and after it, plus how long the
reindex took.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Server,
    Spread,
    add_home_arguments,
    ensure_built,
    exported_articles,
    load_note,
    run_indexer,
    table,
)
from bench.queries import COMMON_QUERIES, title_queries  # noqa: E402
from bench.throughput import Tally, client_loop  # noqa: E402

SEED = 20261130
TITLE_QUERIES = 200
REINDEX_AFTER_SECONDS = 5.0


def timed_load(url: str, queries: list[str], clients: int, seconds: float) -> list[Tally]:
    """Like throughput.load, but every latency is kept with the moment it ended."""
    tallies = [Tally() for _ in range(clients)]
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(url, queries, n * len(queries) // clients, deadline, tallies[n]),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies


def phase_rows(name: str, tallies: list[Tally], start: float, end: float) -> list[object]:
    ms = [m for t in tallies for m, at in zip(t.ms, t.stamps, strict=True) if start <= at < end]
    errors = [
        e
        for t in tallies
        for e, at in zip(t.errors, t.error_stamps, strict=True)
        if start <= at < end
    ]
    spread = Spread.of(ms)
    seconds = max(end - start, 1e-9)
    return [name, len(ms), len(ms) / seconds, len(errors), spread.p50, spread.p95, spread.max]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_home_arguments(parser)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (1: waitress)")
    args = parser.parse_args()
    ensure_built(args.home, args.build_from)
    with tempfile.TemporaryDirectory(prefix="bench-reindex-load-") as scratch:
        titles = [r["title"] for r in exported_articles(args.home, Path(scratch))]
    queries = title_queries(titles, TITLE_QUERIES, SEED) + list(COMMON_QUERIES)
    random.Random(SEED).shuffle(queries)
    options = ["--workers", str(args.workers)] if args.workers > 1 else []

    print(f"serving {args.home} ({len(titles):,} articles), {load_note()}", flush=True)
    with Server(args.home, *options) as server:
        timed_load(server.url, queries[::7], args.clients, 5)  # warm up
        quiet_start = time.monotonic()
        quiet = timed_load(server.url, queries, args.clients, args.seconds)
        quiet_end = time.monotonic()

        reindex: dict[str, float] = {}

        def rebuild() -> None:
            time.sleep(REINDEX_AFTER_SECONDS)
            reindex["start"] = time.monotonic()
            run_indexer(args.home, "reindex")
            reindex["end"] = time.monotonic()

        worker = threading.Thread(target=rebuild)
        loaded_start = time.monotonic()
        worker.start()
        loaded = timed_load(server.url, queries, args.clients, args.seconds)
        loaded_end = time.monotonic()
        worker.join()

    start, end = reindex["start"], reindex["end"]
    print()
    print(
        f"{args.clients} clients for {args.seconds:.0f} s a phase; reindex ran "
        f"{end - start:.1f} s (from {start - loaded_start:.1f} s into the loaded minute); "
        f"{f'gunicorn, {args.workers} workers' if args.workers > 1 else 'waitress'}; "
        f"{load_note()}"
    )
    print(
        table(
            ["phase", "requests", "requests/s", "errors", "p50 ms", "p95 ms", "max ms"],
            [
                phase_rows("reference: no reindex", quiet, quiet_start, quiet_end),
                phase_rows("whole loaded run", loaded, loaded_start, loaded_end),
                phase_rows("while reindexing", loaded, start, min(end, loaded_end)),
                phase_rows("after the reindex", loaded, end, loaded_end),
            ],
        )
    )
    failures = [e for t in loaded + quiet for e in t.errors]
    if failures:
        print("errors:", *failures[:10], sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
