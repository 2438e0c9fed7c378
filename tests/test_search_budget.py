"""A search's time budget: past it, what it has, marked incomplete, or a 503 saying what to narrow.

The budget is checked by the evaluation itself, between the parts of every
OR.  A budget of a microsecond makes every search run out at its first
look at the clock, so these tests do not depend on the machine's speed:
what they check is what a search cut short gives, and says, on every front
end.  How fast the budget answers a crafted query, and what that spares
other searches, is measured in ``bench/costly_queries.py``.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from whoosh import query as wq

from archive import create_app
from archive.cli import cli as archive_cli
from indexer.archive import Archive, Settings
from indexer.cli import cli
from indexer.engine import Evaluator, Snapshot, posting_cache
from indexer.errors import ArchiveError, SearchTooSlow
from indexer.search.ranking import WEIGHTING

from .conftest import index_store

TINY = "0.001"  # milliseconds: spent before the first look at the clock
QUESTION = "新しい推論モデルを公開したのはどこの企業ですか？"
# No article holds these three words where a search cut at once looks first (titles).
NARROW_ME = "滑走路 紅葉 展望室"


def archive_with(home, budget: str) -> Archive:
    return Archive(
        Settings.from_env({"ARCHIVE_HOME": str(home), "ARCHIVE_SEARCH_BUDGET_MS": budget})
    )


@pytest.fixture
def hurried(sample_home):
    with archive_with(sample_home, TINY) as archive:
        yield archive


@pytest.fixture
def unhurried(sample_home):
    with archive_with(sample_home, "0") as archive:
        yield archive


def test_a_search_past_its_budget_answers_with_what_it_has_marked_incomplete(hurried, unhurried):
    cut = hurried.search(QUESTION)
    whole = unhurried.search(QUESTION, page_size=100)
    assert whole.incomplete is None
    assert cut.incomplete is not None
    assert "途中で打ち切った" in cut.incomplete and "0.001ミリ秒まで" in cut.incomplete
    assert "語を減らすか短くすると" in cut.incomplete
    assert 0 < cut.total < whole.total
    assert {h.id for h in cut.hits} <= {h.id for h in whole.hits}


def test_exclusions_and_filters_hold_in_a_search_cut_short(hurried):
    excluded = hurried.search("観光 -京都")
    assert excluded.incomplete and excluded.hits
    for found in excluded.hits:
        article = hurried.article(found.id)
        assert "京都" not in article.title + article.body
    filtered = hurried.search("site:kinki-times.example 紅葉 OR 観光 OR 空港")
    assert filtered.hits and {h.site for h in filtered.hits} == {"kinki-times.example"}


def test_a_search_that_found_nothing_within_its_budget_says_what_to_narrow(hurried, unhurried):
    assert unhurried.search(NARROW_ME).total
    with pytest.raises(SearchTooSlow) as raised:
        hurried.search(NARROW_ME)
    message = str(raised.value)
    assert "打ち切りました" in message and "絞り込んでください" in message


def test_the_pages_the_api_and_the_command_line_say_a_search_was_cut(sample_home, open_client):
    client = open_client(ARCHIVE_HOME=str(sample_home), ARCHIVE_SEARCH_BUDGET_MS=TINY)
    answer = client.get("/api/search", query_string={"q": QUESTION})
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["incomplete"] is True and "途中で打ち切った" in data["incomplete_reason"]
    page = client.get("/", query_string={"q": QUESTION})
    assert page.status_code == 200 and "途中で打ち切った" in page.get_data(as_text=True)

    refused = client.get("/api/search", query_string={"q": NARROW_ME})
    assert (
        refused.status_code == 503
        and "絞り込んでください" in refused.get_json()["error"]["message"]
    )
    assert refused.get_json()["error"]["code"] == "search_too_slow"
    page = client.get("/", query_string={"q": NARROW_ME})
    assert page.status_code == 503 and "絞り込んでください" in page.get_data(as_text=True)

    env = {"ARCHIVE_HOME": str(sample_home), "ARCHIVE_SEARCH_BUDGET_MS": TINY}
    result = CliRunner().invoke(cli, ["search", QUESTION], env=env)
    assert result.exit_code == 0, result.output
    assert "途中で打ち切った" in result.output
    result = CliRunner().invoke(cli, ["search", *NARROW_ME.split()], env=env)
    assert result.exit_code == 1 and "絞り込んでください" in result.output


def test_without_a_budget_nothing_is_cut(unhurried, sample_home, open_client):
    assert unhurried.search(QUESTION).incomplete is None
    client = open_client(ARCHIVE_HOME=str(sample_home), ARCHIVE_SEARCH_BUDGET_MS="0")
    data = client.get("/api/search", query_string={"q": QUESTION}).get_json()
    assert data["incomplete"] is False and data["incomplete_reason"] is None


@pytest.mark.parametrize("budget", ["abc", "-5", "1e9", "nan"])
def test_a_budget_that_is_no_number_of_milliseconds_is_refused(sample_home, budget):
    with pytest.raises(ArchiveError, match="ミリ秒"):
        Settings.from_env({"ARCHIVE_HOME": str(sample_home), "ARCHIVE_SEARCH_BUDGET_MS": budget})
    with pytest.raises(ArchiveError, match="ミリ秒"):
        create_app({"ARCHIVE_HOME": str(sample_home), "ARCHIVE_SEARCH_BUDGET_MS": budget})
    result = CliRunner().invoke(archive_cli, ["serve", "--search-budget", budget])
    assert result.exit_code == 2 and "--search-budget" in result.output


@pytest.fixture
def index(sample_home):
    with archive_with(sample_home, "0") as archive:
        yield index_store(archive).open()


@pytest.fixture
def snapshot(index):
    snapshot = Snapshot(index, posting_cache())
    yield snapshot
    snapshot.close()


def test_past_its_deadline_an_or_keeps_the_parts_it_has_but_docs_are_whole(snapshot):
    either = wq.Or([wq.Term("body", "空港"), wq.Term("body", "紅葉")])
    whole = Evaluator(snapshot, WEIGHTING).evaluate(either)
    late = Evaluator(snapshot, WEIGHTING, deadline=0.0)
    first = Evaluator(snapshot, WEIGHTING).evaluate(wq.Term("body", "空港"))
    found = late.evaluate(either)
    assert late.cut
    assert found.ids.tolist() == first.ids.tolist() != whole.ids.tolist()
    # Filters and exclusions are never cut: fewer would let in what they keep out.
    exact = Evaluator(snapshot, WEIGHTING, deadline=0.0)
    assert exact.docs(either).tolist() == whole.ids.tolist() and not exact.cut


def test_a_part_repeated_in_an_or_is_evaluated_once_and_counted_each_time(index, snapshot):
    word = wq.Term("body", "空港")
    repeated = wq.Or([word, wq.Term("body", "紅葉"), word])
    twice = Evaluator(snapshot, WEIGHTING).evaluate(repeated)
    with index.searcher(weighting=WEIGHTING) as searcher:
        expected = {hit.docnum: hit.score for hit in searcher.search(repeated, limit=None)}
    assert dict(zip(twice.ids.tolist(), twice.scores.tolist(), strict=True)) == pytest.approx(
        expected
    )


def test_a_part_repeated_in_a_disjunction_max_counts_once(index, snapshot):
    word = wq.Term("body", "空港")
    best = wq.DisjunctionMax([word, wq.Term("body", "紅葉"), word])
    found = Evaluator(snapshot, WEIGHTING).evaluate(best)
    alone = Evaluator(snapshot, WEIGHTING).evaluate(
        wq.DisjunctionMax([word, wq.Term("body", "紅葉")])
    )
    assert found.ids.tolist() == alone.ids.tolist()
    assert found.scores.tolist() == pytest.approx(alone.scores.tolist())
