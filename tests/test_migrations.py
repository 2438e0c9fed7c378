"""Migrations: new databases are built by them, old archives are adopted and upgraded, never recreated."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    inspect,
    text,
)

from indexer.archive import database_status, upgrade_database
from indexer.cli import cli
from indexer.errors import SchemaMismatch
from indexer.store import revisions as schema
from indexer.store.models import Base

from .conftest import database, make_archive


def old_articles_table(metadata: MetaData, moment=DateTime) -> Table:
    """The articles table as ``Base.metadata.create_all`` made it before there were migrations.

    Its times were ``UTCDateTime`` over a plain ``DateTime``: naive UTC, on
    SQLite (DATETIME, as now) and on PostgreSQL (timestamp without time zone).
    """
    return Table(
        "articles",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("title", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("url", String(2048), unique=True),
        Column("site", String(255), index=True),
        Column("agency", String(64)),
        Column("author", String(255)),
        Column("credit_sources", JSON, nullable=False),
        Column("captions", JSON, nullable=False),
        Column("published_at", moment, index=True),
        Column("category", String(255), index=True),
        Column("tags", JSON, nullable=False),
        Column("content_hash", String(64), unique=True, nullable=False),
        Column("source_path", Text),
        Column("source_format", String(32)),
        Column("imported_at", moment, nullable=False),
        Column("updated_at", moment, nullable=False),
    )


OLD_ROWS = [
    {
        "id": 3,
        "title": "関西国際空港に新ターミナル",
        "body": "関西国際空港で新しいターミナルの供用が始まった。",
        "url": "https://kansai.example/news/1",
        "site": "kansai.example",
        "credit_sources": ["共同"],
        "captions": ["写真：新ターミナル"],
        "published_at": datetime(2025, 3, 14, 0, 30),  # naive UTC, as stored then
        "tags": ["空港"],
        "content_hash": "a" * 64,
        "imported_at": datetime(2025, 3, 15, 1, 2, 3),
        "updated_at": datetime(2025, 3, 15, 1, 2, 3),
    },
    {
        "id": 7,
        "title": "京都の寺で紅葉が見頃",
        "body": "京都の寺院で紅葉が見頃を迎えた。",
        "url": None,
        "site": None,
        "published_at": None,
        "credit_sources": [],
        "captions": [],
        "tags": [],
        "content_hash": "b" * 64,
        "imported_at": datetime(2025, 11, 20, 8, 0),
        "updated_at": datetime(2025, 11, 20, 8, 0),
    },
]


def make_pre_migration_archive(url: str) -> None:
    engine = create_engine(url)
    metadata = MetaData()
    articles = old_articles_table(metadata)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(articles), OLD_ROWS)
    engine.dispose()


def schema_of(url: str) -> dict:
    """What a database's tables look like, in terms both backends report alike."""
    engine = create_engine(url)
    found = inspect(engine)
    shape = {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)
            ],
            "primary key": found.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
        }
        for table in found.get_table_names()
        if table != "alembic_version"
    }
    engine.dispose()
    return shape


def migrate(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), revision)
    engine.dispose()


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def test_the_newest_revision_is_the_one_the_program_expects():
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    assert scripts.get_current_head() == schema.HEAD
    assert [r.id for r in schema.history()][0] == schema.FIRST_REVISION


def test_a_new_database_is_built_by_the_migrations_as_the_models_describe(databases, tmp_path):
    url = databases.new()
    with make_archive(tmp_path / "home", url) as archive:
        assert archive.article_count() == 0
        with database(archive) as engine, engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    assert revision_of(url) == schema.HEAD


def test_the_first_revision_is_the_schema_archives_had_before_migrations(databases):
    before, first = databases.new(), databases.new()
    # Times as instants: the same DATETIME on SQLite; on PostgreSQL the old
    # naive columns are converted when an old archive is adopted (below).
    engine = create_engine(before)
    metadata = MetaData()
    old_articles_table(metadata, DateTime(timezone=True))
    metadata.create_all(engine)
    engine.dispose()
    migrate(first, schema.FIRST_REVISION)
    assert schema_of(first) == schema_of(before)


