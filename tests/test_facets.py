"""Facets and filters: counts right under every combination of filters, checked by brute force."""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from indexer.errors import QueryError

from .conftest import BACKENDS, import_into, make_archive, write_jsonl

# A site is its URL's host.
SITES = ["minato-times.example", "hokkai-daily.example", "setouchi.example", "ABC-News.example"]
CATEGORIES = ["経済", "社会", "科学", None]
TAGS = ["AI", "ＡＩ", "選挙", "台風", "鉄道", "半導体", "Tag, with comma"]
WORDS = ["灯台", "港湾", "漁業"]


def generated_articles(count: int = 60) -> list[dict]:
    """Articles with every mix of site, category, tags and month (some undated)."""
    rng = random.Random(20251128)
    records = []
    for i in range(count):
        words = [w for w in WORDS if rng.random() < 0.5] or [WORDS[0]]
        published = datetime(2024, 1, 1, 12) + timedelta(days=rng.randrange(0, 700))
        record = {
            "title": f"第{i}号の記事 {' '.join(words)}",
            "body": f"記事番号{i}。" + "、".join(words) + "について伝える。" * (1 + i % 3),
            "url": f"https://{rng.choice(SITES)}/{i}",
            "tags": rng.sample(TAGS, rng.randrange(0, 3)),
        }
        if category := rng.choice(CATEGORIES):
            record["category"] = category
        if i % 7:
            record["published_at"] = published.isoformat() + "+09:00"
        records.append(record)
    return records


def fold(value):
    return unicodedata.normalize("NFKC", value or "").casefold().strip()


@pytest.fixture(scope="module", params=BACKENDS)
def facet_archive(request, tmp_path_factory):
    """The generated articles, imported once per module on each backend; tests only read."""
    home = tmp_path_factory.mktemp("facets")
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    url = server.create() if server else None
    archive = make_archive(home, url)
    summary = import_into(archive, write_jsonl(home / "facets.jsonl", generated_articles()))
    assert summary.ok and summary.added == 60, summary
    yield archive
    archive.close()
    if server:
        server.drop(url)


def brute_force(archive, query_word, filters):
    """Results and facet counts computed from the database, article by article."""
    records = [archive.article(i) for i in range(1, 61)]

    def values(name):
        value = filters.get(name)
        return {fold(v) for v in ([value] if isinstance(value, str) else value or [])}

    def passes(record, but=None):
        if query_word and query_word not in record.title + record.body:
            return False
        for name in ("site", "category", "tag"):
            own = {fold(t) for t in record.tags} if name == "tag" else {fold(getattr(record, name))}
            chosen, left_out = values(name), values(f"not_{name}")
            if name != but and ((chosen and not own & chosen) or own & left_out):
                return False
        if but != "date":
            if filters.get("undated") and record.published_at is not None:
                return False
            if "from" in filters or "to" in filters:
                if record.published_at is None or not (
                    (filters.get("from") or date.min)
                    <= record.published_at.date()
                    <= (filters.get("to") or date.max)
                ):
                    return False
        return True

    results = {r.id for r in records if passes(r)}
    counts = {
        "site": Counter(fold(r.site) for r in records if passes(r, "site")),
        "category": Counter(
            fold(r.category) for r in records if passes(r, "category") and r.category
        ),
        "tag": Counter(
            fold(t) for r in records if passes(r, "tag") for t in set(map(fold, r.tags))
        ),
        "month": Counter(
            r.published_at.strftime("%Y-%m")
            for r in records
            if passes(r, "date") and r.published_at
        ),
    }
    # Counted like the months, without the date filter: what 日付なし would find.
    counts["undated"] = sum(1 for r in records if passes(r, "date") and r.published_at is None)
    return results, counts


