"""The articles table, as the archive made it before it had migrations.

An archive made then has exactly this schema and no alembic_version table;
:mod:`indexer.store.revisions` recognises it and stamps it at this revision.

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Times with their time zone: timestamptz on PostgreSQL; on SQLite the
    # same DATETIME as before (naive UTC, see indexer.store.models.UTCDateTime).
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("site", sa.String(length=255), nullable=True),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("author", sa.String(length=255), nullable=True),
        sa.Column("credit_sources", sa.JSON(), nullable=False),
        sa.Column("captions", sa.JSON(), nullable=False),
        sa.Column("published_at", moment, nullable=True),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=True),
        sa.Column("source_format", sa.String(length=32), nullable=True),
        sa.Column("imported_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
        sa.UniqueConstraint("content_hash"),
    )
    op.create_index("ix_articles_category", "articles", ["category"])
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_site", "articles", ["site"])


def downgrade() -> None:
    op.drop_table("articles")