def test_an_archive_made_before_migrations_is_adopted_and_upgraded_not_recreated(
    databases, backend, tmp_path
):
    url = databases.new()
    make_pre_migration_archive(url)
    home = tmp_path / "home"
    if backend == "postgresql":
        with pytest.raises(SchemaMismatch, match="python -m indexer db upgrade"):
            make_archive(home, url)
        assert database_status_of(url).pre_migration
        upgrade_database(settings_of(home, url))
    with make_archive(home, url) as archive:
        assert archive.article_count() == 2
        kix = archive.article(3)
        assert kix.title == "関西国際空港に新ターミナル"
        assert kix.published_at == datetime(2025, 3, 14, 0, 30, tzinfo=UTC)
        assert kix.published_at.isoformat() == "2025-03-14T09:30:00+09:00"
        assert kix.imported_at == datetime(2025, 3, 15, 1, 2, 3, tzinfo=UTC)
        assert (kix.credit_sources, kix.captions, kix.tags) == (
            ("共同",),
            ("写真：新ターミナル",),
            ("空港",),
        )
        archive.reindex()
        assert [hit.id for hit in archive.search("紅葉").hits] == [7]
    assert revision_of(url) == schema.HEAD


def test_a_database_at_an_older_revision_is_upgraded_and_keeps_its_articles(
    databases, backend, tmp_path
):
    url = databases.new()
    migrate(url, schema.FIRST_REVISION)
    engine = create_engine(url)
    with engine.begin() as connection:
        rows = [
            {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) else v for k, v in row.items()}
            for row in OLD_ROWS
        ]
        connection.execute(insert(old_articles_table(MetaData(), DateTime(timezone=True))), rows)
    engine.dispose()
    home = tmp_path / "home"
    if backend == "postgresql" and schema.HEAD != schema.FIRST_REVISION:
        with pytest.raises(SchemaMismatch, match="db upgrade"):
            make_archive(home, url)
        result = CliRunner().invoke(cli, ["db", "upgrade"], env=env_of(home, url))
        assert result.exit_code == 0, result.output
        assert f"リビジョン {schema.FIRST_REVISION} → リビジョン {schema.HEAD}" in result.output
    with make_archive(home, url) as archive:
        assert archive.article_count() == 2
        assert archive.article(7).title == "京都の寺で紅葉が見頃"
        assert archive.article(3).published_at == datetime(2025, 3, 14, 0, 30, tzinfo=UTC)
    assert revision_of(url) == schema.HEAD


def test_a_database_from_a_newer_program_is_refused(databases, tmp_path):
    url = databases.new()
    migrate(url, "head")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaMismatch, match="プログラムを更新してください"):
        make_archive(tmp_path / "home", url)


def test_db_commands_show_and_bring_the_revision_up_to_date(databases, tmp_path):
    env = env_of(tmp_path / "home", databases.new())

    def run(*args):
        result = CliRunner().invoke(cli, ["db", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert "空のデータベース" in run("current")
    assert f"リビジョン {schema.HEAD}" in run("upgrade")
    assert f"リビジョン {schema.HEAD}（最新）" in run("current")
    assert "データベースは最新です" in run("upgrade")
    history = run("history").splitlines()
    assert history[0][2:].startswith(schema.FIRST_REVISION)
    assert history[-1].startswith(f"* {schema.HEAD}")


def test_nodes_opening_a_new_postgresql_database_at_once_create_it_once(
    postgres_databases, tmp_path
):
    url = postgres_databases.new()
    errors, archives = [], []

    def open_it(n: int) -> None:
        try:
            archives.append(make_archive(tmp_path / f"node{n}", url))
        except Exception as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=open_it, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for archive in archives:
        archive.close()
    assert errors == []
    assert revision_of(url) == schema.HEAD


def settings_of(home, url):
    from indexer.archive import Settings

    return Settings.from_env({"ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url})


def env_of(home, url) -> dict[str, str]:
    return {"ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url}


def database_status_of(url: str):
    return database_status(settings_of("unused", url))
