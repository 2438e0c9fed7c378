"""Real Chromium against a private archive: log in, save a page of another site with the
bookmarklet, find it, tag it, delete it.

The archive runs as ``python -m archive serve --private`` on 127.0.0.1; the "news
site" is a second server on ``localhost`` (another origin, and another site), so
the bookmarklet's popup and postMessage cross origins as they do on the web.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import import_into, make_archive, served, write_jsonl
from .test_browser import browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
NEWS_TITLE = "港の新しい灯台が点灯"
NEWS_PAGE = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>{NEWS_TITLE} - みなと新聞</title>
<meta property="og:title" content="{NEWS_TITLE}">
</head><body><header>みなと新聞</header><article><h1>{NEWS_TITLE}</h1>
<p>港の入り口に建てられた新しい灯台が、きのうの夜はじめて点灯した。</p>
<p>灯台守の協会によると、光は二十キロ先の沖合からも見えるという。</p>
<p>記念の式典には地元の小学生も招かれ、点灯の合図を送った。</p>
</article><footer>© みなと新聞</footer></body></html>"""


@pytest.fixture(scope="module")
def team_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("team-home")
    seed = write_jsonl(
        home.parent / "team-seed.jsonl",
        [{"title": "京都の寺で紅葉が見頃に", "body": "京都の寺院で紅葉が見頃を迎えた。"}],
    )
    with make_archive(home) as archive:
        assert import_into(archive, seed).ok
        archive.add_user("editor", PASSWORD, "editor")
    return home


@pytest.fixture(scope="module")
def archive_url(team_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("team-server") / "serve.log"
    with served(team_home, log, "--private") as url:
        yield url


@pytest.fixture(scope="module")
def news_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another site: a static news page served on localhost (not 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("news-site")
    (folder / "lighthouse.html").write_text(NEWS_PAGE, encoding="utf-8")
    (folder / "impostor.html").write_text(NEWS_PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def page(browser: Browser, archive_url: str) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=archive_url, locale="ja-JP")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def log_in(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text("ログイン")  # a private archive sends one here
    page.fill("input[name=name]", "editor")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="ログイン").click()
    expect(page.locator("nav.account .who")).to_have_text("editor")


def bookmarklet(page: Page) -> str:
    page.goto("/upload")
    link = page.get_by_role("link", name="アーカイブに保存")
    href = link.get_attribute("href")
    assert href and href.startswith("javascript:")
    return href.removeprefix("javascript:")


def test_log_in_save_with_the_bookmarklet_find_tag_and_delete(page: Page, news_url: str) -> None:
    log_in(page)
    code = bookmarklet(page)

    # On the news site, the bookmarklet opens the archive's popup and hands it the page.
    page.goto(f"{news_url}/lighthouse.html")
    with page.context.expect_page() as opened:
        page.evaluate(code)
    popup = opened.value
    popup.wait_for_load_state()
    expect(popup.locator("#save-title")).to_have_text(f"{NEWS_TITLE} - みなと新聞")
    expect(popup.locator("#save-address")).to_have_text(f"{news_url}/lighthouse.html")
    popup.get_by_role("button", name="保存").click()
    expect(popup.locator("section.added h2")).to_contain_text("追加 1件")
    expect(popup.locator("section.added a")).to_have_text(NEWS_TITLE)
    popup.close()

    # Found by a word of its body.
    page.goto("/?q=灯台")
    hit = page.locator("ol.hits > li.hit h2 > a")
    expect(hit).to_have_text(NEWS_TITLE)
    with page.expect_navigation():
        hit.click()
    expect(page.locator("dl.metadata a[href^='http']")).to_have_text(f"{news_url}/lighthouse.html")
    expect(page.locator("section.history")).to_contain_text("editor: 追加")

    # Tagged: the tag shows, and filters the search.
    with page.expect_navigation():
        page.get_by_role("link", name="編集").click()
    page.fill("input[name=tags]", "灯台、港")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator("dl.metadata")).to_contain_text("灯台、港")
    expect(page.locator("section.history")).to_contain_text("editor: 編集（tags）")
    page.goto("/?tag=" + "港")
    expect(page.locator("ol.hits > li.hit h2 > a")).to_have_text([NEWS_TITLE])

    # Deleted, after asking.
    page.goto("/?q=灯台")
    with page.expect_navigation():
        page.locator("ol.hits > li.hit h2 > a").click()
    with page.expect_navigation():
        page.get_by_role("link", name="削除").click()
    expect(page.locator("h1")).to_have_text("記事を削除しますか？")
    with page.expect_navigation():
        page.get_by_role("button", name="削除する").click()
    expect(page.locator(".flash")).to_contain_text(f"記事「{NEWS_TITLE}」を削除しました")
    page.goto("/?q=灯台")
    expect(page.locator("#summary")).to_contain_text("0件")


def test_a_page_passing_itself_off_as_another_site_is_not_saved(page: Page, news_url: str) -> None:
    log_in(page)
    code = bookmarklet(page).replace("url:location.href", "url:'https://kinki-times.example/kix'")
    page.goto(f"{news_url}/impostor.html")
    with page.context.expect_page() as opened:
        page.evaluate(code)
    popup = opened.value
    popup.wait_for_load_state()
    expect(popup.locator("#save-refused")).to_contain_text("別のアドレス")
    expect(popup.locator("#save-form")).to_be_hidden()


def test_the_upload_page_sends_several_files_and_shows_each_result(
    page: Page, tmp_path: Path
) -> None:
    log_in(page)
    good = tmp_path / "kaze.txt"
    good.write_text(
        "強い風で船が欠航\n強い風のため、きょうの船はすべて欠航となった。", encoding="utf-8"
    )
    lines = tmp_path / "two.jsonl"
    lines.write_text(
        '{"title": "雪まつりの準備", "body": "雪まつりの会場で像づくりが始まった。"}\n{"title": 3}\n',
        encoding="utf-8",
    )
    page.goto("/upload")
    page.set_input_files("input[name=files]", [str(good), str(lines)])
    page.get_by_role("button", name="取り込む").click()
    expect(page.locator("#upload-count")).to_have_text("2 / 2 ファイル 完了")
    assert page.locator("#upload-bar").evaluate("bar => bar.value") == 1
    results = page.locator("#upload-results li")
    expect(results).to_have_count(3)
    expect(results.filter(has_text="強い風で船が欠航")).to_contain_text("追加")
    expect(results.filter(has_text="雪まつりの準備")).to_contain_text("追加")
    expect(results.filter(has_text="two.jsonl:2")).to_contain_text("失敗")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.screenshot(path="/tmp/archive-upload.png", full_page=True)
