"""Search quality on two sets, next to SQLite FTS5 (trigram, bm25) on the same data.

    python bench/quality.py [--workdir DIR] [--queries N] [--questions N]

* **livedoor known-item** (``../shared/data/livedoor``): two or three keywords
  (nouns and na-adjectives of two or more characters, as written) taken from an
  article's title with a fixed seed are the query; that article is the one
  relevant result.
* **JaQuAD dev question retrieval** (``../shared/data/jaquad-dev``): each
  paragraph is an article (titled with its Wikipedia article), each question
  is a query, and its own paragraph is the relevant result.

Our side is the real search path with its default settings: the same
``SearchService.search`` the web page calls, with the raw query string.  The
reference is SQLite FTS5 with the ``trigram`` tokenizer ranked by ``bm25()``:
keyword queries AND their words, questions OR the trigrams of the question.

Prints nDCG@10, MRR@10 and Hit@10 for each set and engine.  The archives are
built once under ``--workdir`` and reused by later runs (delete it, or pass
``--rebuild``, after changing the analyzer).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from indexer.analysis import _sudachi  # noqa: E402
from indexer.archive import Archive  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.drafts import ArticleDraft  # noqa: E402
from indexer.errors import ArchiveError  # noqa: E402
from indexer.importing import ImportSummary, discover, import_files  # noqa: E402
from indexer.models import Article  # noqa: E402
from indexer.readers import read_file  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SEED = 20261128
# Keywords a person picks from a headline: nouns (names, numbers) and na-adjectives,
# as written; not the inflected stems of verbs (知っ, 嫌わ) nobody types alone.
KEYWORD_POS = {"名詞", "形状詞"}


@dataclass(frozen=True)
class Case:
    query: str
    relevant: int  # article id


@dataclass
class Scores:
    ndcg: float = 0.0
    mrr: float = 0.0
    hit: float = 0.0
    n: int = 0

    def add(self, rank: int | None) -> None:
        self.n += 1
        if rank is not None and rank <= 10:
            self.ndcg += 1 / math.log2(rank + 1)
            self.mrr += 1 / rank
            self.hit += 1

    def line(self) -> str:
        n = max(self.n, 1)
        return (
            f"nDCG@10 {self.ndcg / n:.4f}   MRR@10 {self.mrr / n:.4f}   Hit@10 {self.hit / n:.4f}"
        )


def build_archive(home: Path, files: list[Path], rebuild: bool) -> Archive:
    archive = Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))
    if rebuild or archive.article_count() == 0:
        started = time.perf_counter()
        summary = import_files(files, archive.engine, archive.index)
        archive.reindex()
        print(f"  built {home}: {summary.added} articles in {time.perf_counter() - started:.0f} s")
    else:
        try:
            archive.index.open()
        except ArchiveError:
            print(f"  reindexing {home} (the index is stale)")
            archive.reindex()
    return archive


def ids_by_hash(archive: Archive) -> dict[str, int]:
    with archive.session() as session:
        return {h: i for h, i in session.execute(select(Article.content_hash, Article.id))}


def title_keywords(title: str, rng: random.Random) -> str | None:
    """Three distinct keywords of ``title`` (two if it has only two), in title order."""
    words: list[str] = []
    for m in _sudachi().tokenize(title):
        surface = m.surface().strip()
        if m.part_of_speech()[0] in KEYWORD_POS and len(surface) >= 2 and surface not in words:
            words.append(surface)
    if len(words) < 2:
        return None
    count = min(len(words), 3)
    chosen = sorted(rng.sample(range(len(words)), count))
    return " ".join(words[i] for i in chosen)


def livedoor_cases(archive: Archive, drafts: list[ArticleDraft], n: int) -> list[Case]:
    rng = random.Random(SEED)
    ids = ids_by_hash(archive)
    cases = []
    for draft in rng.sample(drafts, len(drafts)):
        query = title_keywords(draft.title, rng)
        if query:
            cases.append(Case(query, ids[draft.content_hash]))
        if len(cases) == n:
            break
    return cases


def jaquad_records() -> tuple[list[dict], list[tuple[str, int]]]:
    """Paragraph articles, and (question, paragraph index) pairs."""
    records, questions = [], []
    for path in sorted((DATA / "jaquad-dev" / "data" / "dev").glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                index = len(records)
                records.append({"title": article["title"], "body": paragraph["context"]})
                questions.extend((qa["question"], index) for qa in paragraph["qas"])
    return records, questions


def evaluate(search: Callable[[str], list[int]], cases: list[Case]) -> tuple[Scores, float]:
    scores = Scores()
    started = time.perf_counter()
    for case in cases:
        ranked = search(case.query)
        scores.add(ranked.index(case.relevant) + 1 if case.relevant in ranked else None)
    return scores, (time.perf_counter() - started) / max(len(cases), 1) * 1000


def ours(archive: Archive) -> Callable[[str], list[int]]:
    def search(query: str) -> list[int]:
        try:
            return [hit.id for hit in archive.search(query).hits]
        except ArchiveError:
            return []

    return search


class Fts5Reference:
    """SQLite FTS5, trigram tokenizer, bm25() ranking, over the same articles."""

    def __init__(self, archive: Archive, path: Path) -> None:
        self.connection = sqlite3.connect(path)
        self.connection.execute("DROP TABLE IF EXISTS docs")
        self.connection.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='trigram')"
        )
        with archive.session() as session:
            rows = [
                tuple(r) for r in session.execute(select(Article.id, Article.title, Article.body))
            ]
            self.connection.executemany(
                "INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", rows
            )
        self.connection.commit()

    def _run(self, match: str) -> list[int]:
        if not match:
            return []
        try:
            rows = self.connection.execute(
                "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,)
            )
            return [r[0] for r in rows]
        except sqlite3.OperationalError:
            return []

    @staticmethod
    def _quote(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    def keywords(self, query: str) -> list[int]:
        return self._run(" AND ".join(self._quote(w) for w in query.split()))

    def question(self, query: str) -> list[int]:
        text = re.sub(r"[\s\W_]+", "", query)
        grams = {text[i : i + 3] for i in range(len(text) - 2)}
        return self._run(" OR ".join(self._quote(g) for g in sorted(grams)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "archive-quality"
    )
    parser.add_argument("--queries", type=int, default=400, help="livedoor known-item queries")
    parser.add_argument(
        "--questions", type=int, default=None, help="JaQuAD questions (all by default)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild both archives")
    args = parser.parse_args()
    for needed in (DATA / "livedoor", DATA / "jaquad-dev"):
        if not needed.is_dir():
            sys.exit(f"missing corpus: {needed}")

    print("livedoor known-item")
    files = list(discover([DATA / "livedoor"], ImportSummary()))
    drafts = [d for f in files for d in read_file(f) if isinstance(d, ArticleDraft)]
    livedoor = build_archive(args.workdir / "livedoor", files, args.rebuild)
    cases = livedoor_cases(livedoor, drafts, args.queries)
    fts = Fts5Reference(livedoor, args.workdir / "livedoor-fts.db")
    print(
        f"  {len(cases)} queries over {len(drafts)} articles, e.g. {[c.query for c in cases[:3]]}"
    )
    for name, search in (("ours", ours(livedoor)), ("FTS5 trigram", fts.keywords)):
        scores, ms = evaluate(search, cases)
        print(f"  {name:<13} {scores.line()}   ({ms:.0f} ms/query)")

    print("JaQuAD dev question retrieval")
    records, questions = jaquad_records()
    source = args.workdir / "jaquad.jsonl"
    args.workdir.mkdir(parents=True, exist_ok=True)
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    jaquad = build_archive(args.workdir / "jaquad", [source], args.rebuild)
    drafts_by_index = [d for d in read_file(source) if isinstance(d, ArticleDraft)]
    ids = ids_by_hash(jaquad)
    q_cases = [Case(q, ids[drafts_by_index[i].content_hash]) for q, i in questions]
    if args.questions:
        q_cases = random.Random(SEED).sample(q_cases, args.questions)
    fts_q = Fts5Reference(jaquad, args.workdir / "jaquad-fts.db")
    print(f"  {len(q_cases)} questions over {len(records)} paragraphs")
    for name, search in (("ours", ours(jaquad)), ("FTS5 trigram", fts_q.question)):
        scores, ms = evaluate(search, q_cases)
        print(f"  {name:<13} {scores.line()}   ({ms:.0f} ms/query)")


if __name__ == "__main__":
    main()
