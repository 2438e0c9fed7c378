"""Near-identical wire copies are listed; different stories are not."""

from __future__ import annotations

import json

from click.testing import CliRunner

from indexer.cli import cli
from indexer.store.resemblance import near_duplicates

from .conftest import write_jsonl

STORY = (
    "政府は20日、大型の台風10号が週末にかけて西日本に接近する見通しだとして、関係閣僚会議を開いた。"
    "首相は住民の早めの避難を呼びかけ、自治体に避難所の開設を急ぐよう指示した。"
    "気象庁によると、台風は非常に強い勢力を保ったまま北上しており、九州南部では24時間の雨量が"
    "500ミリを超えるおそれがある。交通機関は計画運休を検討している。"
)


def test_wire_copies_are_paired_and_other_stories_are_not():
    articles = [
        (1, STORY + "（共同）"),
        (2, "【速報】" + STORY + "写真：気象庁"),
        (3, STORY.replace("関係閣僚会議を開いた", "関係閣僚会議を首相官邸で開いた")),
        (4, "京都の寺院で紅葉が見頃を迎え、朝から多くの観光客が訪れた。" * 3),
    ]
    pairs = near_duplicates(articles, threshold=0.8)
    assert {(p.first, p.second) for p in pairs} == {(1, 2), (1, 3), (2, 3)}
    assert all(0.8 <= p.similarity <= 1.0 for p in pairs)


def test_duplicates_command(home, tmp_path):
    records = [
        {"title": "台風が接近", "body": STORY, "url": "https://a.example/1"},
        {"title": "台風10号接近", "body": STORY + "（共同）", "url": "https://b.example/2"},
        {"title": "紅葉が見頃", "body": "京都の寺院で紅葉が見頃を迎えた。" * 5},
    ]
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["import", str(write_jsonl(tmp_path / "w.jsonl", records))]).exit_code
        == 0
    )
    result = runner.invoke(cli, ["duplicates", "--json"])
    assert result.exit_code == 0, result.output
    [pair] = json.loads(result.output)
    assert pair["ids"] == [1, 2] and pair["similarity"] > 0.9
    text = runner.invoke(cli, ["duplicates"]).output
    assert "1組" in text and "台風10号接近" in text and "b.example" in text
