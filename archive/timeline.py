"""The timeline: matches per month (or year) as a small bar chart, drawn on the server as SVG.

No script is needed: each bar is a link that sets the date range to its
month, or to its year when the matches span more than ``MAX_MONTH_BARS``
months; a year chosen so is then drawn by its months (zoomed in), with a
link back to every year.  The counts are the month facet's, counted without
the date range, so the chart keeps its shape while a range is chosen and
shows where it lies.

Heights follow the square root of the counts, so that a month of 3 stays
visible beside a month of 300; the axis is labelled with true counts, and
a bar's count is written over it wherever there is room (always in its
label), so the scale never passes for a linear one.  Years or months with
nothing in a long run are drawn as one narrow gap, not as empty width (an
article of 2000 among thousands from 2009 on leaves a gap, not nine empty
years).  The chart is drawn twice, wide and narrow (the stylesheet shows one),
so that its labels stay legible on a phone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from indexer.archive import FacetValue, month_bounds

# More months than this are drawn a bar a year: a bar stays wide enough to click.
MAX_MONTH_BARS = 120
# A run of this many empty bars (or more) is drawn as one gap.
GAP_YEARS = 2
GAP_MONTHS = 12


@dataclass(frozen=True)
class Size:
    width: int
    bars_height: int
    font: int
    max_ticks: int  # labels under the bars, at most


WIDE = Size(width=720, bars_height=90, font=12, max_ticks=12)
NARROW = Size(width=360, bars_height=90, font=12, max_ticks=5)
GAP_WIDTH = 0.6  # a gap takes this many bars' width


@dataclass(frozen=True)
class Bar:
    label: str  # 2025年3月 (or 2025年; a gap: 2001〜2003年)
    count: int
    first: date
    last: date
    x: float
    y: float
    width: float
    height: float
    selected: bool  # within the chosen range
    current: bool  # exactly the chosen range (aria-current)
    tick: str | None  # the axis label under this bar, if any
    shown_count: bool  # the count is written over the bar
    gap: bool = False


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Drawing:
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    width: int
    height: int
    left: float
    base: float  # the y of the axis
    font: int


@dataclass(frozen=True)
class Timeline:
    wide: Drawing
    narrow: Drawing
    by_year: bool
    zoomed: str | None  # the years drawn by month, as a label (2011年), when zoomed in
    any_selected: bool
    most: int

    @property
    def unit(self) -> str:
        return "年" if self.by_year else "月"


def _number(text: str) -> int:
    year, month = int(text[:4]), int(text[5:7])
    return year * 12 + month - 1


def _text(number: int) -> str:
    year, month = divmod(number, 12)
    return f"{year:04d}-{month + 1:02d}"


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int
    first: date
    last: date
    tick: str | None = None  # the axis label it gets when labels are few (a year)
    minor: str | None = None  # the one it gets when every bar has room for one (a month)
    gap: bool = False


def _year_buckets(counts: dict[int, int], start: int, end: int) -> list[Bucket]:
    per_year: dict[int, int] = {}
    for number, n in counts.items():
        per_year[number // 12] = per_year.get(number // 12, 0) + n
    return [
        Bucket(f"{y}年", per_year.get(y, 0), date(y, 1, 1), date(y, 12, 31), str(y), str(y))
        for y in range(start // 12, end // 12 + 1)
    ]


def _month_buckets(counts: dict[int, int], start: int, end: int) -> list[Bucket]:
    out = []
    for number in range(start, end + 1):
        first, last = month_bounds(_text(number))
        # The year under its January, and under the first bar when there is room.
        starts_year = first.month == 1 or (number == start and first.month <= 9)
        out.append(
            Bucket(
                f"{first.year}年{first.month}月",
                counts.get(number, 0),
                first,
                last,
                f"{first.year}年" if starts_year else None,
                f"{first.year}年" if first.month == 1 or number == start else f"{first.month}月",
            )
        )
    return out


def _with_gaps(buckets: list[Bucket], run: int) -> list[Bucket]:
    """Runs of ``run`` or more empty buckets as one gap (the ends hold data: never there)."""
    out: list[Bucket] = []
    i = 0
    while i < len(buckets):
        if buckets[i].count:
            out.append(buckets[i])
            i += 1
            continue
        j = i
        while j < len(buckets) and not buckets[j].count:
            j += 1
        if j - i >= run and j < len(buckets):
            label = f"{buckets[i].label}〜{buckets[j - 1].label}"
            out.append(Bucket(label, 0, buckets[i].first, buckets[j - 1].last, gap=True))
            # Past a gap the axis says the year again.
            year = f"{buckets[j].first.year}年"
            if buckets[j].tick is None:
                buckets[j] = replace(buckets[j], tick=year, minor=year)
        else:
            out.extend(buckets[i:j])
        i = j
    return out


def _y_ticks(most: int) -> list[int]:
    """Counts to label on a square-root axis: 0, a few round counts, and the largest."""
    if most <= 0:
        return [0]
    ticks = {0, most}
    for height in (0.25, 0.5):  # near a quarter and half the axis's height
        rounded = _round(most * height * height)
        if 0 < rounded < most * 0.7:
            ticks.add(rounded)
    return sorted(ticks)


def _round(value: float) -> int:
    if value < 1:
        return 0
    power = 10 ** math.floor(math.log10(value))
    return int(round(value / power) * power)


def _draw(
    buckets: list[Bucket],
    most: int,
    size: Size,
    date_from: date | None,
    date_to: date | None,
) -> Drawing:
    font = size.font
    left = font * 3.2
    top = font * 1.4  # room for the counts over the tallest bars
    base = top + size.bars_height
    height = int(base + font * 1.8)
    slots = [GAP_WIDTH if b.gap else 1.0 for b in buckets]
    step = (size.width - left - 4) / sum(slots)
    gap = min(2.0, step * 0.2)
    if len(buckets) <= size.max_ticks:
        labels = [b.minor for b in buckets]
    else:
        # The major labels (years), spread out to at most max_ticks; with room to
        # spare, every k-th bar's minor one (its month) too, clear of the majors.
        ticked = [i for i, b in enumerate(buckets) if b.tick]
        room = max(1, math.ceil(len(ticked) / size.max_ticks))
        written = set(ticked[::room])
        labels = [b.tick if i in written else None for i, b in enumerate(buckets)]
        if len(written) * 2 <= size.max_ticks:
            k = math.ceil(len(buckets) / size.max_ticks)
            for i, b in enumerate(buckets):
                near = any(abs(i - j) < k for j in written)
                if i % k == 0 and not near and b.minor:
                    labels[i] = b.minor
    bars = []
    x = left
    chosen = bool(date_from or date_to)
    for b, width_slots, tick in zip(buckets, slots, labels, strict=True):
        width = step * width_slots
        bar_height = 0.0 if not b.count else max(2.0, size.bars_height * math.sqrt(b.count / most))
        selected = bool(
            chosen
            and not b.gap
            and (date_from is None or date_from <= b.last)
            and (date_to is None or b.first <= date_to)
        )
        bars.append(
            Bar(
                label=b.label,
                count=b.count,
                first=b.first,
                last=b.last,
                x=round(x + gap / 2, 2),
                y=round(base - bar_height, 2),
                width=round(width - gap, 2),
                height=round(bar_height, 2),
                selected=selected,
                current=selected and b.first == date_from and b.last == date_to,
                tick=tick,
                shown_count=bool(b.count) and len(f"{b.count:,}") * font * 0.62 <= width,
                gap=b.gap,
            )
        )
        x += width
    y_ticks = tuple(
        Tick(round(base - size.bars_height * math.sqrt(v / most), 2) if most else base, f"{v:,}")
        for v in _y_ticks(most)
    )
    return Drawing(tuple(bars), y_ticks, size.width, height, round(left, 2), round(base, 2), font)


def timeline(
    months: Sequence[FacetValue], date_from: date | None, date_to: date | None
) -> Timeline | None:
    """The bars for these month counts (oldest first); None when there are none."""
    counts = {_number(v.value): v.count for v in months if v.count}
    if not counts:
        return None
    start, end = min(counts), max(counts)
    by_year = end - start + 1 > MAX_MONTH_BARS
    zoomed = None
    if by_year and date_from and date_to:
        # A range of a few years is drawn by its months: a year bar zooms in.
        first_year = max(date_from.year, start // 12)
        last_year = min(date_to.year, end // 12)
        if first_year <= last_year and (last_year - first_year + 1) * 12 <= MAX_MONTH_BARS:
            start, end = first_year * 12, last_year * 12 + 11
            counts = {n: c for n, c in counts.items() if start <= n <= end}
            by_year = False
            zoomed = (
                f"{first_year}年" if first_year == last_year else f"{first_year}〜{last_year}年"
            )
    if by_year:
        buckets = _with_gaps(_year_buckets(counts, start, end), GAP_YEARS)
    elif zoomed:
        buckets = _month_buckets(counts, start, end)
    else:
        buckets = _with_gaps(_month_buckets(counts, start, end), GAP_MONTHS)
    most = max((b.count for b in buckets), default=0)
    if not most:
        return None  # the zoomed years hold nothing: nothing to draw
    wide = _draw(buckets, most, WIDE, date_from, date_to)
    narrow = _draw(buckets, most, NARROW, date_from, date_to)
    return Timeline(
        wide=wide,
        narrow=narrow,
        by_year=by_year,
        zoomed=zoomed,
        any_selected=any(b.selected for b in wide.bars),
        most=most,
    )


def chosen_period(date_from: date | None, date_to: date | None) -> str | None:
    """The month (``YYYY-MM``) or year (``YYYY``) the range is exactly, if it is one."""
    if not (date_from and date_to) or date_from.day != 1:
        return None
    if (date_from.month, date_to.month, date_to.day) == (1, 12, 31) and (
        date_from.year == date_to.year
    ):
        return f"{date_from.year:04d}"
    month = f"{date_from.year:04d}-{date_from.month:02d}"
    return month if (date_from, date_to) == month_bounds(month) else None
