"""The research desk: attention over time and keyword in context, from the door to the pages.

Counts are checked against the search's own totals (the same match set, an
article once per period), and KWIC lines against the marks the highlighter
puts on the same articles.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from archive import attention as charts
from archive import kwic
from indexer.archive import ConcordanceLine, DayCounts
from indexer.errors import SearchTooSlow

from .conftest import import_into, make_archive, write_jsonl
from .test_search_budget import QUESTION, TINY, archive_with

# (title, body, published day or None)
ARTICLES = [
    ("都庁で会議", "東京都庁で会議が開かれた。東京都の職員が集まった。", "2025-01-05"),
    ("京都の寺", "京都の寺で紅葉が見頃。京都には観光客が多い。", "2025-01-20"),
    ("都内の道路", "東京都内の道路が渋滞した。", "2025-02-03"),
    ("古都の話", "京都の町家が残る。", None),
    ("空港の改修", "空港で工事。空港の利用者は増えた。関西国際空港も混む。", "2025-03-01"),
    ("新空港", "新しい空港が開いた。", "2025-03-01"),
    ("鉄道の話", "鉄道の新線が開業した。", "2025-03-02"),
    ("鉄道の話2", "鉄道の運賃が上がる。", "2025-02-10"),
    ("空港の夏", "空港は夏休みで混雑。", "2025-08-15"),
]


@pytest.fixture(scope="module")
def desk_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("desk")
    records = []
    for i, (title, body, day) in enumerate(ARTICLES):
        record = {"title": title, "body": body, "url": f"https://desk.example/{i}"}
        if day:
            record["published_at"] = f"{day}T12:00:00+09:00"
        records.append(record)
    with make_archive(home) as archive:
        summary = import_into(archive, write_jsonl(home / "desk.jsonl", records))
        assert summary.ok and summary.added == len(ARTICLES), summary
    return home


@pytest.fixture
def desk(desk_home):
    with make_archive(desk_home) as archive:
        yield archive


@pytest.fixture
def client(desk_home, open_client):
    return open_client(ARCHIVE_HOME=str(desk_home))


# Periods


@pytest.mark.parametrize(
    ("day", "unit", "start", "end"),
    [
        (date(2025, 3, 5), "day", date(2025, 3, 5), date(2025, 3, 5)),
        (date(2025, 3, 5), "week", date(2025, 3, 3), date(2025, 3, 9)),  # a Wednesday
        (date(2025, 3, 3), "week", date(2025, 3, 3), date(2025, 3, 9)),  # a Monday
        (date(2025, 3, 5), "month", date(2025, 3, 1), date(2025, 3, 31)),
        (date(2024, 2, 29), "month", date(2024, 2, 1), date(2024, 2, 29)),
        (date(2025, 12, 31), "month", date(2025, 12, 1), date(2025, 12, 31)),
        (date(2025, 1, 1), "week", date(2024, 12, 30), date(2025, 1, 5)),
    ],
)
def test_a_day_falls_in_its_period(day, unit, start, end):
    assert charts.period_start(day, unit) == start
    assert charts.period_end(start, unit) == end


@pytest.mark.parametrize(
    ("first", "last", "asked", "chosen"),
    [
        (date(2025, 1, 1), date(2025, 1, 31), None, "day"),
        (date(2025, 1, 1), date(2025, 3, 3), None, "day"),  # 62 days
        (date(2025, 1, 1), date(2025, 6, 30), None, "week"),
        (date(2024, 1, 1), date(2025, 12, 31), None, "week"),
        (date(2020, 1, 1), date(2025, 12, 31), None, "month"),
        (date(2020, 1, 1), date(2025, 12, 31), "week", "week"),  # 313 weeks: still fits
        (date(2000, 1, 1), date(2025, 12, 31), "day", "month"),  # 9,497 days would not
        (date(2025, 1, 1), date(2025, 1, 31), "month", "month"),
    ],
)
def test_the_period_is_chosen_by_the_range_unless_asked(first, last, asked, chosen):
    assert charts.choose_unit(first, last, asked) == chosen


def test_days_are_summed_into_their_periods_from_the_first_to_the_last():
    days = [(date(2025, 1, 30), 2), (date(2025, 1, 31), 1), (date(2025, 3, 2), 4)]
    starts = charts.periods(date(2025, 1, 30), date(2025, 3, 2), "month")
    assert starts == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert charts.bucket(days, starts, "month") == [3, 0, 4]


def counts(query, days, undated=0):
    return DayCounts(query, tuple(days), undated, sum(n for _, n in days) + undated)


def test_the_chart_spans_the_days_with_matches_and_normalises_per_thousand():
    a = counts("a", [(date(2025, 3, 1), 2), (date(2025, 5, 9), 1)], undated=1)
    b = counts("b", [(date(2025, 4, 2), 5)])
    everything = counts(
        "", [(date(2024, 1, 1), 9), (date(2025, 3, 3), 400), (date(2025, 4, 1), 10)]
    )
    chart = charts.attention([a, b], everything, "month", normalised=True)
    # Nothing before March 2025 is drawn: the range is the queries' own.
    assert chart.starts == (date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1))
    assert [s.counts for s in chart.series] == [(2, 0, 1), (0, 5, 0)]
    assert chart.articles == (400, 10, 0)
    assert chart.values(chart.series[0]) == [5.0, 0.0, None]  # May: no article to divide by
    assert chart.values(chart.series[1]) == [0.0, 500.0, None]
    assert chart.series[0].total == 4 and chart.series[0].undated == 1


def test_the_csv_has_a_row_a_period_and_a_column_a_query_with_its_rate():
    a = counts("空港", [(date(2025, 3, 1), 2), (date(2025, 3, 9), 1)])
    everything = counts("", [(date(2025, 3, 2), 40), (date(2025, 3, 8), 10)])
    chart = charts.attention([a], everything, "week")
    rows = list(csv.reader(io.StringIO(charts.csv_text(chart))))
    assert rows[0] == ["period_start", "period_end", "articles", "空港", "空港 per 1000"]
    assert rows[1:] == [
        ["2025-02-24", "2025-03-02", "40", "2", "50.000"],
        ["2025-03-03", "2025-03-09", "10", "1", "100.000"],
    ]


@pytest.mark.parametrize(
    ("most", "step"), [(0, 1), (1, 0.5), (4, 1), (7, 2), (12, 5), (95, 50), (0.3, 0.1)]
)
def test_axis_steps_are_round(most, step):
    assert charts.nice_step(most) == pytest.approx(step)


def test_the_drawn_chart_has_ticks_from_zero_past_the_highest_count():
    a = counts("a", [(date(2025, 3, 1), 7), (date(2025, 4, 1), 3)])
    drawn = charts.draw(charts.attention([a], counts("", []), "month"), 360, 300, 13, 4)
    labels = [t.label for t in drawn.y_ticks]
    assert labels[0] == "0" and int(labels[-1]) >= 7
    assert [t.label for t in drawn.x_ticks][0] == "2025年3月"
    assert drawn.lines[0].peak.value == 7
    assert "2025年3月: 7件" in drawn.lines[0].peak.text


# The door: counts are the search's


def test_day_counts_are_the_searchs_total_each_article_once(desk):
    found = desk.day_counts("空港")
    assert found.total == desk.search("空港").total == 3
    # The article naming 空港 three times counts once, beside the other of that day.
    assert dict(found.days) == {date(2025, 3, 1): 2, date(2025, 8, 15): 1}
    everything = desk.day_counts("")
    assert everything.total == len(ARTICLES) and everything.undated == 1


def test_day_counts_take_the_searchs_filters(desk):
    found = desk.day_counts("空港", date_from="2025-08-01")
    assert dict(found.days) == {date(2025, 8, 15): 1}
    assert found.total == desk.search("空港", date_from="2025-08-01").total


@pytest.mark.parametrize("query", ["空港", "京都", "東京都", "鉄道 OR 空港", '"関西国際空港"'])
def test_kwic_lines_are_the_words_the_highlighter_marks(desk, query):
    found = desk.concordance(query)
    result = desk.search(query, page_size=100)
    assert found.articles == result.total and found.complete
    marker = desk.highlighter(query)
    expected = []
    for hit in result.hits:
        body = desk.article(hit.id).body
        expected += [(hit.id, word) for word in marker.whole(body).marked]
    assert sorted((line.article_id, line.keyword) for line in found.lines) == sorted(expected)
    for line in found.lines:
        body = desk.article(line.article_id).body
        assert body[line.start - len(line.left) : line.start] == line.left
        assert body[line.start :].startswith(line.keyword + line.right)


def test_kwic_never_lists_kyoto_inside_tokyo_to(desk):
    lines = desk.concordance("京都").lines
    assert lines and {line.keyword for line in lines} == {"京都"}
    assert not [line for line in lines if line.left.endswith("東")]


def line(left, keyword, right, article_id=1):
    return ConcordanceLine(article_id, "t", None, None, 0, left, keyword, right)


def test_kwic_sorts_by_the_reversed_left_context_or_the_right_context():
    lines = [
        line("新しい", "空港", "で"),
        line("関西国際", "空港", "が"),
        line("あの", "空港", "を"),
    ]
    # Read backwards from the word: い(し新), の(あ), 際(国西関).
    assert [x.left for x in kwic.sort_lines(lines, "left")] == ["新しい", "あの", "関西国際"]
    assert [x.right for x in kwic.sort_lines(lines, "right")] == ["が", "で", "を"]
    assert kwic.sort_lines(lines, "article") == lines


def test_a_kwic_table_keeps_tabs_out_of_its_fields():
    text = kwic.table([line("左\tの", "語", "右")], "\t")
    rows = text.strip("\r\n").split("\r\n")
    assert rows[1].split("\t") == ["1", "", "", "t", "左 の", "語", "右"]


# The pages


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_the_attention_page_draws_each_query_with_axes_legend_and_a_table(client, desk):
    response = client.get("/attention", query_string=[("q", "空港"), ("q", "鉄道")])
    assert response.status_code == 200
    html = page_text(response)
    assert html.count("<svg class=") == 2  # wide and narrow
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert 'class="axis"' in html and 'class="y"' in html and 'class="x"' in html
    assert 'aria-label="凡例"' in html and "空港</a>" in html and "鉄道</a>" in html
    assert f"{desk.search('空港').total}件" in html
    assert "<table>" in html and "2025年3月" in html
    assert "/attention.csv?" in html


def test_the_attention_csv_adds_up_to_the_search_totals(client, desk):
    response = client.get(
        "/attention.csv", query_string=[("q", "空港"), ("q", "鉄道"), ("unit", "month")]
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(page_text(response).lstrip("\ufeff"))))
    assert [r["period_start"] for r in rows][:2] == ["2025-02-01", "2025-03-01"]
    for query in ("空港", "鉄道"):
        found = desk.day_counts(query)
        assert sum(int(r[query]) for r in rows) == found.total - found.undated
    assert sum(int(r["articles"]) for r in rows) <= len(ARTICLES)


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/attention?q=空港&unit=year", 400, "unit は"),
        ("/attention?q=の", 400, "検索できる語がありません"),
        ("/attention.csv", 400, "検索語"),
        ("/attention?q=a&q=b&q=c&q=d&q=e&q=f", 200, "「f」は除きました"),
        ("/attention", 200, "検索語を入れると"),
        ("/kwic?q=空港&sort=middle", 400, "sort は"),
        ("/kwic?q=空港&page=0", 400, "ページは"),
        ("/kwic.csv", 400, "検索語"),
        ("/kwic", 200, "検索語を入れると"),
        ("/kwic?q=空港&page=9", 200, "このページには用例がありません"),
    ],
)
def test_desk_pages_say_what_is_wrong(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    assert text in page_text(response)


def test_the_kwic_page_lists_every_occurrence_linked_to_its_article(client, desk):
    html = page_text(client.get("/kwic", query_string={"q": "空港"}))
    keywords = re.findall(
        r'<a class="keyword" href="/articles/(\d+)\?q=[^"]*"[^>]*><mark>([^<]+)', html
    )
    assert len(keywords) == len(desk.concordance("空港").lines) == 5
    assert {word for _, word in keywords} == {"空港"}
    assert "3件の記事に5箇所" in html


def test_kwic_sorts_page_and_exports_every_line(client, desk, monkeypatch):
    monkeypatch.setattr(kwic, "PAGE_SIZE", 2)
    right = page_text(client.get("/kwic", query_string={"q": "空港", "sort": "right"}))
    shown = re.findall(r'<span class="right">([^<]*)</span>', right)
    assert len(shown) == 2 and shown == sorted(shown)
    assert 'rel="next"' in right and "sort=right" in right
    second = page_text(client.get("/kwic", query_string={"q": "空港", "sort": "right", "page": 2}))
    later = re.findall(r'<span class="right">([^<]*)</span>', second)
    assert later and shown[-1] <= later[0]

    exported = page_text(client.get("/kwic.tsv", query_string={"q": "空港", "sort": "left"}))
    rows = [r.split("\t") for r in exported.lstrip("\ufeff").strip("\r\n").split("\r\n")]
    assert rows[0][4:] == ["left", "keyword", "right"]
    assert len(rows) - 1 == 5  # every line, not one page
    lefts = [r[4] for r in rows[1:]]
    assert lefts == sorted(lefts, key=lambda s: s[::-1])
    as_csv = client.get("/kwic.csv", query_string={"q": "空港"})
    assert as_csv.mimetype == "text/csv"
    assert len(list(csv.reader(io.StringIO(page_text(as_csv).lstrip("\ufeff"))))) == 6


def test_the_search_page_links_to_the_desk_with_its_query_and_filters(client):
    html = page_text(
        client.get("/", query_string={"q": "空港", "from": "2025-03-01", "sort": "newest"})
    )
    links = [
        h.replace("&amp;", "&")
        for h in re.findall(r'<p class="desk">(.*?)</p>', html)[0].split('"')
        if h.startswith("/")
    ]
    assert [link.split("?")[0] for link in links] == ["/attention", "/kwic"]
    for link in links:
        assert "from=2025-03-01" in link and "sort=" not in link
        assert client.get(link).status_code == 200


def test_a_concordance_kept_for_its_pages_is_read_again_once_articles_are_added(archive, tmp_path):
    first = {"title": "空港", "body": "空港が開いた。", "url": "https://k.example/1"}
    import_into(archive, write_jsonl(tmp_path / "one.jsonl", [first]))
    assert [line.keyword for line in archive.concordance("空港").lines] == ["空港"]
    assert archive.concordance("空港") is archive.concordance("空港")  # kept
    second = {"title": "新空港", "body": "新しい空港へ。", "url": "https://k.example/2"}
    import_into(archive, write_jsonl(tmp_path / "two.jsonl", [second]))
    assert len(archive.concordance("空港").lines) == 2


def test_a_long_run_without_matches_is_one_break_in_the_axis_but_stays_in_the_csv():
    a = counts("a", [(date(2000, 3, 1), 1), (date(2009, 1, 5), 4), (date(2009, 3, 5), 2)])
    b = counts("b", [(date(2009, 2, 1), 3)])
    chart = charts.attention([a, b], counts("", []), "month")
    assert len(chart.starts) == 109 and charts.quiet_runs(chart) == [(1, 106)]
    drawn = charts.draw(chart, 720, 320, 13, 8)
    assert drawn.quiet == ("2000年4月〜2008年12月",) and len(drawn.breaks) == 1
    xs = [p.x for p in drawn.lines[0].points]
    assert len(xs) == 4  # 2000-03, then 2009-01 to 2009-03: the quiet months are not drawn
    assert xs[1] - xs[0] == pytest.approx(2 * (xs[2] - xs[1]))  # one slot for the break
    assert drawn.lines[0].path.count("M") == 2  # the line is lifted across the break
    assert [t.label for t in drawn.x_ticks][:2] == ["2000年3月", "2009年1月"]
    assert len(charts.csv_text(chart).strip().split("\r\n")) == 1 + 109


def test_kwic_sorting_skips_spaces_and_folds_width_and_case():
    lines = [
        line("所在地\t", "東京都", " 港区"),
        line("TEL ", "東京都", "中央区"),
        line("ｔｅｌ", "東京都", "　渋谷区"),
    ]
    assert [x.left for x in kwic.sort_lines(lines, "left")] == ["TEL ", "ｔｅｌ", "所在地\t"]
    assert [x.right for x in kwic.sort_lines(lines, "right")] == ["中央区", "　渋谷区", " 港区"]


def test_counts_and_lines_cut_short_by_the_search_budget_are_refused_not_shown(
    sample_home, open_client
):
    with archive_with(sample_home, TINY) as hurried:
        assert hurried.search(QUESTION).incomplete  # the search shows part, and says so
        with pytest.raises(SearchTooSlow):
            hurried.day_counts(QUESTION)
        with pytest.raises(SearchTooSlow):
            hurried.concordance(QUESTION)
        assert hurried.day_counts("").total == 24  # counting every article needs no budget
    client = open_client(ARCHIVE_HOME=str(sample_home), ARCHIVE_SEARCH_BUDGET_MS=TINY)
    for path in ("/attention", "/attention.csv", "/kwic", "/kwic.tsv"):
        response = client.get(path, query_string={"q": QUESTION})
        assert response.status_code == 503, path
        assert "打ち切りました" in page_text(response)


def test_desk_counts_and_lines_take_every_filter_of_the_search(client, desk):
    undated = desk.day_counts("京都", undated=True)
    assert undated.total == undated.undated == desk.search("京都", undated=True).total == 1
    assert desk.day_counts("京都", site=["desk.example", "other.example"]).total == 2
    assert desk.day_counts("京都", exclude={"site": ["desk.example"]}).total == 0
    # The pages read the filters as the search page does (undated=1, not_site=…).
    lines = page_text(client.get("/kwic.tsv", query_string={"q": "京都", "undated": "1"}))
    assert "町家" in lines and "紅葉" not in lines
    left_out = client.get("/kwic", query_string={"q": "京都", "not_site": "desk.example"})
    assert "紅葉" not in page_text(left_out) and left_out.status_code == 200
