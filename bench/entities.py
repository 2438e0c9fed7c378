"""Precision (and recall on a sample) of the people, organisations and places found in articles.

    python bench/entities.py                       # score against bench/entities_labels.json
    python bench/entities.py --labels bench/entities_labels_heldout.json   # the held-out sample
    python bench/entities.py --show                # print the sample with what is found, to label it
    python bench/entities.py --template out.json   # a labels file for the sample, every name unjudged

A fixed sample of livedoor articles (``--count`` chosen with ``--seed``, both
kept in the labels file) goes through the same extraction an import runs
(``Archive.entities``: title and body).  Each name found was labelled by hand,
reading the article: ``true`` when it is that kind of thing and its span is the
whole name (岸田文雄, not 岸田文; 大阪 for 大阪府 counts, a place being kept by its
stem), ``false`` otherwise (a brand taken for a person, 日立 the company taken
for the city, a surname cut from its given name).  Names the article plainly
gives that were not found are listed under ``missed``, so recall on the sample
is correct / (correct + missed) — a lower bound on what a careful reader would
list, since only the obvious ones were noted.

Two samples are labelled: 40 articles (seed 19), on which the rules were
then refined (the labels judge the names the refined rules find too), and 20
more (seed 20) labelled after the last change and never tuned on.

Printed per kind: names found, judged right and wrong, precision, missed, and
recall; names found that the labels do not judge (the extractor changed since
labelling) are counted apart and left out of the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import LIVEDOOR, corpus_files, read_texts, require, table  # noqa: E402
from indexer.archive import Archive  # noqa: E402

LABELS = ROOT / "bench" / "entities_labels.json"
KINDS = ("person", "org", "place")
SEED = 19
COUNT = 40


def sample(corpus: Path, seed: int, count: int) -> list[Path]:
    files = corpus_files(corpus)
    return sorted(random.Random(seed).sample(files, count))


def found_in(path: Path) -> tuple[str, str, dict[str, list[str]]]:
    text = next(read_texts([path]))
    return text.title, text.body, Archive.entities(text.title, text.body)


def show(files: list[Path], corpus: Path) -> None:
    for path in files:
        title, body, found = found_in(path)
        print(f"=== {path.relative_to(corpus)}")
        print(title)
        print(body)
        for kind in KINDS:
            print(f"  {kind}: {'、'.join(found.get(kind, []))}")
        print()


def template(files: list[Path], corpus: Path, seed: int, out: Path) -> None:
    articles = []
    for path in files:
        title, _, found = found_in(path)
        articles.append(
            {
                "file": str(path.relative_to(corpus)),
                "title": title,
                "found": {kind: dict.fromkeys(found.get(kind, [])) for kind in KINDS},
                "missed": {kind: [] for kind in KINDS},
            }
        )
    data = {"seed": seed, "count": len(files), "articles": articles}
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}: judge every name (true or false) and list what was missed")


def score(labels: dict, corpus: Path) -> None:
    tally = {k: {"found": 0, "right": 0, "wrong": 0, "unjudged": 0, "missed": 0} for k in KINDS}
    wrong: dict[str, list[str]] = {k: [] for k in KINDS}
    for article in labels["articles"]:
        _, _, found = found_in(corpus / article["file"])
        for kind in KINDS:
            judged = article["found"].get(kind, {})
            row = tally[kind]
            for name in found.get(kind, []):
                row["found"] += 1
                verdict = judged.get(name)
                if verdict is None:
                    row["unjudged"] += 1
                elif verdict:
                    row["right"] += 1
                else:
                    row["wrong"] += 1
                    wrong[kind].append(name)
            row["missed"] += len(article["missed"].get(kind, []))

    def ratio(a: int, b: int) -> str:
        return f"{100 * a / b:.0f} %" if b else "–"

    rows = []
    for kind in KINDS:
        t = tally[kind]
        rows.append(
            [
                kind,
                t["found"],
                t["right"],
                t["wrong"],
                ratio(t["right"], t["right"] + t["wrong"]),
                t["missed"],
                ratio(t["right"], t["right"] + t["missed"]),
                t["unjudged"],
            ]
        )
    total = {k: sum(tally[kind][k] for kind in KINDS) for k in tally["person"]}
    rows.append(
        [
            "all",
            total["found"],
            total["right"],
            total["wrong"],
            ratio(total["right"], total["right"] + total["wrong"]),
            total["missed"],
            ratio(total["right"], total["right"] + total["missed"]),
            total["unjudged"],
        ]
    )
    print(f"{len(labels['articles'])} livedoor articles (seed {labels['seed']}), labelled by hand")
    print(
        table(
            ["kind", "found", "right", "wrong", "precision", "missed", "recall", "unjudged"],
            rows,
        )
    )
    for kind in KINDS:
        if wrong[kind]:
            print(f"wrong {kind}: {'、'.join(wrong[kind])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=LIVEDOOR, help="the livedoor folder")
    parser.add_argument("--labels", type=Path, default=LABELS, help="the hand-labelled names")
    parser.add_argument("--seed", type=int, default=SEED, help="which sample (--show, --template)")
    parser.add_argument("--count", type=int, default=COUNT, help="articles in the sample")
    parser.add_argument("--show", action="store_true", help="print the sample to label it")
    parser.add_argument("--template", type=Path, help="write a labels file to fill in")
    args = parser.parse_args()
    require(args.corpus, "the livedoor corpus")
    files = sample(args.corpus, args.seed, args.count)
    if args.show:
        show(files, args.corpus)
    elif args.template:
        template(files, args.corpus, args.seed, args.template)
    else:
        require(args.labels, "the labels file")
        score(json.loads(args.labels.read_text(encoding="utf-8")), args.corpus)


if __name__ == "__main__":
    main()
