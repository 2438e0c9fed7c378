"""Saved HTML article pages read from real files into articles."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest

from indexer.errors import ReadError
from indexer.readers import FORMATS, detect_format
from indexer.readers.dates import TOKYO
from indexer.readers.decoding import declared_charset
from indexer.readers.drafts import ArticleDraft
from indexer.readers.html import json_ld_metadata, meta_metadata

from .conftest import FIXTURES, import_into, read_errors, read_one

HTML = FIXTURES / "html"

NO_TEXT = "HTMLページに記事の本文が見つかりません"

# What no page's body may keep: navigation, sidebars, footers, ads, comments.
BOILERPLATE = {
    "news_jsonld.html": [
        "有料会員",
        "天気予報",
        "みなと証券",
        "英会話",
        "Xでポスト",
        "関連記事",
        "給食費",
        "アクセスランキング",
        "みなと銀行",
        "メールマガジン",
        "プライバシーポリシー",
        "無断転載",
        "All Rights Reserved",
    ],
    "og_only.html": [
        "記事を検索",
        "おくやみ",
        "電子版",
        "この記事をシェアする",
        "温泉宿",
        "コメント",
        "毎年楽しみにしています",
        "ジンギスカン",
        "人気の記事",
        "路線バス",
        "最高気温",
        "広告掲載",
        "Copyright",
    ],
    "shift_jis.html": [
        "北信濃の地域情報サイト",
        "掲示板",
        "北信ホーム",
        "掲載日",
        "関連リンク",
        "秋の収穫祭",
        "そば打ち",
        "相互リンク",
        "無断転載",
        "Copyright",
    ],
    "euc_jp.html": [
        "週末ごとに鎌倉の寺を訪ね歩いた記録です",
        "過去の日記一覧",
        "スポンサーリンク",
        "レンタカー",
        "トラックバック",
        "師走の長谷寺",
        "訪問者",
        "Copyright",
    ],
}


def only_error(path: Path) -> ReadError:
    [error] = read_errors(path)
    return error


@pytest.mark.parametrize("name", sorted(BOILERPLATE))
def test_no_boilerplate_reaches_the_body(name):
    article = read_one(HTML / name)
    leaked = [text for text in BOILERPLATE[name] if text in article.body]
    assert leaked == [], article.body
    assert article.title not in article.body.split("\n")
    assert article.source_format == "html"
    assert article.source_path == str(HTML / name)


class TestNewsWithJsonLd:
    @pytest.fixture(scope="class")
    def article(self) -> ArticleDraft:
        return read_one(HTML / "news_jsonld.html")

    def test_title_is_the_json_ld_headline(self, article):
        # og:title and <title> carry the site's name; the headline does not.
        assert article.title == "小学校の国語、デジタル教科書にふりがな機能　全校で導入へ"

    def test_url_is_the_canonical_link(self, article):
        # og:url has a tracking parameter; the canonical link has none.
        assert (
            article.url == "https://www.minato-nippo.example/articles/2025/01/20/furigana-textbook"
        )
        assert article.site == "minato-nippo.example"

    def test_author_is_the_json_ld_person(self, article):
        # article:author is a Facebook URL, not a name.
        assert article.author == "佐藤 美咲"

    def test_published_at_is_an_exact_aware_datetime(self, article):
        assert article.published_at == datetime(2025, 1, 20, 10, tzinfo=TOKYO)
        assert article.published_at.utcoffset().total_seconds() == 9 * 3600

    def test_category_and_tags(self, article):
        assert article.category == "教育"
        assert article.tags == ("デジタル教科書", "ふりがな", "小学校", "国語")

    def test_body_is_the_article_paragraphs_in_order(self, article):
        paragraphs = article.body.split("\n")
        assert len(paragraphs) == 5
        assert paragraphs[0].startswith(
            "東京都内の区立小学校では、この春から国語のデジタル教科書に"
        )
        assert paragraphs[4].endswith("現場の先生と一緒に考えていく」と話している。")

    def test_ruby_readings_are_dropped_and_the_base_text_kept_whole(self, article):
        assert "子どもたちが漢字の読み書きでつまずいた" in article.body
        assert article.body.startswith("東京都内の")
        assert "かん" not in article.body
        assert "とうきょう" not in article.body
        assert "(" not in article.body


class TestOpenGraphOnly:
    @pytest.fixture(scope="class")
    def article(self) -> ArticleDraft:
        return read_one(HTML / "og_only.html")

    def test_metadata_comes_from_open_graph(self, article):
        assert article.title == "旭川で冬まつり開幕、巨大な氷の彫刻に歓声"
        assert article.url == "https://news.hokuto-times.example/local/20250305-ice-festival"
        assert article.site == "news.hokuto-times.example"
        assert article.author == "高橋 健一"
        assert article.category == "地域"
        assert article.tags == ("旭川", "冬まつり")

    def test_utc_publication_time_is_the_same_moment(self, article):
        assert article.published_at == datetime(2025, 3, 5, 18, 45, tzinfo=TOKYO)

    def test_body_leaves_out_the_headline_and_the_sponsored_box(self, article):
        paragraphs = article.body.split("\n")
        assert len(paragraphs) == 4
        assert paragraphs[0].startswith("旭川市の冬の恒例行事「旭川冬まつり」が五日")
        assert paragraphs[3].endswith("最終日には花火の打ち上げも予定されている。")


class TestLegacyEncodings:
    def test_shift_jis_page(self):
        path = HTML / "shift_jis.html"
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
        assert declared_charset(path.read_bytes()) == "shift_jis"
        article = read_one(path)
        # No JSON-LD or Open Graph: title and date are trafilatura's, from <h1> and <time>.
        assert article.title == "信州りんご、収穫が最盛期に 髙橋農園で「ふじ」の摘み取り"
        assert article.url == "http://www.yamabiko-tsushin.example/news/2024/1103.html"
        assert article.site == "yamabiko-tsushin.example"
        assert article.author == "髙橋 恵子"
        assert article.published_at == datetime(2024, 11, 3, 8, 15, tzinfo=TOKYO)
        assert (article.category, article.tags) == (None, ())
        # Windows' Shift_JIS characters (髙, ①) come through, not as mojibake.
        assert "①早朝に実を摘み取る、②選果場で大きさと色をそろえる、③その日のうちに" in article.body
        assert "園主の髙橋恵子さんは「糖度も例年並みに上がり" in article.body
        assert len(article.body.split("\n")) == 4
        assert "\ufffd" not in article.body

    def test_euc_jp_page_with_http_equiv(self):
        path = HTML / "euc_jp.html"
        assert declared_charset(path.read_bytes()) == "euc-jp"
        article = read_one(path)
        assert article.title == "冬の円覚寺を歩く"
        assert (article.url, article.site, article.author) == (None, None, None)
        assert (article.category, article.tags) == (None, ())
        paragraphs = article.body.split("\n")
        assert len(paragraphs) == 4
        assert paragraphs[0].startswith("朝早く北鎌倉の駅を降りると、線路のすぐ脇に円覚寺の総門へ")
        assert "国宝の舎利殿" in paragraphs[1]

    def test_no_date_is_invented_from_visible_text_or_the_copyright_line(self):
        # The page shows "2024年12月24日（火）" and "© 2003-2024", but no date in its markup.
        assert read_one(HTML / "euc_jp.html").published_at is None

    def test_iso_2022_jp_declaration_is_honoured(self, tmp_path):
        # Plain ASCII bytes, which would pass as UTF-8 escape sequences without the declaration.
        text = (HTML / "euc_jp.html").read_bytes().decode("euc_jp")
        path = tmp_path / "iso2022.html"
        path.write_bytes(text.replace("EUC-JP", "ISO-2022-JP").encode("iso2022_jp"))
        assert read_one(path).body == read_one(HTML / "euc_jp.html").body

    def test_utf8_page_keeping_an_old_shift_jis_declaration(self, tmp_path):
        text = (HTML / "shift_jis.html").read_bytes().decode("cp932")
        path = tmp_path / "resaved.html"
        path.write_text(text, encoding="utf-8")
        assert read_one(path).body == read_one(HTML / "shift_jis.html").body

    def test_bytes_in_no_encoding_are_an_error(self, tmp_path):
        path = tmp_path / "garbage.html"
        path.write_bytes(
            b'<html><head><meta charset="utf-8"></head><body><p>' + bytes(range(0x80, 0x100)) * 3
        )
        error = only_error(path)
        assert str(path) in str(error)
        assert "いずれとしても読めません" in error.reason


class TestErrors:
    def test_page_with_only_navigation_names_the_file(self):
        path = HTML / "empty_body.html"
        error = only_error(path)
        assert error.reason == NO_TEXT
        assert error.path == str(path)
        assert str(path) in str(error)

    def test_empty_page(self, tmp_path):
        path = tmp_path / "empty.html"
        path.write_bytes(b"  \n")
        assert only_error(path).reason == "空のファイルです"


LEAD = "市の教育委員会は二十日、市内の公立図書館で古い郷土資料の電子化を始めると発表した。"
PARAGRAPHS = [
    "対象となるのは、明治から昭和初期にかけての地図や行政文書、地元の新聞など約三万点で、"
    "傷みが進んでいるものから順に撮影し、五年かけてインターネットで公開する計画だ。",
    "図書館では、紙が劣化して手に取ることができなくなった資料が年々増えており、"
    "研究者や郷土史の愛好家から、早く見られるようにしてほしいという要望が寄せられていた。",
    "担当者は「資料そのものを守りながら、多くの人に地域の歴史に触れてもらいたい。"
    "学校の授業でも使えるよう、分かりやすい解説もつけていく」と話している。",
]


def write_page(path: Path, head: str = "", first_paragraph: str = LEAD, heading: str = "") -> Path:
    paragraphs = heading + "".join(f"<p>{p}</p>\n" for p in [first_paragraph, *PARAGRAPHS])
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">{head}</head>\n'
        f'<body><nav><a href="/">ホーム</a> <a href="/news/">ニュース</a></nav>\n'
        f"<main><article>{paragraphs}</article></main>\n"
        "<footer><p>&copy; 2025 郷土新聞社</p></footer></body></html>\n",
        encoding="utf-8",
    )
    return path


class TestPagesInTheWild:
    def test_a_date_inside_a_sentence_is_kept(self, tmp_path):
        # trafilatura drops every <time> element, and the words with it.
        lead = '市の教育委員会は<time datetime="2025-01-20">1月20日</time>、電子化を発表した。'
        article = read_one(write_page(tmp_path / "time.html", first_paragraph=lead))
        assert article.body.startswith("市の教育委員会は1月20日、電子化を発表した。")

    def test_sponsored_boxes_are_pruned(self, tmp_path):
        lead = LEAD + '</p><div class="sponsored"><p>PR 英会話スクールの無料体験レッスン受付中'
        article = read_one(write_page(tmp_path / "ad.html", first_paragraph=lead))
        assert "英会話" not in article.body
        assert article.body.startswith(LEAD)

    def test_ruby_readings_stay_out_of_a_headline_title(self, tmp_path):
        # trafilatura's own title, from the <h1>, would be "郷土(きょうど)資し料りょうを守る".
        heading = (
            "<h1><ruby>郷土<rp>(</rp><rt>きょうど</rt><rp>)</rp></ruby>"
            "<ruby>資<rt>し</rt>料<rt>りょう</rt></ruby>を守る</h1>"
        )
        article = read_one(write_page(tmp_path / "ruby.html", heading=heading))
        assert article.title == "郷土資料を守る"
        assert article.body.startswith(LEAD)

    def test_page_without_any_title_takes_the_first_line(self, tmp_path):
        article = read_one(write_page(tmp_path / "untitled.html"))
        assert article.title == LEAD
        assert article.body.startswith(LEAD)
        assert article.published_at is None

    def test_relative_canonical_link_is_made_absolute(self, tmp_path):
        head = (
            '<link rel="canonical" href="/news/2025/archive-scan">'
            '<meta property="og:url" content="https://kyodo-np.example/news/2025/archive-scan?amp=1">'
        )
        article = read_one(write_page(tmp_path / "rel.html", head))
        assert article.url == "https://kyodo-np.example/news/2025/archive-scan"
        assert article.site == "kyodo-np.example"

    def test_json_ld_wins_over_open_graph_field_by_field(self, tmp_path):
        head = (
            '<meta property="og:title" content="郷土資料を電子化 | 郷土新聞">'
            '<meta property="article:published_time" content="2025-01-20T09:00:00+09:00">'
            '<meta property="article:section" content="地域">'
            '<script type="application/ld+json">'
            '{"@type": "Article", "headline": "郷土資料を電子化、五年で三万点",'
            ' "datePublished": "2025-01-20T07:30:00+09:00"}</script>'
        )
        article = read_one(write_page(tmp_path / "both.html", head))
        assert article.title == "郷土資料を電子化、五年で三万点"
        assert article.published_at == datetime(2025, 1, 20, 7, 30, tzinfo=TOKYO)
        assert article.category == "地域"


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{html}</head><body></body></html>")


def ld(*blocks: str) -> str:
    return "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)


class TestJsonLdShapes:
    def test_article_in_a_list_with_several_authors(self):
        meta = json_ld_metadata(
            parse(
                ld(
                    '[{"@type": "Organization", "name": "郷土新聞社"},'
                    ' {"@type": ["NewsArticle"], "headline": "見出し &amp; 副題",'
                    '  "author": ["山田 太郎", {"@type": "Person", "name": "鈴木 花子"}],'
                    '  "mainEntityOfPage": "https://kyodo-np.example/a/1",'
                    '  "articleSection": ["地域", "文化"],'
                    '  "keywords": ["郷土資料", "図書館,電子化"]}]'
                )
            )
        )
        assert meta.title == "見出し & 副題"
        assert meta.author == "山田 太郎、鈴木 花子"
        assert meta.url == "https://kyodo-np.example/a/1"
        assert meta.category == "地域"
        assert meta.tags == ("郷土資料", "図書館", "電子化")

    def test_graph_with_references_by_id(self):
        meta = json_ld_metadata(
            parse(
                ld(
                    '{"@context": "https://schema.org", "@graph": ['
                    ' {"@type": "WebPage", "@id": "https://blog.example/p/1#page"},'
                    ' {"@type": "https://schema.org/BlogPosting", "headline": "冬の鎌倉",'
                    '  "author": {"@id": "https://blog.example/#/person/1"},'
                    '  "publisher": {"@id": "https://blog.example/#org"},'
                    '  "mainEntityOfPage": {"@id": "https://blog.example/p/1"},'
                    '  "keywords": "寺社、散歩"},'
                    ' {"@type": "Person", "@id": "https://blog.example/#/person/1", "name": "古寺 好子"},'
                    ' {"@type": "Organization", "@id": "https://blog.example/#org", "name": "古寺ブログ"}]}'
                )
            )
        )
        assert meta.title == "冬の鎌倉"
        assert meta.author == "古寺 好子"
        assert meta.site_name == "古寺ブログ"
        assert meta.url == "https://blog.example/p/1"
        assert meta.tags == ("寺社", "散歩")

    def test_broken_blocks_and_other_types_are_skipped(self):
        meta = json_ld_metadata(
            parse(
                ld(
                    "{not json",
                    '{"@type": "BreadcrumbList", "name": "パンくず"}',
                    '{"@type": "WebPage", "mainEntity": {"@type": "ReportageNewsArticle",'
                    ' "headline": "現地報告", "datePublished": "2025-02-01T12:00:00+09:00"}}',
                )
            )
        )
        assert (meta.title, meta.published) == ("現地報告", "2025-02-01T12:00:00+09:00")

    def test_page_without_json_ld(self):
        assert json_ld_metadata(parse("<title>t</title>")).title is None

    def test_author_urls_are_not_names(self):
        meta = meta_metadata(
            parse(
                '<meta property="article:author" content="https://www.facebook.com/kyodo">'
                '<meta name="author" content="田中 一郎">'
            )
        )
        assert meta.author == "田中 一郎"


class TestDetection:
    def test_html_is_a_format(self):
        assert "html" in FORMATS

    @pytest.mark.parametrize("name", ["page.html", "page.htm", "PAGE.HTML"])
    def test_detected_by_suffix(self, tmp_path, name):
        path = tmp_path / name
        shutil.copy(HTML / "og_only.html", path)
        assert detect_format(path) == "html"
        assert read_one(path).source_format == "html"

    def test_forced_format_reads_any_file_as_html(self, tmp_path):
        path = tmp_path / "saved-page.txt"
        shutil.copy(HTML / "og_only.html", path)
        assert read_one(path).source_format == "text"
        article = read_one(path, "html")
        assert article.source_format == "html"
        assert article.title == "旭川で冬まつり開幕、巨大な氷の彫刻に歓声"


def test_a_folder_of_pages_is_imported_and_searchable(archive, tmp_path):
    folder = tmp_path / "saved-pages"
    shutil.copytree(HTML, folder)
    summary = import_into(archive, folder)
    assert summary.added == 4
    assert [str(e) for e in summary.failed] == [f"{folder / 'empty_body.html'}: {NO_TEXT}"]
    assert summary.skipped == []
    assert archive.search("舎利殿").total == 1
    assert archive.search("氷の彫刻").total == 1
    assert archive.search("漢字の読み書き").total == 1
    assert archive.search("選果場").total == 1
