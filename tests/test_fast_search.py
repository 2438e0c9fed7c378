"""The array search path against Whoosh's own search of the same query trees.

``indexer.engine.matching`` answers the queries the planner builds without
Whoosh's matchers, counts every match exactly, computes ranking bonuses only
for what can reach the page, and marks words from the offsets the index
keeps.  Whoosh's searcher, asked for every result (no early termination),
is the reference: the same articles, in the same order, with the same scores
and the same marked words.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta

import pytest
from whoosh import query as wq
from whoosh import sorting
from whoosh.matching.binary import DisjunctionMaxMatcher

from indexer.analysis import morphemes
from indexer.engine import matching
from indexer.readers.dates import TOKYO
from indexer.search.ranking import WEIGHTING

from .conftest import LIVEDOOR, index_store, make_archive, needs_livedoor, plan_of, write_jsonl

SAMPLE_QUERIES = [
    "空港",
    "関西国際空港",
    "京都",
    "東京都",
    "観光 紅葉",
    "観光 OR 空港",
    "観光 -京都",
    '"国際 空港"',
    "title:空港",
    "米国",
    "サーバ",
    "者",
    "人",
    "台風 九州 被害",
    "新しい推論モデルを公開したのはどこの企業ですか？",
    "滑走路 紅葉 展望室",
    "site:kinki-times.example",
    "site:kinki-times.example 紅葉",
    "観光 -site:kinki-times.example",
]


def _dismax_score(self):
    """Whoosh's DisjunctionMaxMatcher.score, corrected: the best of the branches *on this
    document*.  Whoosh 2.7.5 takes the max of both branches' current scores even when
    they stand on different documents, giving a document the other branch's score."""
    a, b = self.a, self.b
    if not a.is_active() or (b.is_active() and b.id() < a.id()):
        return b.score()
    if not b.is_active() or a.id() < b.id():
        return a.score()
    return max(a.score(), b.score())


@pytest.fixture(autouse=True)
def whoosh_dismax_fixed(monkeypatch):
    monkeypatch.setattr(DisjunctionMaxMatcher, "score", _dismax_score)


def reference(archive, text, sort="relevance", date_from=None, date_to=None):
    """Whoosh's own answer for the plan of ``text``: (article id, score) in result order."""
    plan = plan_of(archive, text)
    masks = [plan.exclude] if plan.exclude is not None else []
    main = plan.strict if plan.strict is not None else wq.Every()
    scored = wq.AndMaybe(main, plan.bonus) if plan.bonus is not None else main
    sortedby = None
    if sort != "relevance":
        sortedby = sorting.MultiFacet(
            [
                sorting.FieldFacet("undated"),
                sorting.FieldFacet("time_key", reverse=sort == "newest"),
            ]
        )
    with index_store(archive).open().searcher(weighting=WEIGHTING) as searcher:
        allowed = filtered(searcher, plan.filters)
        if (dates := date_filter(date_from, date_to)) is not None:
            # Dates are columns, not terms: Whoosh filters by the set of documents in range.
            in_range = {d for d in range(searcher.doc_count_all()) if in_dates(searcher, dates, d)}
            allowed = in_range if allowed is None else allowed & in_range
        options = {
            "limit": None,
            "filter": allowed,
            "mask": wq.Or(masks) if masks else None,
            "sortedby": sortedby,
        }
        results = searcher.search(scored, **options)
        literal = set(searcher.docs_for_query(plan.literal)) if plan.literal is not None else None
        if plan.partial is not None and (
            results.is_empty()
            or (literal is not None and plan.several and not literal & set(results.docs()))
        ):
            results = searcher.search(plan.partial, **options)
            return [(int(hit["id"]), hit.score) for hit in results]
        answer = [(int(hit["id"]), hit.score, hit.docnum) for hit in results]
        if literal is not None and sort == "relevance":
            # Articles holding every typed word come first, each tier by score.
            answer.sort(key=lambda hit: hit[2] not in literal)
        return [(article, score) for article, score, _ in answer]


def filtered(searcher, filters) -> set[int] | None:
    """The documents ``site:``, ``category:`` and ``tag:`` filters keep, read off stored fields.

    Values compare folded (width and case), and a site keeps its subdomains.
    """
    if not filters:
        return None

    def fold(value):
        return unicodedata.normalize("NFKC", value or "").casefold().strip()

    def keeps(f, stored) -> bool:
        if f.field == "site":
            site, wanted = fold(stored.get("site")), fold(f.value).removeprefix("www.")
            # Any suffix of the host but its last label alone (site:example.jp, not site:jp).
            return site == wanted or ("." in wanted and site.endswith("." + wanted))
        if f.field == "category":
            return fold(stored.get("category")) == fold(f.value)
        return fold(f.value) in {fold(t) for t in stored.get("tag_list") or ()}

    reader = searcher.reader()
    return {
        d for d, stored in reader.iter_docs() if all(keeps(f, stored) != f.negated for f in filters)
    }


