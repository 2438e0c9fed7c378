"""The benchmarks' own parts: the generated corpus, the helpers, and their command lines.

No benchmark runs here; a tiny livedoor-style corpus written by the test stands
in for the real one.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.common import corpus_files, first_articles, percentile, read_texts, table
from bench.make_corpus import SITES, CorpusMaker, read_livedoor, title_cuts, write_corpus
from indexer.cli import cli

from .conftest import ROOT

SECTIONS = {
    "sports-watch": [
        ("【Sports Watch】本田圭佑、代表戦へ意欲「勝つだけ」", ["本田が語った。", "試合は来週。"]),
        ("香川真司、移籍先で初ゴール！　監督も絶賛", ["香川が決めた。", "監督は喜んだ。"]),
        ("なでしこジャパン、五輪へ向けて合宿開始", ["合宿が始まった。"]),
    ],
    "it-life-hack": [
        ("新型ノートPCを試す、軽さと電池の持ちは？", ["軽い。", "電池が持つ。", "画面も広い。"]),
        ("【知っ得・虎の巻】表計算の便利ワザ", ["関数を使う。", "時短になる。"]),
        ("無線LANルーターの選び方、速度と価格", ["速度を比べる。", "価格も見る。"]),
    ],
}


@pytest.fixture
def livedoor(tmp_path: Path) -> Path:
    """A livedoor-style corpus: section folders of articles, and their LICENSE.txt."""
    root = tmp_path / "livedoor"
    for section, articles in SECTIONS.items():
        folder = root / section
        folder.mkdir(parents=True)
        (folder / "LICENSE.txt").write_text("license\n", encoding="utf-8")
        for n, (title, paragraphs) in enumerate(articles):
            lines = [f"http://news.example/{section}/{n}", "2012-05-01T10:00:00+0900", title]
            (folder / f"{section}-{n}.txt").write_text("\n".join(lines + paragraphs) + "\n")
    return root


def corpus(livedoor: Path, out: Path, count: int, seed: int = 7, per_file: int = 20) -> list[dict]:
    maker = CorpusMaker(read_livedoor(livedoor), seed)
    paths = write_corpus(maker, count, out, per_file)
    return [json.loads(line) for path in paths for line in path.read_text().splitlines()]


def test_the_corpus_reads_like_news_and_imports(livedoor, tmp_path, home):
    articles = corpus(livedoor, tmp_path / "out", 50)
    assert [p.name for p in sorted((tmp_path / "out").iterdir())] == [
        "articles-00001.jsonl",
        "articles-00002.jsonl",
        "articles-00003.jsonl",
    ]
    assert len(articles) == 50
    assert len({a["url"] for a in articles}) == 50
    sources = {p for _, paragraphs in sum(SECTIONS.values(), []) for p in paragraphs}
    sites = dict(SITES)
    for article in articles:
        assert set(article) == {"title", "body", "url", "published_at", "category", "site"}
        assert set(article["body"].split("\n")) <= sources
        assert len(article["body"].split("\n")) >= 3
        assert "2019" <= article["published_at"][:4] <= "2025"
        assert article["site"].endswith(".example") and article["site"] in sites
        assert article["category"] in {"スポーツ", "IT"}
        # A specialist site carries only its own sections.
        section = article["url"].split("/")[3]
        assert not sites[article["site"]] or section in sites[article["site"]]

    # Six source articles repeat some text exactly; import keeps one of each.
    distinct = len({(a["title"], a["body"]) for a in articles})
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"追加 {distinct}、更新 0、変更なし {50 - distinct}、対象外 0、失敗 0" in result.output


def test_the_same_seed_makes_the_same_corpus_and_a_smaller_one_is_its_start(livedoor, tmp_path):
    fifty = corpus(livedoor, tmp_path / "a", 50)
    assert corpus(livedoor, tmp_path / "b", 50) == fifty
    assert corpus(livedoor, tmp_path / "c", 30, per_file=7) == fifty[:30]
    assert corpus(livedoor, tmp_path / "d", 50, seed=8) != fifty
    # Writing a smaller corpus over a bigger one leaves none of its files behind.
    assert len(corpus(livedoor, tmp_path / "a", 10)) == 10


@pytest.mark.parametrize(
    ("title", "pieces"),
    [
        ("本田圭佑、代表戦へ意欲", ["本田圭佑、", "代表戦へ意欲"]),
        ("【Sports Watch】本田「勝つ、だけ」", ["【Sports Watch】", "本田「勝つ、だけ」"]),
        ("一語のみ", ["一語のみ"]),
    ],
)
def test_headlines_are_cut_after_a_break_outside_quotes(title, pieces):
    cuts = [0, *title_cuts(title), len(title)]
    assert [title[a:b] for a, b in zip(cuts, cuts[1:], strict=False)] == pieces


def test_the_first_articles_of_a_json_lines_corpus(livedoor, tmp_path):
    corpus(livedoor, tmp_path / "out", 50)
    files = first_articles(tmp_path / "out", 45, tmp_path / "scratch")
    assert [t.title for t in read_texts(files)] == [
        t.title for t in list(read_texts(corpus_files(tmp_path / "out")))[:45]
    ]
    livedoor_files = corpus_files(livedoor)
    assert len(livedoor_files) == 6 and all(p.name != "LICENSE.txt" for p in livedoor_files)
    assert first_articles(livedoor, 4, tmp_path / "scratch") == livedoor_files[:4]


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 95, 95),
        (list(range(100, 0, -1)), 95, 95),
        ([7.0], 95, 7.0),
        ([3, 1, 2], 50, 2),
        ([1, 2, 3, 4], 50, 2),
    ],
)
def test_percentile_is_the_nearest_rank(values, p, expected):
    assert percentile(values, p) == expected


def test_percentile_of_nothing_is_nan():
    assert math.isnan(percentile([], 50))


def test_tables_align_japanese_and_numbers():
    lines = table(["query", "ms"], [["日本", 12.345], ["iPhone", 1234.0]]).splitlines()
    assert lines == [
        "| query  |    ms |",
        "| ------ | ----: |",
        "| 日本   |  12.3 |",
        "| iPhone | 1,234 |",
    ]


SCRIPTS = [
    "make_corpus",
    "search_latency",
    "throughput",
    "indexing",
    "growth",
    "costly_queries",
    "export",
    "entities",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_has_help(script):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{script}.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("make_corpus", ["10", "--out", "{tmp}/out", "--source", "{tmp}/nowhere"]),
        ("search_latency", ["--home", "{tmp}/home", "--build-from", "{tmp}/nowhere"]),
        ("throughput", ["--home", "{tmp}/home", "--build-from", "{tmp}/nowhere"]),
        ("costly_queries", ["--home", "{tmp}/home", "--build-from", "{tmp}/nowhere"]),
        ("indexing", ["{tmp}/nowhere", "--home", "{tmp}/home"]),
        ("growth", ["--corpus", "{tmp}/nowhere", "--homes", "{tmp}/homes"]),
        ("entities", ["--corpus", "{tmp}/nowhere"]),
    ],
)
def test_a_missing_corpus_is_a_clear_error(script, args, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{script}.py"), *args],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert f"missing: nothing at {tmp_path}/nowhere" in result.stderr
