"""The command line, through click's runner, against a real archive folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from indexer.cli import cli

from .conftest import FIXTURES, ROOT, SAMPLE, SAMPLE_ARTICLES


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_import_search_show_round_trip(home):
    result = run("import", str(SAMPLE), str(FIXTURES / "clo_article.txt"))
    assert f"追加 {SAMPLE_ARTICLES + 1}、更新 0、変更なし 0、対象外 0、失敗 0" in result.output

    found = json.loads(run("search", "--json", "空港").output)
    assert set(found) >= {"query", "total", "page", "hits"}
    assert found["query"] == "空港" and found["total"] == 1 and found["page"] == 1
    [hit] = found["hits"]
    assert set(hit) >= {"id", "title", "url", "site", "published_at", "snippet", "score"}
    assert hit["title"].startswith("関西国際空港")
    assert "<mark>空港</mark>" in hit["snippet"]
    assert hit["published_at"] == "2025-03-14T09:30:00+09:00"

    record = json.loads(run("show", "--json", str(hit["id"])).output)
    assert record["id"] == hit["id"]
    assert record["title"] == hit["title"]
    assert record["body"].startswith("関西国際空港で")
    assert record["source_format"] == "livedoor"

    again = run("import", str(SAMPLE))
    assert f"追加 0、更新 0、変更なし {SAMPLE_ARTICLES}" in again.output


def test_search_pages_and_limits(home):
    run("import", str(SAMPLE))
    first = json.loads(run("search", "--json", "--limit", "2", "観光").output)
    second = json.loads(run("search", "--json", "--limit", "2", "--page", "2", "観光").output)
    assert first["total"] == second["total"] > 2
    assert len(first["hits"]) == 2 and second["page"] == 2
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}


def test_human_search_output_shows_the_query_as_understood(home):
    run("import", str(SAMPLE))
    output = run("search", "関西国際空港").output
    assert "関西 | 国際 | 空港" in output
    assert "関西国際空港の新国際線エリアが完成" in output


def test_import_reports_failures_and_exits_non_zero(home, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "ok", "body": "本文。"}\n{nope\n', encoding="utf-8")
    result = run("import", str(bad), str(tmp_path / "absent.txt"), ok=False)
    assert result.exit_code == 1
    assert "追加 1、" in result.output and "失敗 2" in result.output
    assert f"{bad}:2: JSONとして読めません" in result.output
    assert f"{tmp_path / 'absent.txt'}: ファイルもフォルダーもありません" in result.output


def test_forced_format(home, tmp_path):
    path = tmp_path / "feed.data"
    path.write_text('{"title": "強制", "body": "JSONとして読む。"}\n', encoding="utf-8")
    assert "追加 1、" in run("import", "--format", "jsonl", str(path)).output


def test_reindex_rebuilds_and_search_still_works(home):
    run("import", str(SAMPLE))
    before = json.loads(run("search", "--json", "京都").output)
    result = run("reindex")
    assert f"{SAMPLE_ARTICLES}件の記事を索引にしました" in result.output
    after = json.loads(run("search", "--json", "京都").output)
    assert [h["id"] for h in after["hits"]] == [h["id"] for h in before["hits"]]


def test_analyze_shows_index_tokens_and_query_tokens(home):
    data = json.loads(run("analyze", "--json", "関西国際空港に行った").output)
    assert [(t["text"], t["position"], t["start"], t["end"]) for t in data["index"]] == [
        ("関西国際空港", 0, 0, 6),
        ("関西", 0, 0, 2),
        ("国際", 1, 2, 4),
        ("空港", 2, 4, 6),
        ("行く", 3, 7, 9),
    ]
    assert [t["text"] for t in data["query"]] == ["関西", "国際", "空港", "行く"]
    assert "関西国際空港" in run("analyze", "関西国際空港").output


def test_stats(home):
    run("import", str(SAMPLE))
    data = json.loads(run("stats", "--json").output)
    assert data["articles"] == SAMPLE_ARTICLES
    assert data["index"]["documents"] == SAMPLE_ARTICLES
    assert data["index"]["dictionary"].startswith("sudachidict_core")
    assert data["undated"] == 6
    assert "kinki-times.example" in data["sites"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "の"], "検索できる語がありません"),
        (["search", "--sort", "newest", "--from", "yesterday", "空港"], "日付を読み取れません"),
        (["search", "--to", "2025-01-20" + " " * 200 + "x", "空港"], "日付が長すぎます"),
        (["show", "999"], "ID 999 の記事はありません"),
        (["show", "99999999999999999999"], "ID 99999999999999999999 の記事はありません"),
        (["delete", "99999999999999999999"], "見つからないID: 99999999999999999999"),
    ],
)
def test_errors_are_messages_not_tracebacks(sample_archive, args, message):
    result = run(*args, ok=False)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_search_before_any_import_explains_what_to_do(home):
    result = run("search", "空港", ok=False)
    assert "検索用の索引がまだありません" in result.output


def test_every_command_has_help():
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output
    assert isinstance(cli, click.Group)


def test_python_m_indexer_runs(home):
    result = subprocess.run(
        [sys.executable, "-m", "indexer", "analyze", "空港"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "空港" in result.stdout


def test_reimport_says_what_changed(home, tmp_path):
    from .conftest import write_jsonl

    url = "https://news.example/a/1"
    first = write_jsonl(
        tmp_path / "v1.jsonl", [{"title": "速報", "body": "台風が接近。", "url": url}]
    )
    second = write_jsonl(
        tmp_path / "v2.jsonl",
        [{"title": "速報", "body": "台風が上陸した。", "url": url, "tags": ["台風"]}],
    )
    run("import", str(first))
    result = run("import", str(second))
    assert "追加 0、更新 1、変更なし 0" in result.output
    assert f"[1] {second}: body, tags が変わりました" in result.output


def test_show_with_a_query_marks_what_the_search_marks(home):
    run("import", str(SAMPLE))
    [hit] = [
        h
        for h in json.loads(run("search", "--json", "--limit", "20", "米国").output)["hits"]
        if "<mark>アメリカ</mark>" in h["snippet"]
    ]
    result = CliRunner().invoke(cli, ["show", str(hit["id"]), "--query", "米国"], color=True)
    assert result.exit_code == 0, result.output
    assert click.style("アメリカ", fg="yellow", bold=True) in result.output
    plain = CliRunner().invoke(cli, ["show", str(hit["id"])], color=True).output
    assert click.style("アメリカ", fg="yellow", bold=True) not in plain


def test_verbose_logs_what_the_indexer_does(home):
    result = run("-v", "import", str(SAMPLE))
    assert f"INFO indexer.importing: read 14 files: {SAMPLE_ARTICLES} added" in result.output
    assert (
        f"INFO indexer.engine.generations: indexed {SAMPLE_ARTICLES} articles into gen-"
        in result.output
    )
    assert "INFO" not in run("import", str(SAMPLE)).output


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [("indexer", ["analyze", "空港"], "空港"), ("archive", ["serve", "--help"], "--port")],
)
def test_console_scripts_are_installed(home, script, args, expected):
    path = Path(sys.executable).parent / script
    if not path.exists():
        pytest.skip(f"the project is not installed into {path.parent} (bash scripts/setup.sh)")
    result = subprocess.run([str(path), *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_naming_a_license_file_skips_it_and_says_why(home, tmp_path):
    (tmp_path / "LICENSE.txt").write_text(
        "http://x.example/\n2012-05-15\nCC BY-ND\n本文。\n", "utf-8"
    )
    result = run(
        "import", str(tmp_path / "LICENSE.txt"), str(SAMPLE / "livedoor" / "kix-terminal.txt")
    )
    assert "追加 1、更新 0、変更なし 0、対象外 1、失敗 0" in result.output
    assert "README・LICENSE・CHANGES・COPYING" in result.output
    assert f"  {tmp_path / 'LICENSE.txt'}" in result.output
