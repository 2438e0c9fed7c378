"""Entities: the people, organisations and places each article names.

A JSON column on the articles (``{"person": [...], "org": [...], "place":
[...]}``), worked out from Sudachi's parts of speech
(:mod:`indexer.analysis.entities`).  The archive's existing articles are
read here, in batches, so that every article has its entities once the
database is upgraded; the index holds them as facets once rebuilt (a new
schema version asks for ``python -m indexer reindex``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from indexer.analysis import extract_entities

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 200


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("entities", sa.JSON(), nullable=True))
    _extract_existing(op.get_bind())


def _extract_existing(connection: sa.Connection) -> None:
    articles = sa.table(
        "articles",
        sa.column("id"),
        sa.column("title"),
        sa.column("body"),
        sa.column("entities", sa.JSON()),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.body)
            .where(articles.c.id > last)
            .order_by(articles.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for article_id, title, body in rows:
            connection.execute(
                sa.update(articles)
                .where(articles.c.id == article_id)
                .values(entities=extract_entities(title or "", body or ""))
            )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("entities")
