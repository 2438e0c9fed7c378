"""Import and index the whole livedoor corpus; print throughput, index size and peak memory.

    python bench/index_livedoor.py [--corpus ../shared/data/livedoor] [--limit N]

Measured in one run, on the same articles:

* **reference, bare Sudachi**: SudachiPy C-mode tokenization of every article,
  nothing else: the floor any Sudachi-based indexer pays;
* **reference, SQLite FTS5 trigram**: the same articles into an FTS5 table with
  the trigram tokenizer: what a no-morphology engine costs;
* **ours, import**: ``python -m indexer import`` as a user runs it (read and
  store in SQLite while a parallel rebuild indexes what is stored, as a first
  import does);
* **ours, reindex**: ``python -m indexer reindex`` (rebuild from the database);
* **ours, search**: latency of keyword queries taken from titles.

The corpus is read in place and never modified.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sudachipy import Dictionary, SplitMode  # noqa: E402

from indexer.archive import Archive, Settings  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "livedoor"


def peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1_048_576


@dataclass(frozen=True)
class Doc:
    title: str
    body: str


def livedoor_files(corpus: Path) -> list[Path]:
    """The corpus's article files, as a folder import takes them (licence files aside)."""
    return sorted(
        p for p in corpus.glob("*/*.txt") if not p.name.lower().startswith(("license", "readme"))
    )


def read_livedoor(path: Path) -> Doc | None:
    """Line 1 a URL, line 2 a date, line 3 the title, then the body: the references' text."""
    lines = path.read_text(encoding="utf-8").splitlines()
    body = "\n".join(line.strip() for line in lines[3:] if line.strip())
    return Doc(lines[2].strip(), body) if len(lines) > 3 and body else None


def row(name: str, articles: int, seconds: float, extra: str = "") -> None:
    rate = articles / seconds if seconds else float("inf")
    print(f"{name:<34} {articles:>6} articles {seconds:>8.1f} s {rate:>8.1f} articles/s  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N files")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus}")

    files = livedoor_files(args.corpus)[: args.limit]
    drafts = [d for d in map(read_livedoor, files) if d is not None]
    chars = sum(len(d.title) + len(d.body) for d in drafts)
    print(
        f"corpus: {args.corpus} — {len(files)} files, {len(drafts)} articles, {chars:,} characters"
    )
    print()

    tokenizer = Dictionary(dict="core").tokenizer(SplitMode.C)
    started = time.perf_counter()
    for draft in drafts:
        tokenizer.tokenize(draft.title)
        for line in draft.body.split("\n"):
            tokenizer.tokenize(line)
    row("reference: bare Sudachi (C mode)", len(drafts), time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as scratch:
        fts_path = Path(scratch) / "fts.db"
        started = time.perf_counter()
        connection = sqlite3.connect(fts_path)
        connection.execute("CREATE VIRTUAL TABLE a USING fts5(title, body, tokenize='trigram')")
        connection.executemany("INSERT INTO a VALUES (?, ?)", ((d.title, d.body) for d in drafts))
        connection.commit()
        connection.close()
        row(
            "reference: SQLite FTS5 trigram",
            len(drafts),
            time.perf_counter() - started,
            f"index {fts_path.stat().st_size / 1_048_576:.1f} MiB",
        )

        home = Path(scratch) / "home"
        archive = Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))
        started = time.perf_counter()
        result = archive.import_paths(files)
        seconds = time.perf_counter() - started
        if not result.ok:
            sys.exit(f"import failed: {result.failed[:5]}")
        row(
            "ours: import (read+store+index)",
            result.added,
            seconds,
            f"index {folder_mib(archive.index_info().path):.1f} MiB, "
            f"database {(home / 'archive.db').stat().st_size / 1_048_576:.1f} MiB",
        )

        started = time.perf_counter()
        info = archive.reindex()
        row(
            "ours: reindex (2 writer processes)",
            info.documents,
            time.perf_counter() - started,
            f"index {folder_mib(info.path):.1f} MiB",
        )

        again = archive.import_paths(files)
        print(
            f"{'ours: import again':<34} {again.unchanged:>6} unchanged, "
            f"{again.added} added, {again.updated} updated"
        )

        rng = random.Random(20261128)
        queries = []
        for draft in rng.sample(drafts, min(200, len(drafts))):
            words = [t for t in draft.title.replace("、", " ").split() if len(t) >= 2][:2]
            queries.append(" ".join(words) or draft.title[:4])
        timings = []
        for query in queries:
            started = time.perf_counter()
            archive.search(query)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        print(
            f"{'ours: search (title keywords)':<34} {len(queries):>6} queries  "
            f"median {statistics.median(timings):.0f} ms, p95 {timings[int(len(timings) * 0.95)]:.0f} ms"
        )
    print()
    print(f"peak memory (largest process): {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
