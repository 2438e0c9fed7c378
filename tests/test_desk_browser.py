"""The research desk and the timeline in a real browser: Debian's Chromium against ``archive serve``.

Over an archive spanning 2000 and 2009–2012 (like livedoor: a few old articles
before years of many), the timeline is drawn by year, a year bar zooms into its
months; the attention chart draws two queries with axes and counts and its CSV
downloads; KWIC lines sort by left and right context, page, and export.  Each
page is shot at 1280 and 390 px wide into ``SCREENSHOTS`` for people to look at.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import import_into, make_archive, served, write_jsonl
from .test_browse_browser import screenshots, shoot  # noqa: F401 (a fixture)
from .test_browser import browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

AIRPORT_ARTICLES = 36  # each names 空港 twice: 72 KWIC lines, two pages of 50
LEFT_WORDS = ["関西国際", "新しい", "地方の", "成田", "羽田", "那覇"]
RIGHT_WORDS = ["で工事", "の利用者", "が混雑", "に到着", "から出発", "へ向かう"]


def desk_articles() -> list[dict]:
    records = []
    for i in range(3):  # three articles of 2000, then nothing until 2009
        records.append(
            {
                "title": f"古い記事{i}",
                "body": f"二〇〇〇年の鉄道の話{i}。",
                "published_at": f"2000-0{i + 4}-10T09:00:00+09:00",
            }
        )
    for i in range(AIRPORT_ARTICLES):
        year, month = 2009 + i % 4, 1 + (i * 5) % 12
        left, right = LEFT_WORDS[i % 6], RIGHT_WORDS[(i * 7) % 6]
        records.append(
            {
                "title": f"空港の記事{i}",
                "body": f"{left}空港{right}。記事{i}では、{LEFT_WORDS[(i + 3) % 6]}空港{RIGHT_WORDS[i % 6]}とも伝えた。",
                "published_at": f"{year}-{month:02d}-{1 + i % 27:02d}T12:00:00+09:00",
            }
        )
    for i in range(24):
        year, month = 2009 + i % 4, 1 + (i * 7) % 12
        records.append(
            {
                "title": f"鉄道の記事{i}",
                "body": f"鉄道の新線{i}が開業した。京都や東京都内を結ぶ。",
                "published_at": f"{year}-{month:02d}-15T12:00:00+09:00",
            }
        )
    for i, record in enumerate(records):
        record["url"] = f"https://desk-browser.example/{i}"
    return records


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("desk-browser")
    with make_archive(home) as archive:
        summary = import_into(archive, write_jsonl(home / "desk.jsonl", desk_articles()))
        assert summary.ok, summary
    with served(home, home / "serve.log", timeout=90) as url:
        yield url


def _open(chromium: Browser, url: str, width: int) -> Iterator[Page]:
    options = {"viewport": {"width": width, "height": 900 if width > 500 else 844}}
    if width < 500:
        options.update(is_mobile=True, has_touch=True)
    context = chromium.new_context(base_url=url, locale="ja-JP", accept_downloads=True, **options)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def wide(browser: Browser, desk_url: str) -> Iterator[Page]:  # noqa: F811
    yield from _open(browser, desk_url, 1280)


@pytest.fixture
def phone(browser: Browser, desk_url: str) -> Iterator[Page]:  # noqa: F811
    yield from _open(browser, desk_url, 390)


def text_height(page: Page, selector: str) -> float:
    """The rendered height of the first visible text of ``selector``, in CSS pixels."""
    return page.locator(selector).first.bounding_box()["height"]


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width


def test_a_year_bar_zooms_the_timeline_into_its_months(
    wide: Page,
    phone: Page,
    screenshots: Path,  # noqa: F811
) -> None:
    wide.goto("/?q=鉄道")  # 2000, then 2009 to 2012: drawn by year
    caption = wide.locator("#timeline-caption")
    expect(caption).to_contain_text("年ごとの件数")
    chart = wide.locator("figure.timeline svg.wide")
    expect(chart).to_be_visible()
    expect(wide.locator("figure.timeline svg.narrow")).to_be_hidden()
    # The empty years between 2000 and 2009 are one narrow gap, not eight bars' width.
    labels = chart.locator("a").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert [label.split(":")[0] for label in labels] == [
        "2000年",
        "2009年",
        "2010年",
        "2011年",
        "2012年",
    ]
    expect(chart.locator("g.gap title")).to_have_text(["2001年〜2008年: 0件"])
    expect(chart.locator("text.count").first).to_be_visible()  # counts over the bars
    expect(chart.locator("text.y")).not_to_have_count(0)  # and an axis in counts
    shoot(wide, screenshots, "timeline-years")

    year = chart.locator('a[aria-label^="2011年:"]')
    in_year = int(re.search(r": (\d+)件", year.get_attribute("aria-label")).group(1))
    with wide.expect_navigation():
        year.click()
    query = parse_qs(urlsplit(wide.url).query)
    assert query["from"] == ["2011-01-01"] and query["to"] == ["2011-12-31"]
    expect(caption).to_contain_text("2011年の月ごとの件数")
    bars = chart.locator("a")
    counts = bars.evaluate_all(
        "els => els.map(e => +e.getAttribute('aria-label').match(/: (\\d+)件/)[1])"
    )
    assert sum(counts) == in_year and all(
        label.startswith("2011年")
        for label in bars.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    )
    # The year is chosen: no single month (bar or facet link) claims to be current.
    expect(wide.locator("figure.timeline svg.wide [aria-current]")).to_have_count(0)
    expect(wide.locator("#facet-month ~ details a[aria-current=true]")).to_have_text(
        ["2011年のすべて"]
    )
    shoot(wide, screenshots, "timeline-zoomed")

    # A month bar of the zoomed chart narrows to that month, and it alone is current.
    with wide.expect_navigation():
        bars.first.click()
    expect(wide.locator("figure.timeline svg.wide [aria-current=true]")).to_have_count(1)

    phone.goto("/?q=鉄道&from=2011-01-01&to=2011-12-31")
    expect(phone.locator("figure.timeline svg.narrow")).to_be_visible()
    expect(phone.locator("figure.timeline svg.wide")).to_be_hidden()
    assert text_height(phone, "figure.timeline svg.narrow text.tick") >= 10
    fits_the_screen(phone)
    shoot(phone, screenshots, "timeline-zoomed-phone")


def test_the_attention_chart_draws_axes_counts_and_downloads_its_csv(
    wide: Page,
    phone: Page,
    screenshots: Path,  # noqa: F811
) -> None:
    wide.goto("/?q=空港")
    with wide.expect_navigation():
        wide.get_by_role("link", name=re.compile("注目度を比べる")).click()
    assert parse_qs(urlsplit(wide.url).query)["q"] == ["空港"]
    wide.locator("input[name=q]").nth(1).fill("鉄道")
    wide.locator("select[name=unit]").select_option("month")
    with wide.expect_navigation():
        wide.get_by_role("button", name="グラフを描く").click()
    chart = wide.locator("figure.attention-chart svg.wide")
    expect(chart).to_be_visible()
    expect(chart.locator("line.axis")).to_have_count(2)
    expect(chart.locator("text.y")).not_to_have_count(0)
    expect(chart.locator("text.x")).not_to_have_count(0)
    expect(chart.locator("text.peak")).to_have_count(2)  # each series' highest count
    expect(chart.locator("path.line")).to_have_count(2)
    expect(wide.locator("ul.legend li")).to_have_count(2)
    expect(wide.locator("ul.legend")).to_contain_text(f"{AIRPORT_ARTICLES}件")
    assert chart.get_attribute("role") == "img" and chart.locator("title").count() >= 1
    shoot(wide, screenshots, "attention")

    with wide.expect_download() as download:
        wide.get_by_role("link", name="CSVでダウンロード").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["period_start"] == "2000-04-01"  # 鉄道 of 2000 starts the range
    assert sum(int(r["空港"]) for r in rows) == AIRPORT_ARTICLES
    assert sum(int(r["鉄道"]) for r in rows) == 24 + 3

    wide.locator("details.data-table summary").click()
    expect(wide.locator("details.data-table tbody tr")).to_have_count(len(rows))

    phone.goto("/attention?q=空港&q=鉄道&per=1000")
    narrow = phone.locator("figure.attention-chart svg.narrow")
    expect(narrow).to_be_visible()
    expect(phone.locator("figure.attention-chart svg.wide")).to_be_hidden()
    assert text_height(phone, "figure.attention-chart svg.narrow text.x") >= 10
    fits_the_screen(phone)
    shoot(phone, screenshots, "attention-phone")


def lines_of(page: Page, part: str) -> list[str]:
    return page.locator(f"ol.kwic li .{part}").all_inner_texts()


def test_kwic_sorts_by_left_and_right_context_pages_and_exports(
    wide: Page,
    phone: Page,
    screenshots: Path,  # noqa: F811
) -> None:
    wide.goto("/?q=空港")
    with wide.expect_navigation():
        wide.get_by_role("link", name=re.compile("KWIC")).click()
    expect(wide.locator("#kwic-summary")).to_contain_text(
        f"{AIRPORT_ARTICLES}件の記事に{2 * AIRPORT_ARTICLES}箇所"
    )
    expect(wide.locator("ol.kwic li")).to_have_count(50)
    expect(wide.locator("ol.kwic .keyword mark")).to_have_text(["空港"] * 50)
    in_articles = lines_of(wide, "right")

    with wide.expect_navigation():
        wide.get_by_role("link", name="右の文脈順").click()
    rights = lines_of(wide, "right")
    assert rights == sorted(rights) and rights != in_articles
    shoot(wide, screenshots, "kwic-right")

    with wide.expect_navigation():
        wide.get_by_role("link", name="左の文脈順").click()
    lefts = lines_of(wide, "left")
    assert lefts == sorted(lefts, key=lambda s: s[::-1])
    assert lines_of(wide, "right") != rights  # another order

    with wide.expect_navigation():
        wide.locator("nav.pages a[rel=next]").click()
    expect(wide.locator("ol.kwic li")).to_have_count(2 * AIRPORT_ARTICLES - 50)
    later = lines_of(wide, "left")
    assert sorted([lefts[-1], later[0]], key=lambda s: s[::-1]) == [lefts[-1], later[0]]
    assert "sort=left" in wide.url and "page=2" in wide.url

    with wide.expect_download() as download:
        wide.get_by_role("link", name="TSVでダウンロード").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8-sig").strip().split("\n")
    assert len(rows) == 1 + 2 * AIRPORT_ARTICLES  # every line, not one page
    exported = [r.rstrip("\r").split("\t")[4] for r in rows[1:]]
    assert exported == sorted(exported, key=lambda s: s[::-1])

    # A line's keyword opens its article, the word marked there.
    with wide.expect_navigation():
        wide.locator("ol.kwic .keyword").first.click()
    expect(wide.locator(".body mark").first).to_have_text("空港")

    phone.goto("/kwic?q=空港&sort=right")
    expect(phone.locator("ol.kwic li")).to_have_count(50)
    fits_the_screen(phone)
    keyword_x = phone.locator("ol.kwic .keyword").evaluate_all(
        "els => els.slice(0, 10).map(e => Math.round(e.getBoundingClientRect().left))"
    )
    assert len(set(keyword_x)) == 1  # the keywords stand in one column
    shoot(phone, screenshots, "kwic-phone")
