"""copy-db: an archive moves SQLite → PostgreSQL → SQLite with every field, id and change kept."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from indexer.cli import cli
from indexer.store.articles import ArticleRecord, iter_articles
from indexer.store.models import Change

from .conftest import (
    FIXTURES,
    SAMPLE,
    SAMPLE_ARTICLES,
    import_into,
    make_archive,
    session_of,
    write_jsonl,
)

EXTRA = [
    {
        "title": "𠮷野家の値上げ ｶﾀｶﾅ ①",
        "body": "髙橋さんは﨑陽軒へ。🍜\n二行目。",
        "url": "https://news.例え.jp/記事/1",
        "published_at": "2025-01-20T09:05:07.123456+09:00",
        "tags": ["外食", "AI"],
        "captions": ["写真：店舗"],
        "author": "渡邊",
    }
]


def everything(archive) -> tuple[list[ArticleRecord], list[tuple]]:
    with session_of(archive) as session:
        records = [ArticleRecord.of(a) for a in iter_articles(session)]
        log = [
            (c.seq, c.article_id, c.kind, c.changed_at)
            for c in session.scalars(select(Change).order_by(Change.seq))
        ]
    return records, log


def copy_db(home, source_url: str | None, *args: str, ok: bool = True):
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": source_url or ""}
    result = CliRunner().invoke(cli, ["copy-db", *args], env=env)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_an_archive_moves_to_postgresql_and_back_with_every_field(postgres_databases, tmp_path):
    home = tmp_path / "home"
    with make_archive(home) as original:
        import_into(original, SAMPLE, FIXTURES / "clo_article.txt")
        import_into(original, write_jsonl(tmp_path / "extra.jsonl", EXTRA))
        original.delete([2, 5])
        before = everything(original)
    # The sample, two more, two deleted; a change for each insert and delete.
    articles, changes = SAMPLE_ARTICLES, SAMPLE_ARTICLES + 4
    assert len(before[0]) == articles and len(before[1]) == changes

    postgres = postgres_databases.new()
    output = copy_db(home, None, "--to", postgres).output
    assert f"記事 {articles}件と変更履歴 {changes}件を" in output
    assert "ARCHIVE_DATABASE_URL=" in output and "python -m indexer reindex" in output
    back = f"sqlite:///{tmp_path / 'back.db'}"
    copy_db(home, postgres, "--to", back)

    for url in (postgres, back):
        with make_archive(home, url) as copy:
            assert everything(copy) == before
            # The index built on SQLite stays right: same ids, same change numbers.
            assert copy.follow().changes == 0
            assert copy.search("関西国際空港").hits[0].title.startswith("関西国際空港")
            # New rows continue after the copied ones.
            import_into(
                copy,
                write_jsonl(
                    tmp_path / f"new-{url[:5]}.jsonl", [{"title": "新着", "body": "灯台の話。"}]
                ),
            )
            records, log = everything(copy)
            new_id = SAMPLE_ARTICLES + 3  # after the sample, two more and the two deleted
            assert records[-1].id == new_id and records[-1].title == "新着"
            assert log[-1][:3] == (changes + 1, new_id, "insert")
    japanese = next(r for r in before[0] if r.author == "渡邊")
    assert japanese.published_at.isoformat() == "2025-01-20T09:05:07.123456+09:00"


def test_copy_db_refuses_a_target_with_articles_unless_forced(databases, tmp_path):
    source_home, target_home = tmp_path / "source", tmp_path / "target"
    source_url, target_url = databases.new(), databases.new()
    with make_archive(source_home, source_url) as source:
        import_into(source, SAMPLE)
    with make_archive(target_home, target_url) as target:
        import_into(
            target, write_jsonl(tmp_path / "other.jsonl", [{"title": "別", "body": "別の記事。"}])
        )
    refused = copy_db(source_home, source_url, "--to", target_url, ok=False)
    assert refused.exit_code == 1
    assert "コピー先のデータベースは空ではありません（記事 1件）" in refused.output
    assert "--force" in refused.output
    copy_db(source_home, source_url, "--to", target_url, "--force")
    with (
        make_archive(source_home, source_url) as source,
        make_archive(target_home, target_url) as target,
    ):
        assert everything(target) == everything(source)
    same = copy_db(source_home, source_url, "--to", source_url, ok=False)
    assert "コピー元とコピー先が同じデータベースです" in same.output
