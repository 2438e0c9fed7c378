"""Each input format read from real files into articles."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from indexer.errors import ReadError
from indexer.readers import read_file
from indexer.readers.dates import TOKYO
from indexer.readers.drafts import ArticleDraft

from .conftest import (
    FIXTURES,
    LIVEDOOR,
    SAMPLE,
    needs_livedoor,
    read_errors,
    read_one,
    write_jsonl,
)

# A run of spaces long enough that a pattern splitting it two ways would take minutes.
SPACES = " " * 100_000


class TestPlainTextPage:
    @pytest.fixture(scope="class")
    def article(self) -> ArticleDraft:
        return read_one(FIXTURES / "clo_article.txt")

    def test_title_is_the_leads_first_sentence_without_the_agency_tag(self, article):
        assert article.title == "中国の新興企業DeepSeekは、米国のAI業界に大きな衝撃を与えています"

    def test_agency_tag_is_metadata(self, article):
        assert article.agency == "CLO"
        assert "(CLO)" not in article.body

    def test_url_and_site_come_from_the_source_line(self, article):
        assert article.url == "https://www.congluan.vn/deepseek-gay-chan-dong-post332892.html"
        assert article.site == "congluan.vn"
        assert "出典" not in article.body

    def test_credit_and_its_sources(self, article):
        assert article.author == "カオフォン"
        assert article.credit_sources == ("SCMP", "ロイター", "NYT")
        assert "カオフォン" not in article.body

    def test_captions_are_kept_apart_from_the_body(self, article):
        assert article.captions == (
            "米中間のAI競争は一段と激しさを増している。(イメージ画像:AI)",
            "DeepSeek社の創業者、梁文鋒氏。写真:Weibo",
        )
        assert "イメージ画像" not in article.body
        assert "写真:Weibo" not in article.body

    def test_ads_and_page_debris_are_dropped(self, article):
        assert "広告" not in article.body
        assert "コメント" not in article.body

    def test_body_keeps_every_paragraph_in_order(self, article):
        paragraphs = article.body.split("\n")
        assert len(paragraphs) == 4
        assert paragraphs[0].startswith("中国の新興企業DeepSeekは")
        assert "半導体関連の銘柄" in paragraphs[2]

    def test_no_date_is_invented(self, article):
        assert article.published_at is None
        assert article.source_format == "text"

    def test_page_with_only_debris_is_an_error_naming_the_file(self, tmp_path):
        path = tmp_path / "debris.txt"
        path.write_text("[広告1]\nコメント (3)\n", encoding="utf-8")
        [error] = read_errors(path)
        assert str(path) in str(error)
        assert "記事の本文がありません" in error.reason

    @pytest.mark.parametrize(
        "line",
        [
            f"[広告{SPACES}x",
            f"名前({SPACES}x",
            f"名前(SCMP{SPACES}x",
            f"a{' ' * 50}({SPACES}x",
            f"名前(SCMP{SPACES}{SPACES}、ロイター{SPACES}による){SPACES}x",
        ],
        ids=lambda line: " ".join(line.split())[:30],
    )
    def test_a_line_of_spaces_is_read_in_linear_time(self, tmp_path, line):
        path = tmp_path / "spaces.txt"
        path.write_text(f"記事の本文です。\n{line}\n", encoding="utf-8")
        started = time.perf_counter()
        article = read_one(path)
        assert time.perf_counter() - started < 1.0
        assert article.title == "記事の本文です"

    def test_a_credit_with_spaced_out_sources(self, tmp_path):
        path = tmp_path / "credit.txt"
        path.write_text("記事の本文です。\n名前 ( SCMP 、 ロイター  による )\n", encoding="utf-8")
        article = read_one(path)
        assert (article.author, article.credit_sources) == ("名前", ("SCMP", "ロイター"))


class TestLivedoor:
    def test_sample_file(self):
        article = read_one(SAMPLE / "livedoor" / "kix-terminal.txt")
        assert article.title == "関西国際空港の新国際線エリアが完成、出国手続きの待ち時間短縮へ"
        assert article.url == "https://news.ldnews.example/article/27345601/"
        assert article.site == "news.ldnews.example"
        assert article.published_at == datetime(2025, 3, 14, 9, 30, tzinfo=TOKYO)
        assert article.body.startswith("関西国際空港で、第1ターミナル")
        assert article.source_format == "livedoor"
        assert article.category is None  # sample/livedoor is no corpus category

    @needs_livedoor
    def test_real_corpus_file(self):
        article = read_one(LIVEDOOR / "dokujo-tsushin" / "dokujo-tsushin-4778030.txt")
        assert article.title == "友人代表のスピーチ、独女はどうこなしている？"
        assert article.category == "dokujo-tsushin"  # the corpus's folder
        assert article.url == "http://news.livedoor.com/article/detail/4778030/"
        assert article.published_at == datetime(2010, 5, 22, 14, 30, tzinfo=TOKYO)
        assert article.published_at.utcoffset().total_seconds() == 9 * 3600
        assert article.body.startswith("もうすぐジューン・ブライド")

    @pytest.mark.parametrize(
        ("folder", "name", "category"),
        [
            ("sports-watch", "sports-watch-4764756.txt", "sports-watch"),
            ("smax", "smax-6507397.txt", "smax"),
            ("livedoor", "kix-terminal.txt", None),  # not named after its folder
            ("downloads", "smax-6507397.txt", None),
        ],
    )
    def test_the_corpus_folder_is_the_category(self, tmp_path, folder, name, category):
        path = tmp_path / folder / name
        path.parent.mkdir()
        path.write_text(
            "http://news.livedoor.com/article/detail/1/\n2012-05-15T13:55:00+0900\n見出し\n本文。\n",
            encoding="utf-8",
        )
        assert read_one(path).category == category

    def test_forced_format_reports_a_file_that_is_not_livedoor(self, tmp_path):
        path = tmp_path / "page.txt"
        path.write_text("ただの文章です。\n二行目。\n三行目。\n", encoding="utf-8")
        [error] = read_errors(path, "livedoor")
        assert "1行目は記事のURLです" in error.reason

    def test_bad_date_line_is_reported(self, tmp_path):
        path = tmp_path / "bad-date.txt"
        path.write_text("https://a.example/1\nきのう\n見出し\n本文です。\n", encoding="utf-8")
        [error] = read_errors(path, "livedoor")
        assert "2行目を日付として読めません" in error.reason


class TestJsonLines:
    def test_all_fields(self, tmp_path):
        path = write_jsonl(
            tmp_path / "feed.jsonl",
            [
                {
                    "title": "見出し",
                    "body": "本文の一段落目。\n二段落目。",
                    "url": "https://www.news.example/a/1",
                    "published_at": "2025-01-20T10:00:00+09:00",
                    "site": "ニュース例",
                    "author": "山田太郎",
                    "tags": ["経済", "円安"],
                    "category": "経済",
                }
            ],
        )
        article = read_one(path)
        assert article.title == "見出し"
        assert article.body == "本文の一段落目。\n二段落目。"
        assert article.site == "news.example"
        assert article.author == "山田太郎"
        assert article.tags == ("経済", "円安")
        assert article.category == "経済"
        assert article.published_at == datetime(2025, 1, 20, 10, tzinfo=TOKYO)
        assert article.source_format == "jsonl"

    def test_site_stands_in_when_there_is_no_url(self, tmp_path):
        path = write_jsonl(
            tmp_path / "a.jsonl", [{"title": "t", "body": "b", "site": "Feed.Example"}]
        )
        assert read_one(path).site == "feed.example"

    def test_bad_lines_are_reported_by_number_and_good_lines_kept(self, tmp_path):
        path = tmp_path / "mixed.jsonl"
        path.write_text(
            '{"title": "一つ目", "body": "本文"}\n'
            "{broken json\n"
            '{"title": "本文なし"}\n'
            '["not", "an", "object"]\n'
            '{"title": "日付が変", "body": "本文", "published_at": "someday"}\n'
            "\n"
            '{"title": "最後", "body": "本文"}\n',
            encoding="utf-8",
        )
        items = list(read_file(path))
        titles = [i.title for i in items if isinstance(i, ArticleDraft)]
        errors = {i.line: i.reason for i in items if isinstance(i, ReadError)}
        assert titles == ["一つ目", "最後"]
        assert set(errors) == {2, 3, 4, 5}
        assert "JSONとして読めません" in errors[2]
        assert "本文（body）がありません" in errors[3]
        assert "JSONオブジェクトではありません" in errors[4]
        assert "日付として読めません" in errors[5]
        assert all(str(path) in str(i) for i in items if isinstance(i, ReadError))


class TestDetectionAndEncodings:
    def test_format_is_detected_per_file(self):
        assert read_one(SAMPLE / "pages" / "kyoto-koyo.txt").source_format == "text"
        assert read_one(SAMPLE / "livedoor" / "kix-terminal.txt").source_format == "livedoor"
        assert {a.source_format for a in read_file(SAMPLE / "feed.jsonl")} == {"jsonl"}

    @pytest.mark.parametrize(
        ("encoding", "name"),
        [
            ("utf-8", "髙橋"),
            ("utf-8-sig", "髙橋"),
            ("cp932", "髙橋"),
            ("shift_jis", "高橋"),
            ("euc_jp", "高橋"),
        ],
    )
    def test_japanese_encodings(self, tmp_path, encoding, name):
        path = tmp_path / f"{encoding}.txt"
        title = f"{name}さんが関西国際空港に到着、記者会見で抱負を語る"
        body = "東京都庁で会見した。新しい事業について、今後の計画を説明した。"
        text = f"https://enc.example/1\n2025-01-20T10:00:00+09:00\n{title}\n{body}\n"
        path.write_bytes(text.encode(encoding))
        article = read_one(path)
        assert article.title == title
        assert article.body == body

    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            (b"", "空のファイルです"),
            (b"  \n\n", "空のファイルです"),
            (b"\x89PNG\r\n\x00\x00\x00", "バイナリ"),
        ],
    )
    def test_files_that_are_not_text(self, tmp_path, content, reason):
        path = tmp_path / "bad.txt"
        path.write_bytes(content)
        [error] = read_errors(path)
        assert reason in error.reason
        assert str(path) in str(error)

    def test_missing_file(self, tmp_path):
        [error] = read_errors(tmp_path / "nope.txt")
        assert error.reason == "ファイルがありません"


def test_a_page_with_a_dated_second_line_is_not_taken_for_livedoor(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(
        "https://news.example/a/1\n公開日: 2025年1月20日\n(CLO) 市役所に新しい窓口が開設された。\n",
        encoding="utf-8",
    )
    assert read_one(path).source_format == "text"


def test_a_nul_escaped_in_a_json_string_is_dropped_not_the_line(tmp_path):
    path = tmp_path / "nul.jsonl"
    path.write_text('{"title": "見出し\\u0000", "body": "本文\\u0000です。"}\n', encoding="utf-8")
    draft = read_one(path)
    assert (draft.title, draft.body) == ("見出し", "本文です。")
