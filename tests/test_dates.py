"""Every date form Japanese article files carry, read into aware datetimes; non-dates give None."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from indexer.readers.dates import TOKYO, parse_date


def tokyo(*parts: int) -> datetime:
    """A Tokyo wall-clock time."""
    return datetime(*parts, tzinfo=TOKYO)


CASES = [
    # ISO 8601, as before
    ("2025-01-20", tokyo(2025, 1, 20)),
    ("2025-01-20 09:30", tokyo(2025, 1, 20, 9, 30)),
    ("2025-01-20T09:30:00+09:00", tokyo(2025, 1, 20, 9, 30)),
    ("2010-05-22T14:30:00+0900", tokyo(2010, 5, 22, 14, 30)),
    ("2025-01-20T00:30:00Z", datetime(2025, 1, 20, 0, 30, tzinfo=UTC)),
    ("2025-01-20T10:00:00-05:00", tokyo(2025, 1, 21, 0, 0)),
    ("20250120", tokyo(2025, 1, 20)),
    # other separators
    ("2025/01/20", tokyo(2025, 1, 20)),
    ("2025/1/20 9:05", tokyo(2025, 1, 20, 9, 5)),
    ("2025.01.20", tokyo(2025, 1, 20)),
    ("2025/01/20(月) 12:00", tokyo(2025, 1, 20, 12)),
    ("2025/01/20 12:00 JST", tokyo(2025, 1, 20, 12)),
    # RFC 2822
    ("Mon, 20 Jan 2025 10:00:00 +0900", tokyo(2025, 1, 20, 10)),
    ("Mon, 20 Jan 2025 01:00:00 GMT", tokyo(2025, 1, 20, 10)),
    # kanji dates
    ("2025年1月20日", tokyo(2025, 1, 20)),
    ("2025年01月20日 14時30分", tokyo(2025, 1, 20, 14, 30)),
    ("2025年1月20日(月) 14:30", tokyo(2025, 1, 20, 14, 30)),
    ("2025年1月20日 午後2時30分", tokyo(2025, 1, 20, 14, 30)),
    ("2025年1月20日 午前9時", tokyo(2025, 1, 20, 9)),
    ("2025年1月20日14時半", tokyo(2025, 1, 20, 14, 30)),
    ("2025年1月20日 9時5分7秒", tokyo(2025, 1, 20, 9, 5, 7)),
    ("2025年1月20日 3時間後", tokyo(2025, 1, 20)),
    ("2025 年 1 月 20 日", tokyo(2025, 1, 20)),
    ("2025年1月", tokyo(2025, 1, 1)),
    ("2025年", tokyo(2025, 1, 1)),
    # full-width digits and punctuation
    ("２０２５年１月２０日", tokyo(2025, 1, 20)),
    ("２０２５／０１／２０", tokyo(2025, 1, 20)),
    ("２０２５年１月２０日（月）　１４：３０", tokyo(2025, 1, 20, 14, 30)),
    # Japanese eras
    ("令和7年1月20日", tokyo(2025, 1, 20)),
    ("令和元年5月1日", tokyo(2019, 5, 1)),
    ("平成31年4月30日", tokyo(2019, 4, 30)),
    ("平成31年", tokyo(2019, 1, 1)),
    ("令和元年", tokyo(2019, 5, 1)),
    ("平成元年1月", tokyo(1989, 1, 8)),
    ("昭和64年1月7日", tokyo(1989, 1, 7)),
    ("大正元年8月1日", tokyo(1912, 8, 1)),
    ("明治45年7月29日", tokyo(1912, 7, 29)),
    ("R7.1.20", tokyo(2025, 1, 20)),
    ("H31.4.30", tokyo(2019, 4, 30)),
    ("S64.1.7", tokyo(1989, 1, 7)),
    ("R7/1/20", tokyo(2025, 1, 20)),
    ("r7.1.20", tokyo(2025, 1, 20)),
    ("㋿7年1月20日", tokyo(2025, 1, 20)),
    # a date inside a longer text: the first real one
    ("公開日: 2025年1月20日 更新", tokyo(2025, 1, 20)),
    ("掲載 2025/01/20 12:00", tokyo(2025, 1, 20, 12)),
    ("更新：令和7年1月20日（月）午後3時", tokyo(2025, 1, 20, 15)),
    ("2025年度の予算は2025年3月31日に成立", tokyo(2025, 3, 31)),
    ("受付 2025/01/20 12:00-13:00", tokyo(2025, 1, 20, 12)),
    # not dates
    ("", None),
    ("   ", None),
    ("someday", None),
    ("きのう", None),
    ("今日はいい天気です。", None),
    ("2025年に開催される大会について", None),
    ("2025年2月30日", None),
    ("2025/13/01", None),
    ("2025-01-20 25:00", None),
    ("2025年1月20日 午後12時", None),
    ("令和0年", None),
    ("令和0年1月1日", None),
    ("令和元年4月30日", None),
    ("平成31年5月1日", None),
    ("H32.1.1", None),
    ("20250230", None),
    ("2025012", None),
    ("202501201", None),
    ("1867年12月31日", None),
    ("2101-01-01", None),
    ("1850/01/01", None),
    ("0120-12-34", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", [text for text, expected in CASES if expected is not None])
def test_every_date_read_is_time_zone_aware(text: str) -> None:
    value = parse_date(text)
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() is not None


# Text that makes a backtracking pattern try every way to split a run of spaces;
# each is read in time proportional to its length (100,000 spaces: milliseconds).
SPACES = " " * 100_000
PATHOLOGICAL = [
    f"2025-01-20{SPACES}x",
    f"2025/01/20{SPACES}x",
    f"2025-01-20T{SPACES}x",
    f"2025-01-20 午後{SPACES}x",
    f"2025-01-20 9{SPACES}x",
    f"2025-01-20 9:30{SPACES}x",
    f"2025-01-20({SPACES}x",
    f"2025-01-20(月{SPACES}x",
    f"2025年{SPACES}1{SPACES}月{SPACES}20{SPACES}日{SPACES}x",
    f"2025年1月20日 14時{SPACES}5{SPACES}分{SPACES}x",
    f"令和{SPACES}7{SPACES}年{SPACES}x",
    f"R7.1.20{SPACES}x",
    f"Mon,{SPACES}20{SPACES}Jan{SPACES}2025{SPACES}10:00{SPACES}x",
    "2025-01-20" + "\u3000" * 100_000 + "x",
    "2025-01-20 " * 10_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda text: " ".join(text.split())[:40])
def test_a_long_run_of_spaces_is_read_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    parse_date(text)
    assert time.perf_counter() - started < 1.0