def date_filter(date_from: date | None, date_to: date | None) -> wq.Query | None:
    """Whoosh's query for the days from ``date_from`` to ``date_to`` (Tokyo), undated outside."""
    if date_from is None and date_to is None:
        return None

    def start(day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=TOKYO).timestamp())

    first = start(date_from) if date_from else None
    last = start(date_to + timedelta(days=1)) - 1 if date_to else None
    return wq.And([wq.NumericRange("time_key", first, last), wq.NumericRange("undated", 0, 0)])


def in_dates(searcher, dates: wq.And, docnum: int) -> bool:
    """Whether a document's date columns satisfy the ranges of a date filter."""
    for part in dates.subqueries:
        value = searcher.reader().column_reader(part.fieldname)[docnum]
        if (part.start is not None and value < part.start) or (
            part.end is not None and value > part.end
        ):
            return False
    return True


def assert_same_ranking(found: list[tuple[int, float | None]], expected, relevance=True):
    """The same ids in the same order; among equal scores (rounding aside) any order."""
    assert len(found) == len(expected), (found[:5], expected[:5])
    if not relevance:
        assert [i for i, _ in found] == [i for i, _ in expected]
        return
    for (got_id, got), (want_id, want) in zip(found, expected, strict=True):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (got_id, want_id)
    groups: dict[float, set[int]] = {}
    for (got_id, _), (want_id, want) in zip(found, expected, strict=True):
        key = round(want, 6)
        groups.setdefault(key, set()).add(got_id)
        groups[key].add(-want_id - 1)
    for members in groups.values():
        assert {i for i in members if i >= 0} == {-i - 1 for i in members if i < 0}


def fast(archive, text, page_size=100, pages=1, **options):
    """Every result of the array path, a page at a time, and the total it reported."""
    found: list[tuple[int, float | None]] = []
    total = None
    for page in range(1, pages + 1):
        result = archive.search(text, page=page, page_size=page_size, **options)
        total = result.total
        found.extend((hit.id, hit.score) for hit in result.hits)
    return found, total


