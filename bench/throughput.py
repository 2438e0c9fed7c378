"""Search throughput of the served archive: concurrent clients against one worker and two.

    python bench/throughput.py --home /tmp/bench-homes/livedoor
    python bench/throughput.py --home /tmp/bench-homes/livedoor --build-from ../shared/data/livedoor

For each server (``python -m archive serve``, started and stopped here):
gunicorn with 1 worker, gunicorn with 2 workers (``--workers``), and the
default single waitress process with 4 threads, ``--clients`` (8) threads
send ``GET /api/search`` back to back for ``--seconds`` (30) each, over kept-
alive connections where the server keeps them (gunicorn's sync workers close
each one).  The queries are a fixed mix: title pairs and common words from
bench/queries.py, shuffled with a fixed seed, each client starting at its own
place.  The servers are warmed up first (each worker opens the index and loads
the synonym map).

Prints requests/s, latency p50/p95/max, errors (must be 0), and the ratio of
2 workers to 1: the reference is the 1-worker server measured in the same run.
The clients run in this process, on the same machine as the server: they take
a little of the CPU the server could use.
"""

from __future__ import annotations

import argparse
import http.client
import math
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Client,
    Server,
    Spread,
    add_home_arguments,
    ensure_built,
    exported_articles,
    load_note,
    table,
)
from bench.queries import COMMON_QUERIES, title_queries  # noqa: E402

SEED = 20261129
TITLE_QUERIES = 200


@dataclass
class Tally:
    """What one client saw."""

    ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # When each answer and each error came (time.monotonic()), to split a run into phases.
    stamps: list[float] = field(default_factory=list)
    error_stamps: list[float] = field(default_factory=list)


def client_loop(
    url: str, queries: list[str], start: int, deadline: float, tally: Tally, limit: int = 10
) -> None:
    client = Client(url)
    i = start
    while time.monotonic() < deadline:
        query = queries[i % len(queries)]
        i += 1
        try:
            status, _, ms = client.get("/api/search?" + urlencode({"q": query, "limit": limit}))
        except (OSError, http.client.HTTPException) as exc:
            tally.errors.append(f"{query!r}: {exc!r}")
            tally.error_stamps.append(time.monotonic())
            client.close()
            continue
        if status == 200:
            tally.ms.append(ms)
            tally.stamps.append(time.monotonic())
        else:
            tally.errors.append(f"{query!r}: HTTP {status}")
            tally.error_stamps.append(time.monotonic())
    client.close()


@dataclass(frozen=True)
class Throughput:
    """One server under load for one round."""

    name: str
    round: int
    requests: int
    seconds: float
    cpu_seconds: float  # used by the server and its workers meanwhile
    ms: list[float]
    errors: list[str]
    peak_mib: float


def pooled(runs: list[Throughput]) -> list[object]:
    """One server's rounds together: requests/s, latency, errors, cores used, requests per CPU second."""
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    cpu = sum(r.cpu_seconds for r in runs)
    latency = Spread.of([ms for r in runs for ms in r.ms])
    errors = sum(len(r.errors) for r in runs)
    peak = max(r.peak_mib for r in runs)
    per_cpu_second = requests / cpu if cpu else math.nan
    return [
        *(requests, requests / seconds, latency.p50, latency.p95, latency.max, errors),
        *(cpu / seconds, per_cpu_second, peak),
    ]


def load(
    url: str, queries: list[str], clients: int, seconds: float, limit: int = 10
) -> tuple[list[Tally], float]:
    """``clients`` threads searching back to back for ``seconds``; their tallies and the time taken."""
    tallies = [Tally() for _ in range(clients)]
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(url, queries, n * len(queries) // clients, deadline, tallies[n], limit),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies, time.monotonic() - started


def measure(
    home: Path,
    name: str,
    options: list[str],
    queries: list[str],
    clients: int,
    seconds: float,
    limit: int = 10,
) -> tuple[list[Tally], float, float, float]:
    """Serve ``home``, warm it up, load it: tallies, seconds, server CPU seconds, peak MiB."""
    print(f"{name}: python -m archive serve {' '.join(options)} … ({load_note()})", flush=True)
    with Server(home, *options) as server:
        # Warm every worker up: enough requests at once that each takes some.
        load(server.url, queries[::7], clients, 5)
        cpu = server.cpu_seconds()
        tallies, elapsed = load(server.url, queries, clients, seconds, limit)
        cpu = server.cpu_seconds() - cpu
    return tallies, elapsed, cpu, server.peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_home_arguments(parser)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=30, help="per server")
    parser.add_argument(
        "--limit",
        type=int,
        default=10,
        help="results per request: more makes each request cost the server more than the "
        "clients (on 2 cores the clients in this process take a core of their own)",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="gunicorn worker counts to compare"
    )
    parser.add_argument(
        "--no-waitress", action="store_true", help="skip the default one-process waitress server"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure the servers in turn this many times"
    )
    args = parser.parse_args()
    ensure_built(args.home, args.build_from)

    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch:
        titles = [r["title"] for r in exported_articles(args.home, Path(scratch))]
    queries = title_queries(titles, TITLE_QUERIES, SEED) + list(COMMON_QUERIES)
    random.Random(SEED).shuffle(queries)

    servers = [
        (
            f"gunicorn, {n} worker{'s' if n > 1 else ''}",
            ["--server", "gunicorn", "--workers", str(n)],
        )
        for n in args.workers
    ]
    if not args.no_waitress:
        servers.append(("waitress, 1 process × 4 threads", ["--server", "waitress"]))
    runs = []
    for round_ in range(1, args.rounds + 1):
        for name, options in servers:
            tallies, elapsed, cpu, peak = measure(
                args.home, name, options, queries, args.clients, args.seconds, args.limit
            )
            ms = [v for t in tallies for v in t.ms]
            errors = [e for t in tallies for e in t.errors]
            runs.append(Throughput(name, round_, len(ms), elapsed, cpu, ms, errors, peak))
            print(f"  {len(ms) / elapsed:.1f} requests/s ({load_note()})", flush=True)

    print()
    print(
        f"{len(titles):,} articles; {args.clients} clients for {args.seconds:.0f} s a run, "
        f"{args.rounds} round(s) of the servers in turn; {len(queries)} queries "
        f"({TITLE_QUERIES} title pairs, {len(COMMON_QUERIES)} common words)"
    )
    headers = ["requests", "requests/s", "p50 ms", "p95 ms", "max ms", "errors"]
    headers += ["server CPU (cores)", "requests per CPU s", "peak MiB"]
    print(table(["server", "round", *headers], [[r.name, r.round, *pooled([r])] for r in runs]))
    print()
    summary = [[name, *pooled([r for r in runs if r.name == name])] for name, _ in servers]
    base = summary[0][2]
    print(
        table(
            ["server (all rounds)", *headers[:2], "vs first", *headers[2:]],
            [[*row[:3], f"{row[2] / base:.2f}×", *row[3:]] for row in summary],
        )
    )
    print(
        "server CPU: the cores the server's processes used meanwhile (the machine is shared); "
        "requests per CPU s: what each core-second bought"
    )
    for r in runs:
        for error in r.errors[:5]:
            print(f"  error ({r.name}, round {r.round}): {error}")
    if any(r.errors for r in runs):
        sys.exit("some requests failed")


if __name__ == "__main__":
    main()
