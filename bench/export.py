"""Exporting a result set at 100,000 articles: rows a second, time and peak memory.

Importing 100,000 articles takes most of an hour on a quiet machine (Sudachi
reads every one, stories are placed one by one), so the archive is built
straight, the way bench/facets.py builds its index: 100,000 synthetic rows
(a few hundred characters of news prose each, with site, author, category,
tags, a date; one in ten a copy in an earlier one's story) are written into
the database that ``Archive`` created (SQLite, with the standard library's
``sqlite3``), and the index is built from the same articles through
``IndexStore.rebuild`` with only their titles' words as text (what the export
searches; the body the index would hold changes nothing an export does).
The word 社会 is in every title, 経済 in about half.  ``--home`` is reused
when it already holds them.

Each export runs in a process of its own, as the web app streams it to a
client (``Archive.export_records`` → the chunks ``/api/search/export``
writes, archive.exports.write_rows), to a file, measured by its wall time
and its largest resident set (``ru_maxrss`` of the child).  Beside them in
the same run, the reference: ``python -m indexer export WORDS`` (the command
line's JSON Lines export, which reads every matching article into memory
first), and the floor: a process that opens the archive and runs the search.

    python bench/export.py [--home /tmp/bench-homes/export-100k] [--articles N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import open_archive  # noqa: E402
from indexer.engine import IndexStore  # noqa: E402
from indexer.errors import ArchiveError  # noqa: E402

ARTICLES = 100_000
HOME = Path(tempfile.gettempdir()) / "bench-homes" / "export-100k"
SITES = [f"site{n}.example" for n in range(30)]
CATEGORIES = ["政治", "経済", "社会", "国際", "科学", "スポーツ", "文化", "地域"]
AUTHORS = [
    f"{f}{g}" for f in ("佐藤", "鈴木", "高橋", "田中", "伊藤") for g in ("一郎", "花子", "健")
]
TAGS = ["選挙", "円安", "地震", "台風", "五輪", "電池", "半導体", "観光", "医療", "教育", "鉄道"]
SENTENCES = [
    "政府は来年度の予算案を閣議決定した。",
    "市場では円相場が大きく動いた。",
    "専門家は今後の見通しについて慎重な見方を示した。",
    "地元の住民からは不安の声が上がっている。",
    "関係者によると、交渉は来月にも再開される見込みだ。",
    "新しい電池の開発で航続距離が伸びるという。",
    "大会には全国から多くの選手が集まった。",
    "観光客の数は前年を上回った。",
    "鉄道会社は運転の再開を急いでいる。",
    "病院では医師の不足が続いている。",
    "研究チームは結果を科学誌に発表した。",
    "農家は天候不順による影響を心配している。",
]
# The two queries exported: every article, and about half of them.
QUERIES = ("社会", "経済")


def synthetic(count: int):
    """``count`` synthetic articles (the fields the database and the index take), one by one."""
    rng = random.Random(20251203)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    bodies: list[tuple[int, str]] = []
    now = datetime(2025, 12, 1, tzinfo=UTC)
    for n in range(1, count + 1):
        story = None
        if bodies and rng.random() < 0.1:
            story, body = rng.choice(bodies[-2000:])  # a copy of a recent story, elsewhere
            body += f"（{n}）"
        else:
            body = f"記事{n}番。" + "".join(rng.choices(SENTENCES, k=12))
            bodies.append((n, body))
        site = rng.choice(SITES)
        yield SimpleNamespace(
            id=n,
            title=f"{'社会 経済' if rng.random() < 0.5 else '社会'}の話題 第{n}号",
            body=body,
            captions=[],
            url=f"https://{site}/news/{n}",
            site=site,
            agency=None,
            author=rng.choice(AUTHORS) if rng.random() < 0.8 else None,
            category=rng.choice(CATEGORIES),
            tags=rng.sample(TAGS, rng.randint(0, 4)),
            published_at=start + timedelta(minutes=30 * n),
            updated_at=now,
            story_id=story,
        )


def _sql_time(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(sep=" ")  # naive UTC, as the archive keeps it


def build(home: Path, count: int) -> None:
    """The archive's database filled with ``count`` articles, and its index built from them."""
    archive = open_archive(home)  # creates the database with the archive's schema
    index_root = archive.settings.index_root
    archive.close()
    columns = (
        "id, title, body, url, site, agency, author, credit_sources, captions, published_at,"
        " category, tags, content_hash, source_path, source_format, imported_at, updated_at,"
        " story_id"
    )
    started = time.perf_counter()
    with sqlite3.connect(home / "archive.db") as db:
        db.executemany(
            f"INSERT INTO articles ({columns}) VALUES ({', '.join('?' * 18)})",
            (
                (
                    a.id,
                    a.title,
                    a.body,
                    a.url,
                    a.site,
                    a.agency,
                    a.author,
                    "[]",
                    "[]",
                    _sql_time(a.published_at),
                    a.category,
                    json.dumps(a.tags, ensure_ascii=False),
                    hashlib.sha256(f"{a.title}\n{a.body}".encode()).hexdigest(),
                    None,
                    "jsonl",
                    _sql_time(a.updated_at),
                    _sql_time(a.updated_at),
                    a.story_id,
                )
                for a in synthetic(count)
            ),
        )
    print(f"  stored {count:,} articles in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    index = IndexStore(index_root)
    index.rebuild(
        (SimpleNamespace(**{**vars(a), "body": ""}) for a in synthetic(count)), expected=count
    )
    print(f"  indexed them in {time.perf_counter() - started:.0f} s", flush=True)


def ensure_archive(home: Path, count: int) -> None:
    if (home / "archive.db").exists():
        with open_archive(home) as archive:
            try:
                if archive.article_count() == count and archive.index_info().documents == count:
                    return
            except ArchiveError:
                pass
        sys.exit(
            f"{home} holds another archive (or half of one): remove it, or name another --home"
        )
    print(f"building {count:,} synthetic articles into {home} …", flush=True)
    build(home, count)


# One export in a child process: the archive opened and the query searched once
# (the index's columns read, the synonyms loaded), then the export alone timed.
# With a fifth argument, tracemalloc follows the export (slower: not timed), and the
# child prints the most Python memory the export itself held at once.
CHILD = """
import sys, time, tracemalloc
from archive.exports import write_rows
from bench.common import open_archive
home, mode, query, path = sys.argv[1:5]
archive = open_archive(home)
archive.search(query)
if len(sys.argv) > 5:
    tracemalloc.start()
started = time.perf_counter()
with open(path, "w", encoding="utf-8", newline="") as out:
    if mode == "reference":
        archive.export(out, query)
    elif mode != "idle":
        for chunk in write_rows(archive, mode, query):
            out.write(chunk)
seconds = time.perf_counter() - started
print(tracemalloc.get_traced_memory()[1] / 1048576 if len(sys.argv) > 5 else seconds)
"""


def run_child(
    home: Path, mode: str, query: str, path: Path, traced: bool = False
) -> tuple[float, float]:
    """The export's own seconds (or, ``traced``, its peak traced MiB), and the child's
    peak resident MiB (``ru_maxrss``)."""
    env = {**os.environ, "ARCHIVE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    command = [sys.executable, "-c", CHILD, str(home), mode, query, str(path)]
    command += ["traced"] if traced else []
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"the {mode} export of {query} failed")
        out.seek(0)
        seconds = float(out.read().decode().strip().splitlines()[-1])
    return seconds, usage.ru_maxrss / 1024


def lines(path: Path) -> int:
    with path.open("rb") as data:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: data.read(1 << 20), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=HOME)
    parser.add_argument("--articles", type=int, default=ARTICLES)
    args = parser.parse_args()
    ensure_archive(args.home, args.articles)
    with open_archive(args.home) as archive:
        totals = {query: archive.search(query).total for query in QUERIES}
    # Read the database once first: the first export would otherwise also pay for
    # reading it from disk (3-5 times slower here), and the others not.
    for path in args.home.glob("archive.db*"):
        lines(path)
    print(f"{args.articles:,} articles in {args.home}; each export in a process of its own")
    print()
    print(
        "| query | rows | export | seconds | rows/s | MiB written "
        "| peak RSS MiB (over idle) | export's traced peak MiB |"
    )
    print("| ----- | ---: | ------ | ------: | -----: | ---: | ---: | ---: |")
    names = {
        "csv": "CSV (web)",
        "jsonl": "JSON Lines (web)",
        "reference": "indexer export (reference)",
    }
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "export"
        for query in QUERIES:
            _, idle = run_child(args.home, "idle", query, path)
            rows = totals[query]
            for mode, name in names.items():
                seconds, peak = run_child(args.home, mode, query, path)
                written = lines(path) - (mode == "csv")
                if written != rows:
                    sys.exit(f"the {name} export of {query} wrote {written:,} rows, not {rows:,}")
                size = path.stat().st_size / 1_048_576
                traced, _ = run_child(args.home, mode, query, path, traced=True)
                print(
                    f"| {query} | {rows:,} | {name} | {seconds:.1f} | {rows / seconds:,.0f} | "
                    f"{size:,.0f} | {peak:,.0f} (+{peak - idle:,.0f}) | {traced:,.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
