"""The timeline: matches per month as a small bar chart, drawn on the server as SVG.

No script is needed: each bar is a link that sets the date range to its
month (or year, when the matches span more than ``MAX_MONTH_BARS`` months).
The counts are the month facet's, counted without the date range, so the
chart keeps its shape while a range is chosen and shows where it lies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from indexer.archive import FacetValue, month_bounds

WIDTH = 640
BARS_HEIGHT = 80
LABEL_HEIGHT = 18
# More months than this are drawn a bar a year: a bar stays wide enough to click.
MAX_MONTH_BARS = 120


@dataclass(frozen=True)
class Bar:
    label: str  # 2025年3月 (or 2025年)
    count: int
    first: date
    last: date
    x: float
    y: float
    width: float
    height: float
    selected: bool
    tick: str | None  # the axis label under this bar, if any


@dataclass(frozen=True)
class Timeline:
    bars: tuple[Bar, ...]
    width: int
    height: int
    by_year: bool
    any_selected: bool


def _number(text: str) -> int:
    year, month = int(text[:4]), int(text[5:7])
    return year * 12 + month - 1


def _text(number: int) -> str:
    year, month = divmod(number, 12)
    return f"{year:04d}-{month + 1:02d}"


def timeline(
    months: Sequence[FacetValue], date_from: date | None, date_to: date | None
) -> Timeline | None:
    """The bars for these month counts (oldest first), gaps included; None when there are none."""
    if not months:
        return None
    counts = {_number(v.value): v.count for v in months}
    start, end = min(counts), max(counts)
    by_year = end - start + 1 > MAX_MONTH_BARS
    buckets: list[tuple[str, int, date, date, str | None]] = []
    if by_year:
        for year in range(start // 12, end // 12 + 1):
            count = sum(n for number, n in counts.items() if number // 12 == year)
            first, last = date(year, 1, 1), date(year, 12, 31)
            tick = str(year) if year % 5 == 0 or year == start // 12 else None
            buckets.append((f"{year}年", count, first, last, tick))
    else:
        for number in range(start, end + 1):
            first, last = month_bounds(_text(number))
            # The year under its January, and under the first bar when there is room.
            starts_year = first.month == 1 or (number == start and first.month <= 9)
            tick = f"{first.year}年" if starts_year else None
            buckets.append(
                (f"{first.year}年{first.month}月", counts.get(number, 0), first, last, tick)
            )
    most = max(b[1] for b in buckets) or 1
    step = WIDTH / len(buckets)
    gap = min(2.0, step * 0.2)
    bars = []
    for i, (label, count, first, last, tick) in enumerate(buckets):
        height = 0.0 if not count else max(2.0, BARS_HEIGHT * count / most)
        selected = bool(
            (date_from or date_to)
            and (date_from is None or date_from <= last)
            and (date_to is None or first <= date_to)
        )
        bars.append(
            Bar(
                label=label,
                count=count,
                first=first,
                last=last,
                x=round(i * step + gap / 2, 2),
                y=round(BARS_HEIGHT - height, 2),
                width=round(step - gap, 2),
                height=round(height, 2),
                selected=selected,
                tick=tick,
            )
        )
    return Timeline(
        bars=tuple(bars),
        width=WIDTH,
        height=BARS_HEIGHT + LABEL_HEIGHT,
        by_year=by_year,
        any_selected=any(b.selected for b in bars),
    )
