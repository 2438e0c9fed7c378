"""The results page's timeline: bars, their scale, gaps, captions, zooming and aria-current."""

from __future__ import annotations

import re
from datetime import date

import pytest

from archive.timeline import chosen_period, timeline
from indexer.archive import FacetValue

from .test_desk import client, desk_home  # noqa: F401 (fixtures)


def months(counts: dict[str, int]) -> list[FacetValue]:
    return [FacetValue(month, n) for month, n in sorted(counts.items())]


# Like livedoor: a few articles of 2000 and 2005 before thousands from 2009 on.
SPREAD = months(
    {
        "2000-05": 4,
        "2005-02": 1,
        **{f"{y}-{m:02d}": (y - 2008) * 100 + m for y in range(2009, 2013) for m in range(1, 13)},
    }
)


def test_empty_years_in_a_long_run_are_one_narrow_gap_not_width():
    chart = timeline(SPREAD, None, None)
    assert chart.by_year
    bars = chart.wide.bars
    assert [b.label for b in bars] == [
        "2000年",
        "2001年〜2004年",
        "2005年",
        "2006年〜2008年",
        "2009年",
        "2010年",
        "2011年",
        "2012年",
    ]
    gaps = [b for b in bars if b.gap]
    assert all(g.width < bars[0].width for g in gaps)
    assert sum(b.width for b in bars if b.first.year >= 2009) > chart.wide.width * 0.5


def test_heights_follow_the_square_root_and_small_bars_stay_visible():
    chart = timeline(months({"2025-01": 1, "2025-02": 100, "2025-03": 25}), None, None)
    one, hundred, quarter = chart.wide.bars
    assert hundred.height == pytest.approx(4 * quarter.height / 2, rel=0.01)
    assert one.height >= hundred.height / 10 - 0.01  # sqrt(1/100): a tenth, not a hundredth
    # The axis is labelled in true counts, at the heights those counts have.
    labels = [t.label for t in chart.wide.y_ticks]
    assert labels[0] == "0" and labels[-1] == "100"
    tick = {t.label: t.y for t in chart.wide.y_ticks}
    assert tick["100"] == pytest.approx(hundred.y)
    assert all(b.shown_count for b in chart.wide.bars)  # three wide bars: counts written


def test_a_chosen_year_is_drawn_by_its_months_and_only_an_exact_bar_is_current():
    chart = timeline(SPREAD, date(2011, 1, 1), date(2011, 12, 31))
    assert not chart.by_year and chart.zoomed == "2011年"
    assert [b.label for b in chart.wide.bars][:2] == ["2011年1月", "2011年2月"]
    assert len(chart.wide.bars) == 12 and all(b.selected for b in chart.wide.bars)
    assert not any(b.current for b in chart.wide.bars)  # the year is chosen, no one month
    month = timeline(SPREAD, date(2011, 3, 1), date(2011, 3, 31))
    assert [b.label for b in month.wide.bars if b.current] == ["2011年3月"]
    # The phone's drawing labels more than the year.
    ticks = [b.tick for b in chart.narrow.bars if b.tick]
    assert ticks[0] == "2011年" and len(ticks) >= 3


def test_months_are_drawn_when_they_fit_and_the_range_is_trimmed_to_the_data():
    chart = timeline(months({"2024-11": 2, "2025-02": 5}), None, None)
    assert not chart.by_year
    assert [b.label for b in chart.wide.bars] == [
        "2024年11月",
        "2024年12月",
        "2025年1月",
        "2025年2月",
    ]
    wide = timeline(months({"2000-01": 1, "2012-12": 1}), None, None)
    assert wide.by_year  # 156 months: more than MAX_MONTH_BARS
    assert [b.label for b in wide.wide.bars] == ["2000年", "2001年〜2011年", "2012年"]


@pytest.mark.parametrize(
    ("first", "last", "period"),
    [
        (date(2025, 3, 1), date(2025, 3, 31), "2025-03"),
        (date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        (date(2025, 1, 1), date(2025, 12, 31), "2025"),
        (date(2025, 1, 1), date(2025, 3, 31), None),
        (date(2025, 3, 2), date(2025, 3, 31), None),
        (None, date(2025, 3, 31), None),
    ],
)
def test_the_chosen_period_is_a_whole_month_or_year(first, last, period):
    assert chosen_period(first, last) == period


def test_the_page_captions_the_chart_by_what_it_draws(client):  # noqa: F811
    html = client.get("/", query_string={"q": "空港"}).get_data(as_text=True)
    caption = re.search(r'<figcaption id="timeline-caption">(.*?)</figcaption>', html, re.S)
    assert caption.group(1).startswith("月ごとの件数") and "平方根" in caption.group(1)
    assert "年ごと" not in caption.group(1)
    assert html.count('<svg class="wide"') == 1 and html.count('<svg class="narrow"') == 1
    assert 'class="y"' in html and 'class="axis"' in html


def test_months_of_a_chosen_year_are_not_all_current(client):  # noqa: F811
    year = client.get(
        "/", query_string={"q": "空港 OR 鉄道", "from": "2025-01-01", "to": "2025-12-31"}
    )
    html = year.get_data(as_text=True)
    facet = html[html.index('id="facet-month"') :]
    assert facet.count('aria-current="true"') == 1  # the year, none of its months
    assert re.search(r'aria-current="true">2025年のすべて</a>', facet)
    month = client.get(
        "/", query_string={"q": "空港 OR 鉄道", "from": "2025-03-01", "to": "2025-03-31"}
    )
    html = month.get_data(as_text=True)
    facet = html[html.index('id="facet-month"') :]
    assert re.findall(r'aria-current="true">([^<]+)</a>', facet) == ["2025年3月"]
    # And the chart's bar of that month is the one current bar (in each drawing).
    assert html.count('aria-current="true" class="active"') == 2
