"""One story once: near-identical articles grouped at import, and kept grouped as they change."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from indexer.readers.drafts import ArticleDraft
from indexer.store import revisions as schema
from indexer.store import stories
from indexer.store.articles import save_article
from indexer.store.models import Article, Sketch
from indexer.store.resemblance import jaccard, shingles

from .conftest import database, import_into, make_archive, session_of, write_jsonl

LEAD = (
    "政府は20日、大型の台風10号が週末にかけて西日本に接近する見通しだとして、関係閣僚会議を開いた。"
    "首相は住民の早めの避難を呼びかけ、自治体に避難所の開設を急ぐよう指示した。"
)
MIDDLE = (
    "気象庁によると、台風は非常に強い勢力を保ったまま北上しており、九州南部では24時間の雨量が"
    "500ミリを超えるおそれがある。交通機関は計画運休を検討している。"
)
TAIL_A = "港では漁船を陸に引き上げる作業が朝から続いた。"
TAIL_C = "空の便は午後から欠航が相次ぐ見込みだ。"
MOMENT = datetime(2025, 8, 20, 3, 0, tzinfo=UTC)
OTHER = "京都の寺院で紅葉が見頃を迎え、朝から多くの人が訪れた。境内は色づいたカエデで赤く染まった。"


def copy(site: str, body: str, title: str = "台風10号が接近") -> dict:
    return {"title": title, "body": body, "url": f"https://{site}/typhoon"}


WIRE = [
    copy("a.example", LEAD + MIDDLE + "（共同）"),
    copy("b.example", "【共同】" + LEAD + MIDDLE, "台風10号、週末に西日本へ"),
    copy("c.example", LEAD + MIDDLE.replace("検討している", "検討中だ") + "（共同）"),
    {"title": "紅葉が見頃", "body": OTHER, "url": "https://d.example/koyo"},
]


@pytest.fixture
def wire(archive, tmp_path):
    summary = import_into(archive, write_jsonl(tmp_path / "wire.jsonl", WIRE))
    assert summary.ok and summary.added == 4, summary
    return archive


def shown(archive, query: str = "台風 OR 紅葉") -> dict[str, list[str]]:
    """The grouped results as a reader sees them: each result's site and its copies' sites."""
    page = archive.search(query, group=True, sort="oldest")
    return {hit.site: sorted(c.site for c in hit.copies) for hit in page.hits}


def test_copies_of_one_story_are_one_result_and_totals_say_what_they_count(wire):
    assert shown(wire) == {"a.example": ["b.example", "c.example"], "d.example": []}
    page = wire.search("台風 OR 紅葉", group=True)
    assert (page.total, page.results, page.stories, page.pages) == (4, 2, 2, 1)
    [typhoon] = [h for h in page.hits if h.copies]
    assert typhoon.copy_count == 2
    ungrouped = wire.search("台風 OR 紅葉")
    assert (ungrouped.total, ungrouped.results, len(ungrouped.hits)) == (4, 4, 4)
    # The facets count articles: every copy is on its own site.
    assert {v.value: v.count for v in page.facets.site} == {
        "a.example": 1,
        "b.example": 1,
        "c.example": 1,
        "d.example": 1,
    }
    first = wire.search("台風", group=True).hits[0]
    assert {r.site for r in wire.story(first.id)} == {"a.example", "b.example", "c.example"} - {
        first.site
    }


def test_the_best_placed_copy_is_shown_and_pages_count_stories(wire, tmp_path):
    more = [
        {
            "title": f"別の話題{i}",
            "body": f"台風の備えについて{i}回目の解説。" + "備蓄を見直す。" * i,
        }
        for i in range(1, 13)
    ]
    import_into(wire, write_jsonl(tmp_path / "more.jsonl", more))
    everything = wire.search("台風", group=True, page_size=100)
    assert everything.results == 13 and everything.total == 15
    seen: list[int] = []
    for page in range(1, 4):
        result = wire.search("台風", group=True, page_size=5, page=page)
        assert result.pages == 3
        seen.extend(hit.id for hit in result.hits)
    assert seen == [hit.id for hit in everything.hits]
    newest = wire.search("台風", group=True, sort="newest", page_size=100)
    for hit in newest.hits:  # the copy shown is the newest of its story
        assert all(hit.published_at is None or c.published_at is None for c in hit.copies)


def test_a_copy_updated_to_differ_leaves_its_story(wire, tmp_path):
    changed = [copy("b.example", OTHER.replace("京都", "奈良") + "鹿も多かった。", "奈良の紅葉")]
    summary = import_into(wire, write_jsonl(tmp_path / "changed.jsonl", changed))
    assert summary.updated == 1, summary
    assert shown(wire) == {"a.example": ["c.example"], "b.example": [], "d.example": []}


def test_deleting_copies_keeps_the_rest_of_the_story_together(wire):
    first = wire.search("台風", group=True, sort="oldest").hits[0]
    assert first.site == "a.example"
    assert wire.delete([first.id]) == [first.id]
    assert shown(wire) == {"b.example": ["c.example"], "d.example": []}
    [b] = [h for h in wire.search("台風").hits if h.site == "b.example"]
    assert wire.delete([b.id]) == [b.id]
    assert shown(wire) == {"c.example": [], "d.example": []}
    [c] = wire.search("台風").hits
    assert wire.article(c.id).story_id is None  # alone again


def test_a_story_held_together_by_one_copy_splits_when_it_goes(archive, tmp_path):
    middle = LEAD + MIDDLE
    ends = (middle + TAIL_A * 3, middle + TAIL_C * 3)
    alike = [jaccard(shingles(middle), shingles(end)) for end in ends]
    assert min(alike) >= stories.STORY_SIMILARITY > jaccard(*(shingles(e) for e in ends))
    records = [copy("a.example", ends[0]), copy("b.example", middle), copy("c.example", ends[1])]
    import_into(archive, write_jsonl(tmp_path / "chain.jsonl", records))
    assert shown(archive, "台風") == {"a.example": ["b.example", "c.example"]}
    [bridge] = [h for h in archive.search("台風").hits if h.site == "b.example"]
    archive.delete([bridge.id])
    assert shown(archive, "台風") == {"a.example": [], "c.example": []}


def test_each_import_compares_an_article_with_its_sketch_neighbours_only(archive, tmp_path):
    """Sketches in the database: one indexed query finds the candidates, not a scan of all."""
    import_into(archive, write_jsonl(tmp_path / "wire.jsonl", WIRE))
    with session_of(archive) as session:
        values = session.scalar(select(func.count()).select_from(Sketch))
        assert values == sum(len(stories.sketch(shingles(r["body"]))) for r in WIRE)
        ids = session.scalars(select(Article.id).order_by(Article.id)).all()
        labels = session.scalars(select(Article.story_id).order_by(Article.id)).all()
    # The first copy stands for the story; the others carry its id.
    assert labels == [None, ids[0], ids[0], None]


def test_two_writers_storing_copies_at_once_are_grouped_once_both_committed(
    postgres_databases, tmp_path
):
    url = postgres_databases.new()
    with make_archive(tmp_path / "home", url) as archive, database(archive) as engine:
        first, second = Session(engine), Session(engine)
        first.begin()
        second.begin()
        a = save_article(first, ArticleDraft(title="台風", body=WIRE[0]["body"], url="https://a/"))
        b = save_article(second, ArticleDraft(title="台風", body=WIRE[1]["body"], url="https://b/"))
        ids = [a.article.id, b.article.id]
        first.commit()
        second.commit()
        first.close()
        second.close()
        # Neither saw the other's uncommitted copy ...
        assert [archive.article(i).story_id for i in ids] == [None, None]
        # ... and the import's recheck, after its commit, groups them.
        stories.recheck(engine, ids[::-1])
        stories.recheck(engine, ids)
        # (the first article carries its story's id too, once it has a copy)
        assert [archive.article(i).story_id for i in ids] == [min(ids)] * 2
        archive.follow()
        assert archive.search("台風", group=True).results == 1


def test_the_migration_groups_an_existing_archive(databases, tmp_path):
    url = databases.new()
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), "0002")
        rows = [
            {
                "id": i + 1,
                "title": record["title"],
                "body": record["body"],
                "url": record["url"],
                "credit_sources": [],
                "captions": [],
                "tags": [],
                "content_hash": f"{i:064d}",
                "imported_at": MOMENT,
                "updated_at": MOMENT,
            }
            for i, record in enumerate(WIRE)
        ]
        connection.execute(insert(_old_articles()), rows)
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), "head")
        labels = connection.execute(text("SELECT id, story_id FROM articles ORDER BY id")).all()
        sketched = connection.scalar(text("SELECT count(DISTINCT article_id) FROM sketches"))
    engine.dispose()
    assert [label for _, label in labels] == [1, 1, 1, None]
    assert sketched == 4
    with make_archive(tmp_path / "home", url) as archive:
        archive.reindex()
        assert archive.search("台風", group=True).results == 1
        assert archive.search("台風", group=True).hits[0].copy_count == 2


def _old_articles():
    """The articles table as revision 0002 has it (no story_id yet)."""
    from sqlalchemy import table

    columns = [c for c in Article.__table__.columns if c.name != "story_id"]
    return table("articles", *(c._copy() for c in columns))


def test_every_pair_alike_enough_to_be_one_story_is_a_candidate():
    """The sketch filter that spares full comparisons misses no copy (2,000 edited texts)."""
    rng = random.Random(20261129)
    pool = LEAD + MIDDLE + TAIL_A + TAIL_C + OTHER
    near = 0
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(20, 400)))
        edited = list(text)
        for _ in range(rng.randint(0, len(text) // 15)):
            edited[rng.randrange(len(edited))] = rng.choice(pool)
        first, second = shingles(text), shingles("".join(edited))
        if not first or jaccard(first, second) < stories.STORY_SIMILARITY:
            continue
        near += 1
        values = stories.sketch(first)
        shared = len(set(values) & set(stories.sketch(second)))
        assert shared >= stories.shared_needed(len(values)), (len(text), shared)
    assert near > 300  # enough pairs at the threshold to mean something
