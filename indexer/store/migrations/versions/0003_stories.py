"""Stories: each article's bottom-k sketch (indexed by value) and the story it belongs to.

Near-identical articles (one wire story on several sites) share a story
(``articles.story_id``, the smallest id among them); ``sketches`` lets an
import find an article's possible copies without comparing it with every
article (see ``indexer.store.stories``).  The archive's existing articles are
sketched and grouped here, in batches: candidate pairs come from the
sketches by one query (values shared by more than ``MAX_POSTING`` articles
are boilerplate and left out), and only those pairs are compared in full.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from indexer.store.resemblance import MAX_POSTING, MIN_SHARED, jaccard, shingles
from indexer.store.stories import STORY_SIMILARITY, components, sketch

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch.create_index("ix_articles_story_id", ["story_id"])
    op.create_table(
        "sketches",
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("value", "article_id"),
    )
    op.create_index("ix_sketches_article_id", "sketches", ["article_id"])
    _group_existing(op.get_bind())


def _group_existing(connection: sa.Connection) -> None:
    articles = sa.table("articles", sa.column("id"), sa.column("body"), sa.column("story_id"))
    sketches = sa.table("sketches", sa.column("value"), sa.column("article_id"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.body)
            .where(articles.c.id > last)
            .order_by(articles.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = [
            {"value": v, "article_id": article_id}
            for article_id, body in rows
            for v in sketch(shingles(body))
        ]
        if values:
            connection.execute(sa.insert(sketches), values)
        last = rows[-1][0]
    a, b = sketches.alias("a"), sketches.alias("b")
    common = (
        sa.select(sketches.c.value)
        .group_by(sketches.c.value)
        .having(sa.func.count() > MAX_POSTING)
        .scalar_subquery()
    )
    pairs = connection.execute(
        sa.select(a.c.article_id, b.c.article_id)
        .join(b, sa.and_(a.c.value == b.c.value, a.c.article_id < b.c.article_id))
        .where(a.c.value.not_in(common))
        .group_by(a.c.article_id, b.c.article_id)
        .having(sa.func.count() >= MIN_SHARED)
    ).all()
    texts: dict[int, set[int]] = {}

    def text_of(article_id: int) -> set[int]:
        if article_id not in texts:
            body = connection.scalar(sa.select(articles.c.body).where(articles.c.id == article_id))
            texts[article_id] = shingles(body or "")
        return texts[article_id]

    edges = [(x, y) for x, y in pairs if jaccard(text_of(x), text_of(y)) >= STORY_SIMILARITY]
    members = {m for edge in edges for m in edge}
    for group in components(edges, members):
        connection.execute(
            sa.update(articles).where(articles.c.id.in_(group)).values(story_id=min(group))
        )


def downgrade() -> None:
    op.drop_index("ix_sketches_article_id", table_name="sketches")
    op.drop_table("sketches")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_story_id")
        batch.drop_column("story_id")
