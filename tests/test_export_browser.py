"""Real-browser test of the export links: Chromium clicks them and the files hold the total.

The app runs as ``python -m archive serve`` over the sample archive; the links
on a results page are clicked as a reader clicks them, and each downloaded
file has one row for every article of the total the page shows.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from .test_browser import browser, server_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser, server_url: str) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=server_url, locale="ja-JP", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


@pytest.mark.parametrize(
    ("query", "link", "read", "suffix"),
    [
        ("リチウム", "CSV", read_csv, ".csv"),  # a story of three: the total counts each copy
        ("リチウム", "JSON Lines", read_jsonl, ".jsonl"),
        ("観光", "CSV", read_csv, ".csv"),
    ],
)
def test_the_export_links_download_every_article_of_the_total(
    page: Page, query, link, read, suffix
):
    page.goto("/")
    page.fill("input[name=q]", query)
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    summary = page.locator("#summary").inner_text()
    shown = re.search(r"記事は全(\d+)件", summary) or re.search(r"(\d+)件中", summary)
    assert shown, summary
    total = int(shown.group(1))
    export = page.locator("p.export")
    assert f"全{total}件" in export.inner_text()
    with page.expect_download() as info:
        export.get_by_role("link", name=link, exact=True).click()
    download = info.value
    assert download.suggested_filename.endswith(suffix)
    assert query in download.suggested_filename  # named for the search (RFC 5987)
    rows = read(Path(download.path()).read_bytes())
    assert len(rows) == total > 0
    assert len({int(row["id"]) for row in rows}) == total
