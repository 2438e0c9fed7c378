"""Bad input: each gets a clear message naming the file, and nothing else is lost."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from .conftest import FIXTURES, import_into


def only_failure(summary, path: Path) -> str:
    [error] = [e for e in summary.failed if e.path == str(path)]
    return error.reason


@pytest.fixture
def good(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "clo_article.txt", folder / "good.txt")
    return folder


def test_undecodable_bytes(archive, good):
    bad = good / "garbage.txt"
    bad.write_bytes(b"\xff\xfe\xfd\xfc" * 500)
    summary = import_into(archive, good)
    assert "いずれとしても読めません" in only_failure(summary, bad)
    assert summary.added == 1


def test_a_fifty_megabyte_text_file_is_refused_not_read(archive, good):
    big = good / "huge.txt"
    with big.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    summary = import_into(archive, good)
    assert "1件の記事としては大きすぎます（50.0 MB" in only_failure(summary, big)
    assert summary.added == 1


def test_a_hundred_thousand_character_line_is_imported_whole(archive, good):
    line = "関西国際空港の新しいターミナルが完成した" * 5000 + "。"
    assert len(line) > 100_000
    (good / "long.txt").write_text(line + "\n", encoding="utf-8")
    summary = import_into(archive, good)
    assert summary.ok and summary.added == 2
    assert archive.search("ターミナル").total == 1


def test_an_article_without_a_body(archive, good):
    bad = good / "nobody.txt"
    bad.write_text("https://a.example/1\n2025-01-20T10:00:00+09:00\n見出しだけ\n", encoding="utf-8")
    summary = import_into(archive, good)
    assert only_failure(summary, bad) == "記事に本文がありません"


def test_an_unreadable_file(archive, good):
    if os.geteuid() == 0:
        # Root reads past permission bits; this file refuses every reader.
        bad = Path("/proc/self/mem")
    else:
        bad = good / "secret.txt"
        bad.write_text("読めない", encoding="utf-8")
        bad.chmod(0)
    summary = import_into(archive, good, bad)
    reason = only_failure(summary, bad)
    assert reason in {"読み取る権限がありません", "読み取れません（Input/output error）"}
    assert summary.added == 1


def test_a_folder_of_thousands_of_files(archive, tmp_path):
    folder = tmp_path / "many"
    for i in range(2000):
        sub = folder / f"{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05d}.jsonl").write_text(
            f'{{"title": "記事{i}号", "body": "通し番号{i}の本文です。"}}\n', encoding="utf-8"
        )
    summary = import_into(archive, folder)
    assert summary.ok and summary.added == 2000 and summary.files == 2000
    assert archive.index_info().documents == 2000


# Lines no JSON Lines writer should produce, each with the reason it is reported with.
HOSTILE_LINES = [
    (
        '{"title": "\\ud800", "body": "本文"}',
        "title に文字として読めないコード（対のないサロゲート U+D800）",
    ),
    ('{"title": "見出し", "body": "本文\\udc00です"}', "body に文字として読めないコード"),
    ('{"title": "見出し", "body": "本文", "tags": ["\\udbff"]}', "tags に文字として読めないコード"),
    ("[" * 100_000, "JSONとして読めません（入れ子が深すぎます）"),
    ('{"title": "見出し", "body": "' + "[" * 100_000 + '"}', None),
    ('{"title": "見出し", "body": "本文", "n": ' + "1" * 5000 + "}", "桁数の多すぎる数があります"),
    ("9" * 100_000, "JSONとして読めません（桁数の多すぎる数があります）"),
    ('{"title": "絵文字\\ud83d\\ude00", "body": "対になったサロゲートは文字です"}', None),
]


# A word for each good line, to find it by.
CITIES = ("札幌", "仙台", "東京", "横浜", "名古屋", "京都", "神戸", "福岡")


def test_a_hostile_json_line_costs_that_line_only(archive, tmp_path):
    lines, expected = [], {}
    for city, (bad, reason) in zip(CITIES, HOSTILE_LINES, strict=True):
        lines.append(f'{{"title": "{city}の記事", "body": "前後の行は残ります。"}}')
        lines.append(bad)
        if reason is not None:
            expected[len(lines)] = reason
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_into(archive, path)
    failed = {error.line: error for error in summary.failed}
    assert set(failed) == set(expected)
    for number, reason in expected.items():
        assert reason in failed[number].reason
        assert f"{path}:{number}: " in str(failed[number])
    assert summary.added == len(HOSTILE_LINES) + 2
    for city in CITIES:
        assert archive.search(city).total == 1, city
    assert archive.search("絵文字").total == 1


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b'{"title": "NUL\x00", "body": "x"}', "JSONとして読めません（Invalid control character"),
        (b"\x00" * 100, "JSONとして読めません"),
        (b'{"title": "\xff\xfe", "body": "x"}', "UTF-8 として読めない文字があります"),
        (
            '{"title": "シフトJIS", "body": "x"}'.encode("cp932"),
            "UTF-8 として読めない文字があります",
        ),
    ],
    ids=["NUL in a string", "NULs", "invalid UTF-8", "Shift_JIS"],
)
def test_a_json_line_that_is_not_utf8_text_costs_that_line(archive, tmp_path, bad, reason):
    good = [
        json.dumps({"title": f"{city}の記事", "body": "本文です。"}, ensure_ascii=False).encode()
        for city in CITIES[:2]
    ]
    path = tmp_path / "garbled.jsonl"
    path.write_bytes(b"\n".join([good[0], bad, good[1]]) + b"\n")
    summary = import_into(archive, path)
    [error] = summary.failed
    assert (error.path, error.line) == (str(path), 2)
    assert reason in error.reason
    assert summary.added == 2
    assert archive.search(CITIES[1]).total == 1


def test_a_binary_file_named_jsonl_is_one_error(archive, tmp_path):
    path = tmp_path / "image.jsonl"
    path.write_bytes(bytes(range(256)) * 40)
    summary = import_into(archive, path)
    [error] = summary.failed
    assert error.line is None
    assert "テキストではありません" in error.reason


def body(word: str) -> str:
    return f"{word}の図書館が改装を終え、新しい閲覧室が公開されました。" * 6


def page(head: str, text: str) -> bytes:
    return f"<html><head>{head}</head><body><article><p>{text}</p></article></body></html>".encode()


def json_ld(text: str) -> str:
    return f'<title>図書館</title><script type="application/ld+json">{text}</script>'


def english(word: str) -> str:
    return f"The library in {word} reopened on Monday with a new reading room for visitors. " * 6


# Files that carry half a surrogate pair, a URL no host can be read from, a
# charset that is not for text, or JSON-LD nested past reason: (file, content,
# the word its body is found by, and its title; or None and the reason it failed).
HOSTILE_FILES = [
    (
        "utf8-surrogate.txt",
        "本文\ud800です。".encode("utf-8", "surrogatepass"),
        None,
        "いずれとしても読めません",
    ),
    ("entity.html", page("<title>図書館&#xD800;</title>", body("青森")), "青森", "図書館\ufffd"),
    (
        "utf7.html",
        page('<meta charset="utf-7"><title>+2AA-</title>', english("Akita")),
        "akita",
        "+2AA-",
    ),
    (
        "escape.html",
        page('<meta charset="unicode_escape"><title>\\ud800</title>', english("Iwate")),
        "iwate",
        "\\ud800",
    ),
    (
        "rot13.html",
        page('<meta charset="rot13"><title>Library</title>', english("Miyagi")),
        "miyagi",
        "Library",
    ),
    (
        "ld-surrogate.html",
        page(json_ld('{"@type": "NewsArticle", "headline": "\\ud800"}'), body("山形")),
        "山形",
        "図書館",
    ),
    ("ld-deep.html", page(json_ld("[" * 100_000), body("福島")), "福島", "図書館"),
    (
        "ld-nested.html",
        page(
            json_ld('{"@type": "NewsArticle", "author": ' + "[" * 900 + '"記者"' + "]" * 900 + "}"),
            body("茨城"),
        ),
        "茨城",
        "図書館",
    ),
    (
        "canonical.html",
        page('<title>図書館</title><link rel="canonical" href="//[oops/">', body("栃木")),
        "栃木",
        "図書館",
    ),
    (
        "source.txt",
        f"{body('群馬')}\n出典: http://[oops/1\n".encode(),
        "群馬",
        "群馬の図書館が改装を終え",
    ),
    (
        "livedoor.txt",
        f"http://[oops/2\n2025-01-20T10:00:00+0900\n図書館\n{body('埼玉')}\n".encode(),
        "埼玉",
        "図書館",
    ),
]


def test_a_hostile_text_or_html_file_costs_that_file_at_most(archive, good):
    for name, content, _, _ in HOSTILE_FILES:
        (good / name).write_bytes(content)
    summary = import_into(archive, good)
    failed = {Path(error.path).name: error.reason for error in summary.failed}
    for name, _, word, outcome in HOSTILE_FILES:
        if word is None:
            assert outcome in failed[name]
            continue
        [hit] = archive.search(word).hits
        assert outcome in hit.title, name
    assert summary.added == 1 + len(HOSTILE_FILES) - len(failed)
    assert archive.article(archive.search("茨城").hits[0].id).author == "記者"
