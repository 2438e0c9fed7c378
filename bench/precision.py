"""Precision of the match set: do the totals count only what a reader would count?

    python bench/precision.py [--workdir DIR] [--rebuild] [--words bench/precision_words.json]

A *trap word*'s characters often stand across a word boundary: 京都 inside
東京都, 人参 inside 外国人参政権, 大人 inside 大人気, パン inside ジャパン.  For
each trap word, every livedoor article holding its characters (folded: width,
case, old kanji) is labelled from its own text: an occurrence is false when
it lies inside one of the word's *false containers* (the strings, read in
context and listed in ``precision_words.json``, in which those characters do
not mean the word: 東京都 for 京都), true otherwise, and an article is a true
mention when it holds one true occurrence.  The labels need no segmenter, so
they do not grade the archive by its own analysis.

Then every result of a search for the word is paged through, and the run
prints, per word and in all:

* **false %**: false matches as a share of true mentions (articles matched
  that hold the characters only in false containers), and how many of those
  hold a dictionary synonym the search used (大人 → 成人: matched for that);
* **recall %**: true mentions matched;
* **false on page 1**: false matches on the first page sorted newest first.

*True-substring words* (空港 in 関西国際空港, 東京都 in 東京都庁) are words found
inside longer words that do mean them: their recall must not fall.  The
trap words come in three sets: the one the matching rule was designed on,
one held out while designing it, and a few labelled and run once after the
rule was frozen.  Beside the archive, two references in the same
run: **plain BM25** over the same index (every unit of the word required, as
a word: the morphological field alone) and **FTS5 trigram** (SQLite's
substring search: every occurrence of the characters).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whoosh import query as wq  # noqa: E402
from whoosh.scoring import BM25F  # noqa: E402

from bench.quality import DATA, build, livedoor_docs  # noqa: E402
from indexer.archive import Archive  # noqa: E402
from indexer.engine import Evaluator, IndexStore, Snapshot  # noqa: E402
from indexer.errors import ArchiveError  # noqa: E402

WORDS = Path(__file__).resolve().parent / "precision_words.json"
PLAIN_WEIGHTING = BM25F()
PAGE = 100


_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


def fold(text: str) -> str:
    """Width, case and small kana folded, as a reader compares characters (and the archive)."""
    return unicodedata.normalize("NFKC", text).lower().translate(_SMALL_KANA)


@dataclass(frozen=True)
class Trap:
    word: str
    false: tuple[str, ...] = ()  # the containers in which its characters do not mean it
    false_except: tuple[str, ...] = ()  # ... unless inside one of these (大人気ない is 大人)


@dataclass
class Labels:
    """Per word: the articles holding its characters, and which of them mention it."""

    holding: set[int] = field(default_factory=set)
    true: set[int] = field(default_factory=set)

    @property
    def false_only(self) -> set[int]:
        return self.holding - self.true


def _covers(text: str, at: int, word: str, containers: Iterable[str]) -> bool:
    """Whether the occurrence of ``word`` at ``at`` lies inside one of ``containers``."""
    for container in containers:
        k = container.find(word)
        while k >= 0:
            if at - k >= 0 and text.startswith(container, at - k):
                return True
            k = container.find(word, k + 1)
    return False


def label(trap: Trap, texts: dict[int, str]) -> Labels:
    """An occurrence is false inside a false container (not a false_except one); an article
    is a true mention when one of its occurrences is true."""
    word = fold(trap.word)
    false = [fold(c) for c in trap.false]
    spared = [fold(c) for c in trap.false_except]
    found = Labels()
    for article, text in texts.items():
        at = text.find(word)
        if at < 0:
            continue
        found.holding.add(article)
        while at >= 0:
            if not _covers(text, at, word, false) or _covers(text, at, word, spared):
                found.true.add(article)
                break
            at = text.find(word, at + 1)
    return found


def inside_containers(word: str, containers: Iterable[str], texts: dict[int, str]) -> set[int]:
    """The articles holding ``word`` inside one of ``containers`` (a true-substring word)."""
    word = fold(word)
    wanted = [fold(c) for c in containers if fold(c) != word]
    out = set()
    for article, text in texts.items():
        at = text.find(word)
        while at >= 0:
            if _covers(text, at, word, wanted):
                out.add(article)
                break
            at = text.find(word, at + 1)
    return out


# The engines: every article each one matches, and its first page by date


# What an engine answers for a word: every article matched, its first page by
# date, and the dictionary synonyms it searched too (to tell those matches apart).
Answer = tuple[set[int], list[int], tuple[str, ...]]


def ours(archive: Archive) -> Callable[[str], Answer]:
    def search(word: str) -> Answer:
        try:
            first = archive.search(word, page_size=PAGE)
        except ArchiveError:
            return set(), [], ()
        ids = {hit.id for hit in first.hits}
        for page in range(2, first.pages + 1):
            ids |= {hit.id for hit in archive.search(word, page=page, page_size=PAGE).hits}
        newest = archive.search(word, sort="newest").hits
        synonyms = tuple(s for term in first.terms for s in term.synonyms)
        return ids, [hit.id for hit in newest], synonyms

    return search


def plain(archive: Archive) -> Callable[[str], Answer]:
    """Every unit of the word required as a word (title or body); no bigrams, no synonyms."""
    snapshot = Snapshot(IndexStore(archive.settings.index_root).open())
    articles = snapshot.column("article")
    times = snapshot.column("time_key")

    def search(word: str) -> Answer:
        units = [t.text for t in archive.analyze(word, query=True)]
        if not units:
            return set(), [], ()
        query = wq.And([wq.Or([wq.Term("title", u), wq.Term("body", u)]) for u in units])
        ids = Evaluator(snapshot, PLAIN_WEIGHTING).docs(query)
        newest = ids[(-times[ids]).argsort(kind="stable")][:10]
        return set(articles[ids].tolist()), articles[newest].tolist(), ()

    return search


class Substring:
    """SQLite FTS5 with the trigram tokenizer: every article holding the characters."""

    def __init__(self, archive: Archive, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.connection = sqlite3.connect(path)
        self.connection.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body, published, tokenize='trigram')"
        )
        self.connection.executemany(
            "INSERT INTO docs(rowid, title, body, published) VALUES (?, ?, ?, ?)",
            (
                (
                    r.id,
                    fold(r.title),
                    fold(r.body),
                    r.published_at.isoformat() if r.published_at else "",
                )
                for r in archive.every_article()
            ),
        )
        self.connection.commit()

    def search(self, word: str) -> Answer:
        pattern = f"%{fold(word)}%"
        rows = self.connection.execute(
            "SELECT rowid, published FROM docs WHERE title LIKE ? OR body LIKE ?",
            (pattern, pattern),
        ).fetchall()
        newest = sorted(rows, key=lambda r: r[1], reverse=True)[:10]
        return {r[0] for r in rows}, [r[0] for r in newest], ()


@dataclass
class Tally:
    false: int = 0
    true: int = 0
    mentions: int = 0
    first_page: int = 0
    words_false_on_page: int = 0
    # False matches that hold one of the dictionary synonyms the search used (大人 → 成人).
    through_synonyms: int = 0

    def add(
        self, labels: Labels, answer: Answer, texts: dict[int, str]
    ) -> tuple[int, int, int, int]:
        matched, newest, synonyms = answer
        false_ones = matched & labels.false_only
        wanted = [fold(s) for s in synonyms]
        by_synonym = sum(any(s in texts[a] for s in wanted) for a in false_ones)
        self.through_synonyms += by_synonym
        false = len(false_ones)
        true = len(matched & labels.true)
        on_page = len(set(newest) & labels.false_only)
        self.false += false
        self.true += true
        self.mentions += len(labels.true)
        self.first_page += on_page
        self.words_false_on_page += bool(on_page)
        return false, true, on_page, by_synonym

    def cells(self) -> str:
        mentions = max(self.mentions, 1)
        return (
            f"false {100 * self.false / mentions:6.2f} %"
            f" ({100 * self.through_synonyms / mentions:.2f} % holding a synonym searched)"
            f"  recall {100 * self.true / mentions:6.2f} %"
            f"  false on page 1: {self.first_page} ({self.words_false_on_page} words)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "archive-quality"
    )
    parser.add_argument("--words", type=Path, default=WORDS)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the archive")
    parser.add_argument("--quiet", action="store_true", help="totals only, not every word")
    args = parser.parse_args()
    if not (DATA / "livedoor").is_dir():
        sys.exit(f"missing corpus: {DATA / 'livedoor'}")
    words = json.loads(args.words.read_text(encoding="utf-8"))
    started = time.perf_counter()
    archive, _ = build(args.workdir / "livedoor", livedoor_docs(), args.rebuild)
    texts = {r.id: fold(f"{r.title}\n{r.body}") for r in archive.every_article()}
    engines = {
        "ours": ours(archive),
        "plain BM25": plain(archive),
        "FTS5 trigram": Substring(archive, args.workdir / "precision-fts.db").search,
    }
    print(f"{len(texts):,} livedoor articles; ready in {time.perf_counter() - started:.0f} s")
    for group in ("design", "held_out", "fresh"):
        traps = [
            Trap(w["word"], tuple(w["false"]), tuple(w.get("false_except", ())))
            for w in words[group]
        ]
        tallies = {name: Tally() for name in engines}
        print(f"\n## trap words, {group.replace('_', '-')} set ({len(traps)} words)\n")
        if not args.quiet:
            print(f"{'word':<8} {'holding':>7} {'true':>5} | " + " | ".join(engines))
        for trap in traps:
            labels = label(trap, texts)
            row = []
            for name, search in engines.items():
                false, true, on_page, by_synonym = tallies[name].add(
                    labels, search(trap.word), texts
                )
                row.append(
                    f"{false:>4} false ({by_synonym} syn) {true:>4}/{len(labels.true):<4} p1 {on_page}"
                )
            if not args.quiet:
                print(
                    f"{trap.word:<8} {len(labels.holding):>7} {len(labels.true):>5} | "
                    + " | ".join(row)
                )
        print()
        for name, tally in tallies.items():
            print(f"{name:<13} {tally.cells()}")
    entries = words["true_substring"]
    print(f"\n## true-substring words ({len(entries)}): recall, all holders / inside containers\n")
    holders = {e["word"]: label(Trap(e["word"]), texts).holding for e in entries}
    inside = {e["word"]: inside_containers(e["word"], e["containers"], texts) for e in entries}
    for name, search in engines.items():
        found_all = found_inside = 0
        for entry in entries:
            matched, _, _ = search(entry["word"])
            found_all += len(matched & holders[entry["word"]])
            found_inside += len(matched & inside[entry["word"]])
        total_all = sum(map(len, holders.values()))
        total_inside = sum(map(len, inside.values()))
        print(
            f"{name:<13} recall {100 * found_all / max(total_all, 1):6.2f} % ({found_all}/{total_all})"
            f" / {100 * found_inside / max(total_inside, 1):6.2f} % ({found_inside}/{total_inside})"
        )


if __name__ == "__main__":
    main()
