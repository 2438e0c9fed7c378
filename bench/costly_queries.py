"""What a crafted query costs, and what it costs everyone else on the same server.

    python bench/costly_queries.py --home /tmp/bench-homes/livedoor
    python bench/costly_queries.py --home /tmp/bench-homes/livedoor --serve-option=--search-budget=250

Starts ``python -m archive serve`` over ``--home`` (waitress, 4 threads, by
default) and sends ``GET /api/search`` the way a probe would:

* **crafted queries**, each as long as the limits allow, a different one each
  time (no cache helps): 1,000 kanji in one run (from the archive's bodies,
  kana and punctuation taken out), 999 characters of body text with its
  spaces taken out, and 32 of the titles' most frequent content words joined
  by ``OR`` (the long posting lists); ``--crafted`` (8) of each, one at a time;
* **ordinary searches**: ``--queries`` (150) title pairs (``bench/queries.py``),
  one client, one at a time: first alone (**the reference, same run**), then
  while ``--attackers`` (4) clients send crafted queries back to back.

Prints each crafted kind's latency and answers (200 complete, 200 marked
``incomplete``, or an error status), and the ordinary searches' p50/p95/max
alone and under the crafted load, with the ratio.  The HTTP floor is
``GET /api/articles/<id>``.  ``--serve-option`` passes options to ``serve``
(``--search-budget``), so that a server without the budget can be measured
with the same script.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from collections import Counter
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
    load_note,
    table,
)
from bench.queries import content_words, title_queries  # noqa: E402

SEED = 20261203
KANJI = re.compile(r"[\u4e00-\u9fff]")
SPACE = re.compile(r"\s+")
# The limits of one query (indexer.search.query): characters and words.
MAX_CHARS = 1000
MAX_WORDS = 32
# Titles whose words are counted for the OR'ed queries (analyzing every title takes long).
WORD_TITLES = 3000


@dataclass(frozen=True)
class Crafted:
    kind: str
    queries: list[str]


def crafted_queries(records: list[dict], count: int) -> list[Crafted]:
    """``count`` queries of each crafted kind, each different, from the archive's own text."""
    bodies = "".join(r["body"] for r in records)
    kanji = "".join(KANJI.findall(bodies))
    flat = SPACE.sub("", bodies)
    frequency: Counter = Counter()
    for record in records[:WORD_TITLES]:
        frequency.update(content_words(record["title"]))
    words = [word for word, _ in frequency.most_common(MAX_WORDS * count)]
    return [
        Crafted("1,000 kanji", [kanji[i * MAX_CHARS : (i + 1) * MAX_CHARS] for i in range(count)]),
        Crafted(
            "999 characters of text",
            [flat[i * MAX_CHARS : i * MAX_CHARS + 999] for i in range(count)],
        ),
        Crafted(
            "32 frequent words OR'ed",
            [" OR ".join(words[i * MAX_WORDS : (i + 1) * MAX_WORDS]) for i in range(count)],
        ),
    ]


@dataclass
class Answers:
    """Latencies and how the server answered."""

    ms: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)

    def add(self, status: int, page: dict, ms: float) -> None:
        self.ms.append(ms)
        if status != 200:
            self.outcomes[f"HTTP {status}"] += 1
        else:
            self.outcomes["incomplete" if page.get("incomplete") else "complete"] += 1

    def said(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in sorted(self.outcomes.items()))


def ordinary(client: Client, queries: list[str]) -> Answers:
    answers = Answers()
    for query in queries:
        answers.add(*client.search(query))
    return answers


def attack(url: str, queries: list[str], start: int, stop: threading.Event, into: Answers) -> None:
    """Send crafted queries back to back until ``stop``."""
    client = Client(url)
    i = start
    while not stop.is_set():
        into.add(*client.search(queries[i % len(queries)]))
        i += 1
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_home_arguments(parser)
    parser.add_argument("--queries", type=int, default=150, help="ordinary title-pair queries")
    parser.add_argument("--crafted", type=int, default=8, help="queries of each crafted kind")
    parser.add_argument("--attackers", type=int, default=4, help="clients sending crafted ones")
    parser.add_argument(
        "--serve-option", action="append", default=[], help="an option for serve (repeatable)"
    )
    args = parser.parse_args()
    ensure_built(args.home, args.build_from)

    with tempfile.TemporaryDirectory(prefix="bench-costly-") as scratch:
        records = list(exported_articles(args.home, Path(scratch)))
    titles = [r["title"] for r in records]
    queries = title_queries(titles, args.queries, SEED)
    warmup = title_queries(titles, 30, SEED + 1)
    kinds = crafted_queries(records, args.crafted)
    # The attackers' queries are other ones than those timed alone.
    more = crafted_queries(records[len(records) // 2 :], args.crafted)
    mixed = [q for kind in more for q in kind.queries]

    print(f"serving {args.home} ({load_note()})", flush=True)
    with Server(args.home, *args.serve_option) as server:
        client = Client(server.url)
        ids = [h["id"] for q in warmup for h in client.search(q)[1].get("hits", [])][:50]
        floor = Spread.of([client.get(f"/api/articles/{i}")[2] for i in ids])
        alone = ordinary(client, queries)
        crafted = {}
        for kind in kinds:
            crafted[kind.kind] = answers = Answers()
            for query in kind.queries:
                answers.add(*client.search(query))
        stop = threading.Event()
        attacked = Answers()
        attackers = [
            threading.Thread(
                target=attack, args=(server.url, mixed, n * 5, stop, attacked), daemon=True
            )
            for n in range(args.attackers)
        ]
        for thread in attackers:
            thread.start()
        time.sleep(1.0)  # every attacker has a query in hand
        started = time.monotonic()
        under = ordinary(client, queries)
        seconds = time.monotonic() - started
        stop.set()
        for thread in attackers:
            thread.join(timeout=120)
        client.close()
    print(f"done ({load_note()})", flush=True)
    print()
    print(
        f"{len(records):,} articles; server: python -m archive serve "
        f"{' '.join(args.serve_option) or '(defaults: waitress, 4 threads)'}"
    )
    print()
    rows = []
    for name, answers in crafted.items():
        spread = Spread.of(answers.ms)
        rows.append([name, spread.n, spread.p50, spread.max, answers.said()])
    print(table(["crafted query, alone", "sent", "p50 ms", "max ms", "answers"], rows))
    print()
    ref = Spread.of(alone.ms)
    hit = Spread.of(under.ms)
    rows = [
        ["HTTP floor: GET /api/articles/<id>", floor.n, floor.p50, floor.p95, floor.max, "–"],
        ["ordinary, alone (reference)", ref.n, ref.p50, ref.p95, ref.max, alone.said()],
        [
            f"ordinary, while {args.attackers} clients send crafted ones",
            hit.n,
            hit.p50,
            hit.p95,
            hit.max,
            under.said(),
        ],
    ]
    print(table(["searches", "n", "p50 ms", "p95 ms", "max ms", "answers"], rows))
    print(
        f"p95 under crafted load: {hit.p95 / ref.p95:.1f}× the reference; meanwhile the "
        f"attackers got {len(attacked.ms)} answers in {seconds:.0f} s ({attacked.said()}), "
        f"p50 {Spread.of(attacked.ms).p50:,.0f} ms"
    )


if __name__ == "__main__":
    main()