def check(archive, text, **options):
    expected = reference(archive, text, **options)
    pages = max(1, -(-len(expected) // 100))
    found, total = fast(archive, text, pages=pages, **options)
    assert total == len(expected), text
    relevance = options.get("sort", "relevance") == "relevance"
    assert_same_ranking(found, expected, relevance)
    # A short page is cut from the same order (bonuses computed only for what can reach it).
    first, _ = fast(archive, text, page_size=10, **options)
    cut = min(10, len(expected))
    # A tie across the page's end: any of the tied may end the page.
    while (
        relevance
        and 0 < cut < len(expected)
        and abs(expected[cut - 1][1] - expected[cut][1]) < 1e-9
    ):
        cut -= 1
    assert_same_ranking(first[:cut], expected[:cut], relevance)


@pytest.mark.parametrize("text", SAMPLE_QUERIES)
def test_the_sample_archive_answers_like_whoosh(sample_archive, text):
    check(sample_archive, text)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_order_and_date_ranges_answer_like_whoosh(sample_archive, sort):
    check(sample_archive, "観光 OR 空港 OR 京都 OR 台風", sort=sort)
    check(sample_archive, "者", date_from=date(2025, 1, 1), date_to=date(2025, 6, 30))


def test_marked_words_are_those_analysis_finds(sample_archive):
    queries = ("米国", "空港", "京都", "サーバ", "観光 紅葉", "東京都", '"国際 空港"', "title:空港")
    for text in queries:
        page = sample_archive.search(text, page_size=50)
        assert page.hits, text
        for hit in page.hits:
            record = sample_archive.article(hit.id)
            assert hit.title_marked == page.highlighter.whole(record.title, field="title")
            by_analysis = page.highlighter.snippet(record.body)
            if by_analysis.marked or not record.captions:
                assert hit.snippet == by_analysis, (text, hit.id)


@pytest.fixture(scope="module")
def livedoor_archive(tmp_path_factory):
    """1,500 livedoor articles in several segments, some deleted: the shapes a real index has."""
    if not LIVEDOOR.is_dir():
        pytest.skip(f"the livedoor corpus is not at {LIVEDOOR}")
    files = sorted(p for p in LIVEDOOR.glob("*/*.txt") if not p.name.startswith("LICENSE"))
    chosen = files[::5][:1500]
    archive = make_archive(tmp_path_factory.mktemp("livedoor-fast"))
    archive.import_paths(chosen[:900])
    archive.import_paths(chosen[900:1200])
    archive.import_paths(chosen[1200:])
    doomed = archive.search("写真", page_size=20).hits
    archive.delete([hit.id for hit in doomed[::3]])
    return archive


def livedoor_queries(archive, count: int, seed: int) -> list[str]:
    """Title words two at a time, common words, phrases, exclusions, OR and questions."""
    rng = random.Random(seed)
    titles = [archive.article(i).title for i in rng.sample(range(1, 1400), 200)]
    queries = ["日本", "発表", "東京", "日本 代表", "今年", "映画 公開", "スマートフォン 対応"]
    for title in titles:
        nouns = list(
            dict.fromkeys(
                m.form for m in morphemes(title) if m.part_of_speech == "名詞" and len(m.form) > 1
            )
        )
        if len(nouns) < 2:
            continue
        a, b = rng.sample(nouns, 2)
        queries.extend(
            rng.choice(
                [
                    [f"{a} {b}"],
                    [f"{a}{b}"],
                    [f'"{a}{b}"'],
                    [f"{a} -{b}"],
                    [f"{a} OR {b}"],
                    [f"title:{a} {b}"],
                    [title],
                ]
            )
        )
        if len(queries) >= count:
            break
    return queries


@needs_livedoor
def test_livedoor_answers_like_whoosh(livedoor_archive):
    for text in livedoor_queries(livedoor_archive, 120, seed=20261128):
        check(livedoor_archive, text)


@needs_livedoor
def test_unions_marked_in_a_mask_answer_like_whoosh(livedoor_archive, monkeypatch):
    # Unions of many ids are marked in a mask over the documents, not sorted: every
    # union takes that way here, deleted documents included.
    monkeypatch.setattr(matching, "UNION_BY_MASK", 0)
    for text in livedoor_queries(livedoor_archive, 40, seed=7):
        check(livedoor_archive, text)


@needs_livedoor
def test_livedoor_sorted_by_date_answers_like_whoosh(livedoor_archive):
    for text in ["日本", "映画 公開", "iPhone", "女性 OR 男性"]:
        check(livedoor_archive, text, sort="newest")
        check(livedoor_archive, text, sort="oldest", date_from=date(2011, 1, 1))


def test_a_search_sees_an_import_and_a_delete_made_after_it_opened(home, tmp_path):
    archive = make_archive(home)
    first = write_jsonl(tmp_path / "a.jsonl", [{"title": "空港の話", "body": "空港が混雑した。"}])
    archive.import_paths([first])
    assert archive.search("空港").total == 1
    second = write_jsonl(
        tmp_path / "b.jsonl", [{"title": "空港が拡張", "body": "新しい空港ビルが開業した。"}]
    )
    archive.import_paths([second])  # a new segment in the same generation
    assert archive.search("空港").total == 2
    archive.delete([1])
    assert [h.title for h in archive.search("空港").hits] == ["空港が拡張"]


def test_a_long_query_checks_a_bounded_number_of_word_pairs(sample_archive):
    """32 words would make 496 pairs of nearness phrases to check on every candidate."""
    words = " OR ".join(f"語{n}" for n in range(32))
    plan = plan_of(sample_archive, words)

    def phrases(q) -> int:
        if isinstance(q, wq.Phrase):
            return 1
        return sum(
            phrases(s)
            for s in getattr(q, "subqueries", ()) or [getattr(q, "child", None)]
            if s is not None
        )

    # Linear in the words (each compound's own phrase, each typed-order pair), plus
    # nearness among the first five words: 10 pairs, both orders, title and body.
    assert phrases(plan.bonus) <= 3 * 32 + 2 * 2 * 10


@needs_livedoor
def test_one_evaluator_answers_query_after_query_as_a_fresh_one_does(livedoor_archive):
    """An evaluator remembers what it worked out by query tree; a tree built later where
    a dropped one lay in memory (CPython reuses the address) is a new tree to it."""
    from indexer.engine import Evaluator, Snapshot

    snapshot = Snapshot(index_store(livedoor_archive).open())
    shared = Evaluator(snapshot, WEIGHTING)
    words = ["日本", "映画", "女性", "公開", "発売", "選手", "アプリ", "東京", "仕事", "話題"]
    rng = random.Random(3)

    def unit(word: str) -> wq.Query:
        return wq.Or([wq.Term("title", word, boost=2.0), wq.Term("body", word)])

    pairs = [rng.sample(words, 2) for _ in range(300)]
    # Each tree dropped before the next is built, as one search after another does.
    found = [shared.evaluate(wq.And([unit(w) for w in pair])).ids.tolist() for pair in pairs]
    for pair, ids in zip(pairs, found, strict=True):
        expected = Evaluator(snapshot, WEIGHTING).evaluate(wq.And([unit(w) for w in pair]))
        assert ids == expected.ids.tolist(), pair
    snapshot.close()
