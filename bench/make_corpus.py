"""Make a corpus of N realistic Japanese news articles from the livedoor paragraphs, as JSON Lines.

    python bench/make_corpus.py 100000 --seed 1 --out /tmp/bench-corpora/gen-100k
    python -m indexer import /tmp/bench-corpora/gen-100k

Each article starts from a real livedoor article drawn at random (its category,
its number of paragraphs, its lead paragraph), then:

* its other paragraphs are each replaced, more often than not, by a paragraph
  drawn from any article of the same category (and a short body gets one or
  two more, up to three), so lengths and vocabulary stay those of real news in
  that category;
* its title is the start of its own title joined to the end of another title
  of the same category, cut where a headline breaks (after 、！？ or a 【tag】);
* it gets one of ~30 made-up news sites (``*.example``): a few large general
  sites carry most articles, specialist sites only their own categories;
* and a date and time between 2019 and 2025, more articles in later years and
  in the daytime, as in a growing archive.

Article i is drawn from its own random stream (seed, i): the same seed gives
the same corpus, and the first N articles of a bigger corpus are the corpus of
N.  Files of ``--per-file`` lines (``articles-00001.jsonl`` …) are written to
``--out``, which must be outside the repository: the livedoor corpus is
CC BY-ND, so what is made from it stays on this machine and is never committed
or published.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import LIVEDOOR, require  # noqa: E402

JST = timezone(timedelta(hours=9))
PER_FILE = 5000
# The share of a template's non-lead paragraphs replaced by others of its category.
REPLACED = 0.6
MIN_PARAGRAPHS = 3
# livedoor's nine sections, as a Japanese news site would label them.
CATEGORIES = {
    "dokujo-tsushin": "ライフ",
    "it-life-hack": "IT",
    "kaden-channel": "家電",
    "livedoor-homme": "メンズ",
    "movie-enter": "映画",
    "peachy": "女性",
    "smax": "モバイル",
    "sports-watch": "スポーツ",
    "topic-news": "話題",
}
# Made-up news sites, most read first; specialists list the sections they carry.
SITES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("www.hinode-shimbun.example", ()),
    ("news.tokyo-nichinichi.example", ()),
    ("kinki-times.example", ()),
    ("wire.nippon-press.example", ()),
    ("sports.daily-arena.example", ("sports-watch",)),
    ("it.techwave.example", ("it-life-hack", "smax", "kaden-channel")),
    ("chubu-keizai.example", ()),
    ("hokkaido-minpo.example", ()),
    ("cinema-town.example", ("movie-enter",)),
    ("kyushu-nippo.example", ()),
    ("news.kazaguruma.example", ()),
    ("onna-no-jikan.example", ("dokujo-tsushin", "peachy")),
    ("mobile-square.example", ("smax",)),
    ("tohoku-shinpo.example", ()),
    ("wadai-now.example", ("topic-news",)),
    ("setouchi-shimbun.example", ()),
    ("gadget-lab.example", ("it-life-hack", "kaden-channel", "smax")),
    ("eiga-press.example", ("movie-enter",)),
    ("sanin-chuo.example", ()),
    ("mens-style.example", ("livedoor-homme",)),
    ("yakyu-soccer.example", ("sports-watch",)),
    ("kaden-navi.example", ("kaden-channel",)),
    ("lifestyle-plus.example", ("dokujo-tsushin", "peachy", "livedoor-homme")),
    ("okinawa-asahi-net.example", ()),
    ("buzz-japan.example", ("topic-news", "movie-enter")),
    ("shikoku-shinbun.example", ()),
    ("hokuriku-daily.example", ()),
    ("net-keizai.example", ("it-life-hack", "topic-news")),
    ("kanto-local.example", ()),
    ("machi-no-koe.example", ()),
)
FIRST_YEAR, LAST_YEAR = 2019, 2025
# Articles published per hour of the day (JST), relative: few at night.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 8, 9, 8, 7, 7, 8, 9, 9, 8, 6, 4, 3, 2)
# A headline may be cut after these (and after a closing 】 or a full-width space).
TITLE_BREAKS = "、！？!?】　"
OPENING, CLOSING = "「『（(【〈《", "」』）)】〉》"


@dataclass(frozen=True)
class Source:
    """One livedoor article, as the corpus is made from it."""

    section: str  # its folder: dokujo-tsushin, sports-watch, …
    title: str
    paragraphs: tuple[str, ...]


def read_livedoor(root: Path) -> list[Source]:
    """Every article of the livedoor corpus (line 1 URL, line 2 date, line 3 title, then the body)."""
    sources = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.glob(f"{folder.name}-*.txt")):
            lines = path.read_text(encoding="utf-8").split("\n")
            paragraphs = tuple(line.strip() for line in lines[3:] if line.strip())
            if len(lines) > 3 and paragraphs:
                sources.append(Source(folder.name, lines[2].strip(), paragraphs))
    return sources


def title_cuts(title: str) -> list[int]:
    """Where the headline may be cut: after a break mark, outside quotes and brackets."""
    cuts, depth = [], 0
    for i, char in enumerate(title[:-1]):
        if char in OPENING:
            depth += 1
        elif char in CLOSING:
            depth = max(depth - 1, 0)
        if depth == 0 and char in TITLE_BREAKS:
            cuts.append(i + 1)
    return cuts


class CorpusMaker:
    """Makes article i of a corpus from the livedoor articles, the same way for the same seed."""

    def __init__(self, sources: Sequence[Source], seed: int) -> None:
        if not sources:
            raise ValueError("no source articles")
        self.sources = sources
        self.seed = seed
        self.by_section: dict[str, list[Source]] = {}
        self.paragraphs: dict[str, list[str]] = {}
        for source in sources:
            self.by_section.setdefault(source.section, []).append(source)
            self.paragraphs.setdefault(source.section, []).extend(source.paragraphs)
        self.sites = {section: _site_weights(section) for section in self.by_section}
        years = range(FIRST_YEAR, LAST_YEAR + 1)
        # Later years weigh more: 1.0 for the first year, 2.2 for the last.
        self.year_weights = list(itertools.accumulate(1 + 0.2 * i for i, _ in enumerate(years)))
        self.years = list(years)
        self.hour_weights = list(itertools.accumulate(HOUR_WEIGHTS))

    def article(self, i: int) -> dict[str, str]:
        rng = random.Random(f"{self.seed}:{i}")
        template = rng.choice(self.sources)
        section = template.section
        pool = self.paragraphs[section]
        body = [template.paragraphs[0]] + [
            rng.choice(pool) if rng.random() < REPLACED else paragraph
            for paragraph in template.paragraphs[1:]
        ]
        # A one- or two-paragraph template would otherwise repeat its text exactly.
        body += [rng.choice(pool) for _ in range(MIN_PARAGRAPHS - len(body))]
        hosts, weights = self.sites[section]
        site = rng.choices(hosts, cum_weights=weights)[0]
        published = self._published(rng)
        return {
            "title": self._title(template, rng),
            "body": "\n".join(body),
            "url": f"https://{site}/{section}/{published:%Y%m%d}/{self.seed}-{i:07d}.html",
            "published_at": published.isoformat(),
            "category": CATEGORIES.get(section, section),
            "site": site,
        }

    def _title(self, template: Source, rng: random.Random) -> str:
        """The start of the template's headline joined to the end of another of its section."""
        own = title_cuts(template.title)
        for _ in range(5):
            other = rng.choice(self.by_section[template.section]).title
            theirs = title_cuts(other)
            if other == template.title or not theirs:
                continue
            tail = other[rng.choice(theirs) :]
            if own:
                return template.title[: rng.choice(own)] + tail
            return f"{template.title}　{tail}"
        return template.title

    def _published(self, rng: random.Random) -> datetime:
        year = self.years[bisect.bisect(self.year_weights, rng.random() * self.year_weights[-1])]
        day = datetime(year, 1, 1, tzinfo=JST) + timedelta(days=rng.randrange(365))
        hour = bisect.bisect(self.hour_weights, rng.random() * self.hour_weights[-1])
        return day.replace(hour=hour, minute=rng.randrange(60))


