"""Export to JSON Lines and back, and deleting articles."""

from __future__ import annotations

import json

from click.testing import CliRunner

from indexer.cli import cli
from indexer.store.articles import CONTENT_FIELDS, article_record, iter_articles

from .conftest import FIXTURES, SAMPLE, SAMPLE_ARTICLES, import_into, make_archive, session_of


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def content(archive) -> dict[str, dict]:
    """Every article's exported fields, keyed by its text's hash."""
    with session_of(archive) as session:
        return {
            a.content_hash: {k: article_record(a)[k] for k in CONTENT_FIELDS}
            for a in iter_articles(session)
        }


def test_export_then_import_keeps_every_field(home, database_url, tmp_path):
    run("import", str(SAMPLE), str(FIXTURES / "clo_article.txt"))
    exported = tmp_path / "archive.jsonl"
    run("export", "--output", str(exported))
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert len(lines) == SAMPLE_ARTICLES + 1
    assert set(json.loads(lines[0])) == set(CONTENT_FIELDS)

    other = make_archive(tmp_path / "other")
    summary = import_into(other, exported)
    assert summary.ok and summary.added == SAMPLE_ARTICLES + 1
    with make_archive(home, database_url) as archive:
        original = content(archive)
    copy = content(other)
    assert copy == original
    clo = next(v for v in copy.values() if v["site"] == "congluan.vn")
    assert clo["credit_sources"] == ["SCMP", "ロイター", "NYT"]
    assert clo["published_at"] is None


def test_export_of_a_query_writes_only_its_results(home, tmp_path):
    run("import", str(SAMPLE))
    out = tmp_path / "kyoto.jsonl"
    run("export", "京都", "-o", str(out))
    titles = [json.loads(line)["title"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert titles[0].startswith("京都の寺院で紅葉")
    assert len(titles) == 1  # the other two hold 京都 only inside 東京都


def test_reimporting_an_export_changes_nothing(home, tmp_path):
    run("import", str(SAMPLE))
    out = tmp_path / "all.jsonl"
    run("export", "-o", str(out))
    result = run("import", str(out))
    assert f"追加 0、更新 0、変更なし {SAMPLE_ARTICLES}" in result.output


def test_delete_removes_from_database_and_index(home):
    run("import", str(SAMPLE))
    hit = json.loads(run("search", "--json", "関西国際空港").output)["hits"][0]
    result = run("delete", str(hit["id"]), "99999", ok=False)
    assert result.exit_code == 1
    assert "1件の記事を削除しました" in result.output and "見つからないID: 99999" in result.output
    after = json.loads(run("search", "--json", "関西国際空港").output)
    assert hit["id"] not in [h["id"] for h in after["hits"]]
    assert "の記事はありません" in run("show", str(hit["id"]), ok=False).output
    assert json.loads(run("stats", "--json").output)["index"]["documents"] == SAMPLE_ARTICLES - 1