FILTER_CASES = [
    ("", {"site": "minato-times.example"}),
    ("", {"tag": "ai"}),
    ("", {"category": "経済", "tag": "台風"}),
    ("灯台", {}),
    ("灯台", {"site": "abc-news.EXAMPLE"}),
    ("灯台", {"site": "hokkai-daily.example", "category": "社会"}),
    ("港湾", {"tag": "選挙", "from": date(2024, 3, 1), "to": date(2024, 12, 31)}),
    (
        "漁業",
        {"site": "setouchi.example", "category": "科学", "tag": "鉄道", "from": date(2024, 6, 1)},
    ),
    ("灯台", {"tag": "Tag, with comma"}),
    ("", {"from": date(2025, 2, 1), "to": date(2025, 2, 28)}),
    ("灯台", {"site": "どこにもないサイト"}),
    # Several values of one facet: any of them.
    ("", {"site": ["minato-times.example", "setouchi.example"]}),
    ("灯台", {"tag": ["AI", "鉄道"], "category": "経済"}),
    ("", {"category": ["経済", "科学"], "from": date(2024, 6, 1)}),
    # Values left out (a facet's 除く), alone and beside chosen ones.
    ("", {"not_site": ["minato-times.example"]}),
    ("港湾", {"site": ["hokkai-daily.example", "setouchi.example"], "not_tag": ["選挙"]}),
    ("", {"not_category": ["経済", "社会"], "not_tag": ["ＡＩ"]}),
    ("灯台", {"tag": "鉄道", "not_tag": ["台風"]}),
    # The articles without a date (and none when a range is asked for too).
    ("", {"undated": True}),
    ("灯台", {"undated": True, "site": "setouchi.example"}),
    ("", {"undated": True, "from": date(2024, 1, 1)}),
]


@pytest.mark.parametrize(("word", "filters"), FILTER_CASES)
def test_facet_counts_match_counting_by_hand(facet_archive, word, filters):
    expected_ids, expected_counts = brute_force(facet_archive, word, filters)
    page = facet_archive.search(
        word,
        page_size=100,
        sort="newest",
        site=filters.get("site"),
        category=filters.get("category"),
        tag=filters.get("tag"),
        date_from=filters.get("from"),
        date_to=filters.get("to"),
        exclude={
            n: filters[f"not_{n}"] for n in ("site", "category", "tag") if f"not_{n}" in filters
        },
        undated=filters.get("undated", False),
        facet_limit=100,
    )
    assert {hit.id for hit in page.hits} == expected_ids
    assert page.total == len(expected_ids)
    for name in ("site", "category", "tag", "month"):
        found = {fold(v.value): v.count for v in getattr(page.facets, name)}
        assert found == dict(expected_counts[name]), name
    for name in ("site", "category", "tag"):
        chosen = {fold(v) for v in page.filters.chosen(name)}
        left_out = {fold(v) for v in filters.get(f"not_{name}", [])}
        shown = getattr(page.facets, name)
        assert {fold(v.value) for v in shown if v.active} == chosen & set(expected_counts[name])
        assert {fold(v.value) for v in shown if v.excluded} == left_out & set(expected_counts[name])
    assert page.facets.undated == expected_counts["undated"]


def test_the_top_values_come_first_and_the_chosen_one_always_shows(facet_archive):
    page = facet_archive.search("", tag="鉄道", facet_limit=2)
    assert len(page.facets.tag) == 2 or page.facets.tag[-1].active
    counts = [v.count for v in page.facets.site]
    assert counts == sorted(counts, reverse=True)
    chosen = [v for v in page.facets.tag if v.active]
    assert [fold(v.value) for v in chosen] == ["鉄道"]
    months = [v.value for v in page.facets.month]
    assert months == sorted(months)


def test_a_tag_keeps_its_own_spelling_and_folds_width_and_case(facet_archive):
    page = facet_archive.search("", tag="ａｉ", facet_limit=100)
    [ai] = [v for v in page.facets.tag if fold(v.value) == "ai"]
    assert ai.active and ai.value in ("AI", "ＡＩ")
    assert page.total == ai.count


def test_an_empty_query_without_filters_is_still_an_error_but_browse_lists_everything(
    facet_archive,
):
    with pytest.raises(QueryError, match="検索語を入力してください"):
        facet_archive.search("")
    listing = facet_archive.browse(page_size=5)
    assert listing.total == 60
    dates = [hit.published_at for hit in listing.hits]
    assert dates == sorted(dates, reverse=True)
    assert sum(v.count for v in listing.facets.month) + listing.facets.undated == 60