def _site_weights(section: str) -> tuple[list[str], list[float]]:
    """The sites that carry ``section`` and their cumulative weights (Zipf-like by rank)."""
    hosts, weights = [], []
    for rank, (host, sections) in enumerate(SITES, start=1):
        if not sections or section in sections:
            hosts.append(host)
            weights.append(1 / rank)
    return hosts, list(itertools.accumulate(weights))


def articles(maker: CorpusMaker, count: int, start: int = 0) -> Iterator[dict[str, str]]:
    for i in range(start, start + count):
        yield maker.article(i)


def write_corpus(maker: CorpusMaker, count: int, out: Path, per_file: int = PER_FILE) -> list[Path]:
    """Write ``count`` articles as ``articles-NNNNN.jsonl`` files of ``per_file`` lines."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("articles-*.jsonl"):
        stale.unlink()  # a smaller corpus must not keep a bigger one's later files
    paths = []
    for number, start in enumerate(range(0, count, per_file), start=1):
        path = out / f"articles-{number:05d}.jsonl"
        with path.open("w", encoding="utf-8") as file:
            for article in articles(maker, min(per_file, count - start), start):
                file.write(json.dumps(article, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", type=int, help="how many articles")
    parser.add_argument("--seed", type=int, default=1, help="the same seed makes the same corpus")
    parser.add_argument("--out", type=Path, required=True, help="a folder outside the repository")
    parser.add_argument("--source", type=Path, default=LIVEDOOR, help="the livedoor corpus")
    parser.add_argument("--per-file", type=int, default=PER_FILE, help="articles per file")
    args = parser.parse_args()
    require(args.source, "the livedoor corpus")
    out = args.out.resolve()
    if out.is_relative_to(ROOT):
        sys.exit(f"{out} is inside the repository: write generated corpora elsewhere (/tmp/…)")

    started = time.perf_counter()
    sources = read_livedoor(args.source)
    maker = CorpusMaker(sources, args.seed)
    paths = write_corpus(maker, args.count, out, args.per_file)
    size = sum(p.stat().st_size for p in paths) / 1_048_576
    print(
        f"{args.count:,} articles (seed {args.seed}) from {len(sources):,} livedoor articles: "
        f"{len(paths)} files, {size:.0f} MiB in {out} ({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
