"""Exporting a result set at 100,000 articles: rows a second, time and peak memory.

Importing 100,000 real articles takes most of an hour here, so the archive is
built from 100,000 short synthetic articles (a few sentences each, with site,
author, category, tags, a date; one in ten a copy of an earlier one's story),
written as JSON Lines and imported with ``python -m indexer import``, into
``--home`` (reused when it already holds them).  The word 社会 is in every
title, 経済 in about half.

Each export runs in a process of its own, as the web app streams it to a
client (``Archive.export_records`` → the rows ``/api/search/export`` writes),
and is measured by its wall time and its largest resident set (``ru_maxrss``
of the child).  Beside them in the same run, the reference: ``python -m
indexer export WORDS`` (the command line's JSON Lines export, which reads
every matching article into memory first).

    python bench/export.py [--home /tmp/bench-homes/export-100k] [--articles N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import open_archive, run_indexer  # noqa: E402

ARTICLES = 100_000
HOME = Path(tempfile.gettempdir()) / "bench-homes" / "export-100k"
JST = timezone(timedelta(hours=9))
SITES = [f"site{n}.example" for n in range(30)]
CATEGORIES = ["政治", "経済", "社会", "国際", "科学", "スポーツ", "文化", "地域"]
AUTHORS = [
    f"{family}{given}"
    for family in "佐藤 鈴木 高橋 田中 伊藤".split()
    for given in "一郎 花子 健 美咲".split()
]
TAGS = [
    "選挙",
    "円安",
    "地震",
    "台風",
    "五輪",
    "電池",
    "半導体",
    "観光",
    "医療",
    "教育",
    "鉄道",
    "農業",
]
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


def synthetic(count: int, out: Path, per_file: int = 10_000) -> list[Path]:
    """Write ``count`` synthetic articles as JSON Lines files in ``out``."""
    rng = random.Random(20251203)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    bodies: list[str] = []
    start = datetime(2019, 1, 1, 9, tzinfo=JST)
    handle = None
    for n in range(count):
        if n % per_file == 0:
            if handle is not None:
                handle.close()
            paths.append(out / f"articles-{n // per_file + 1:03d}.jsonl")
            handle = paths[-1].open("w", encoding="utf-8")
        if bodies and rng.random() < 0.1:
            body = rng.choice(bodies[-2000:])  # a copy of a recent story, on another site
        else:
            body = f"記事{n}番。" + "".join(rng.choices(SENTENCES, k=6))
            bodies.append(body)
        words = "社会 経済" if rng.random() < 0.5 else "社会"
        record = {
            "title": f"{words}の話題 第{n}号",
            "body": body,
            "url": f"https://{rng.choice(SITES)}/news/{n}",
            "site": rng.choice(SITES),
            "author": rng.choice(AUTHORS) if rng.random() < 0.8 else None,
            "category": rng.choice(CATEGORIES),
            "tags": rng.sample(TAGS, rng.randint(0, 4)),
            "published_at": (start + timedelta(minutes=30 * n)).isoformat(),
        }
        assert handle is not None
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if handle is not None:
        handle.close()
    return paths


def ensure_archive(home: Path, count: int) -> None:
    if (home / "archive.db").exists() and open_archive(home).article_count() >= count:
        return
    with tempfile.TemporaryDirectory() as scratch:
        files = synthetic(count, Path(scratch))
        print(f"importing {count:,} synthetic articles into {home} …", flush=True)
        run = run_indexer(home, "import", *map(str, files))
    print(f"  imported in {run.seconds:.0f} s", flush=True)


# Run in a child process: one export, its rows counted, written to /dev/null.
CHILD = """
import sys, time
from archive.export import write_rows
from bench.common import open_archive
archive = open_archive(sys.argv[1])
started = time.perf_counter()
rows = 0
with open(sys.argv[4], "wb") as out:
    for chunk in write_rows(archive, sys.argv[2], query=sys.argv[3]):
        out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        rows += chunk.count("\\n") if sys.argv[2] == "jsonl" else 0
print(time.perf_counter() - started, rows)
"""


def measure(command: list[str], home: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of ``command`` (a Python child)."""
    env = {**os.environ, "ARCHIVE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=HOME)
    parser.add_argument("--articles", type=int, default=ARTICLES)
    args = parser.parse_args()
    ensure_archive(args.home, args.articles)
    archive = open_archive(args.home)
    print(f"{archive.article_count():,} articles in {args.home}")
    # The baseline every row costs: a process that opens the archive and runs the search.
    idle = [
        sys.executable,
        "-c",
        "import sys; from bench.common import open_archive; "
        "a = open_archive(sys.argv[1]); a.search(sys.argv[2])",
        str(args.home),
        QUERIES[0],
    ]
    base_s, base_mib = measure(idle, args.home)
    print(f"opening the archive and one search: {base_s:.1f} s, {base_mib:.0f} MiB peak")
    print()
    print("| query | rows | export | total s | rows/s | peak MiB |")
    print("| ----- | ---: | ------ | ------: | -----: | -------: |")
    with tempfile.TemporaryDirectory() as scratch:
        for query in QUERIES:
            rows = archive.search(query).total
            runs = {
                fmt: [sys.executable, "-c", CHILD, str(args.home), fmt, query, f"{scratch}/x"]
                for fmt in ("csv", "jsonl")
            }
            runs["indexer export (reference)"] = [
                sys.executable,
                "-m",
                "indexer",
                "export",
                query,
                "--output",
                f"{scratch}/y",
            ]
            for name, command in runs.items():
                seconds, mib = measure(command, args.home)
                work = max(seconds - base_s, 1e-9)
                print(
                    f"| {query} | {rows:,} | {name} | {seconds:.1f} | "
                    f"{rows / work:,.0f} | {mib:.0f} |"
                )
    archive.close()


if __name__ == "__main__":
    main()
