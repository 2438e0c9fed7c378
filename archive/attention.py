"""Attention over time: up to five queries' matches per day, week or month, as a line chart.

The counts are :meth:`~indexer.archive.Archive.day_counts`: the articles each
search counts in its total, each once, on its day (Tokyo time).  Here they are
put into periods (a day, a week from Monday, a calendar month; by default the
one that gives a readable number of points for the range with data), and
optionally divided by every article of the period (per 1,000 articles), so
that a query's rise is not only the archive's.

The chart is SVG drawn on the server twice, wide for screens and narrow for
phones (the stylesheet shows one), so its text stays legible at 390 px.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from indexer.archive import DayCounts

MAX_QUERIES = 5
UNITS = {"day": "日", "week": "週", "month": "月"}
# The most points a series may have: past it, a coarser period is used.
MAX_PERIODS = 400
# Auto: days up to two months of data, weeks up to two years, then months.
DAYS_UP_TO = 62
WEEKS_UP_TO = 731
# Series are told apart by colour and by dash, for readers who do not see the colours.
COLOURS = ("#0b57d0", "#b3261e", "#188038", "#e37400", "#7b1fa2")
DASHES = ("", "6 3", "2 3", "9 3 2 3", "1 5")
MARKERS = ("circle", "square", "diamond", "triangle", "cross")
# This many periods in a row without a match (or more) are one break in the chart's axis.
QUIET_PERIODS = {"day": 14, "week": 8, "month": 12}


def period_start(day: date, unit: str) -> date:
    """The first day of the period ``day`` falls in (weeks start on Monday)."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def next_period(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def period_end(start: date, unit: str) -> date:
    return next_period(start, unit) - timedelta(days=1)


def period_label(start: date, unit: str) -> str:
    if unit == "month":
        return f"{start.year}年{start.month}月"
    if unit == "week":
        return f"{start.year}年{start.month}月{start.day}日の週"
    return f"{start.year}年{start.month}月{start.day}日"


def periods(first: date, last: date, unit: str) -> list[date]:
    """The starts of every period from the one holding ``first`` to the one holding ``last``."""
    out = []
    start = period_start(first, unit)
    while start <= last:
        out.append(start)
        start = next_period(start, unit)
    return out


def choose_unit(first: date, last: date, asked: str | None = None) -> str:
    """The period asked for if it gives at most ``MAX_PERIODS`` points, else the one that fits."""
    span = (last - first).days + 1
    if asked in UNITS and len(periods(first, last, asked)) <= MAX_PERIODS:
        return asked
    if span <= DAYS_UP_TO:
        return "day"
    if span <= WEEKS_UP_TO:
        return "week"
    return "month"


def bucket(days: Iterable[tuple[date, int]], starts: Sequence[date], unit: str) -> list[int]:
    """The day counts summed into the periods beginning at ``starts``."""
    at = {start: i for i, start in enumerate(starts)}
    counts = [0] * len(starts)
    for day, count in days:
        i = at.get(period_start(day, unit))
        if i is not None:
            counts[i] += count
    return counts


def per_thousand(count: int, articles: int) -> float | None:
    """``count`` per 1,000 of the period's ``articles``; None for a period without articles."""
    return count * 1000 / articles if articles else None


@dataclass(frozen=True)
class Series:
    query: str
    counts: tuple[int, ...]
    total: int  # the search's total, undated articles included
    undated: int
    partial: bool
    colour: str
    dash: str
    marker: str


@dataclass(frozen=True)
class Attention:
    """Queries counted over the same periods, and every article of each period."""

    unit: str
    asked: str | None  # the period asked for (None: chosen by range)
    starts: tuple[date, ...]
    series: tuple[Series, ...]
    articles: tuple[int, ...]  # every article of each period (within the filters)
    normalised: bool

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(period_label(s, self.unit) for s in self.starts)

    def values(self, series: Series) -> list[float | None]:
        """What is drawn: counts, or counts per 1,000 articles (None where there were none)."""
        if not self.normalised:
            return [float(c) for c in series.counts]
        return [per_thousand(c, n) for c, n in zip(series.counts, self.articles, strict=True)]

    def rows(self) -> list[dict[str, object]]:
        """One row a period: its days, every article, each query's count (and rate)."""
        out = []
        for i, start in enumerate(self.starts):
            row: dict[str, object] = {
                "start": start,
                "end": period_end(start, self.unit),
                "label": self.labels[i],
                "articles": self.articles[i],
                "counts": [s.counts[i] for s in self.series],
                "rates": [per_thousand(s.counts[i], self.articles[i]) for s in self.series],
            }
            out.append(row)
        return out


def attention(
    counted: Sequence[DayCounts],
    everything: DayCounts,
    unit: str | None = None,
    normalised: bool = False,
) -> Attention:
    """The queries' counts over the periods spanning the days any of them has matches."""
    days = [day for c in counted for day, n in c.days if n]
    asked = unit if unit in UNITS else None
    if not days:
        starts: list[date] = []
        chosen = asked or "month"
    else:
        first, last = min(days), max(days)
        chosen = choose_unit(first, last, asked)
        starts = periods(first, last, chosen)
    series = tuple(
        Series(
            query=c.query,
            counts=tuple(bucket(c.days, starts, chosen)),
            total=c.total,
            undated=c.undated,
            partial=c.partial,
            colour=COLOURS[i % len(COLOURS)],
            dash=DASHES[i % len(DASHES)],
            marker=MARKERS[i % len(MARKERS)],
        )
        for i, c in enumerate(counted)
    )
    articles = tuple(bucket(everything.days, starts, chosen))
    return Attention(chosen, asked, tuple(starts), series, articles, normalised)


def quiet_runs(chart: Attention) -> list[tuple[int, int]]:
    """The runs ``[i, j)`` of ``QUIET_PERIODS[unit]`` periods or more where no query matched."""
    run = QUIET_PERIODS[chart.unit]
    quiet = [not any(s.counts[i] for s in chart.series) for i in range(len(chart.starts))]
    runs = []
    i = 0
    while i < len(quiet):
        j = i
        while j < len(quiet) and quiet[j]:
            j += 1
        if j - i >= run:
            runs.append((i, j))
        i = max(j, i + 1)
    return runs


def csv_text(chart: Attention, delimiter: str = ",") -> str:
    """The series as a table: a row a period, a column a query (and its rate per 1,000)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    header = ["period_start", "period_end", "articles"]
    header += [s.query for s in chart.series]
    header += [f"{s.query} per 1000" for s in chart.series]
    writer.writerow(header)
    for row in chart.rows():
        rates = ["" if r is None else f"{r:.3f}" for r in row["rates"]]  # type: ignore[union-attr]
        writer.writerow(
            [row["start"], row["end"], row["articles"], *row["counts"], *rates]  # type: ignore[misc]
        )
    return out.getvalue()


# The chart's geometry.


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in the chart's coordinates
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    text: str  # what the point says: 2025年3月: 12件


@dataclass(frozen=True)
class Line:
    series: Series
    path: str  # the SVG path (gaps where a rate has no articles)
    points: tuple[Point, ...]
    peak: Point | None  # the highest point, its value written above it
    label_y: float = 0.0  # where the peak's value is written (clear of the others')


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    lines: tuple[Line, ...]
    font: int
    point_radius: float
    breaks: tuple[float, ...] = ()  # x of each break in the axis (a quiet run)
    quiet: tuple[str, ...] = ()  # the periods each break stands for


def nice_step(most: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) that splits ``most`` into about ``ticks``."""
    if most <= 0:
        return 1.0
    raw = most / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def number(value: float) -> str:
    """A count as written: 1,234; a rate with the decimals it needs (0.25, 12.5)."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def draw(chart: Attention, width: int, height: int, font: int, max_x_labels: int) -> Chart:
    """The chart laid out in a ``width`` × ``height`` box, text ``font`` units high."""
    left, right = font * 4.2, font * 1.5
    top, bottom = font * 2.4, font * 2.6
    inner_w, inner_h = width - left - right, height - top - bottom
    n = len(chart.starts)
    every = [v for s in chart.series for v in chart.values(s) if v is not None]
    most = max(every, default=0.0)
    integer = not chart.normalised
    step = nice_step(most)
    if integer:
        step = max(1.0, math.ceil(step))
    top_value = step * max(1, math.ceil(most / step)) if most else step
    y_ticks = []
    value = 0.0
    while value <= top_value + step / 1000:
        y = top + inner_h * (1 - value / top_value)
        y_ticks.append(Tick(round(y, 2), number(round(value, 6))))
        value += step

    # A long run of periods in which no query has a match is one narrow slot
    # (a break in the axis), so that a stray old article leaves no empty years.
    collapsed = quiet_runs(chart)
    slot_of: list[float | None] = []
    slot = 0.0
    breaks: list[float] = []
    for i in range(n):
        run = next((r for r in collapsed if r[0] <= i < r[1]), None)
        if run is None:
            slot_of.append(slot)
            slot += 1
        else:
            slot_of.append(None)
            if i == run[1] - 1:
                breaks.append(slot)
                slot += 1
    slots = slot or 1

    def x_at(place: float) -> float:
        return round(left + inner_w * (place + 0.5) / slots, 2)

    shown = [i for i in range(n) if slot_of[i] is not None]
    x_step = max(1, math.ceil(len(shown) / max_x_labels)) if shown else 1
    x_ticks = []
    shown_year = None
    previous = None
    for k in range(0, len(shown), x_step):
        i = shown[k]
        if previous is not None and any(previous < r[0] and r[1] <= i for r in collapsed):
            shown_year = None  # past a break the year is said again
        start = chart.starts[i]
        x_ticks.append(Tick(x_at(slot_of[i]), _short_label(start, chart.unit, shown_year)))
        shown_year, previous = start.year, i
    lines = []
    for series in chart.series:
        points = []
        path = []
        pen_down = False
        for i, v in enumerate(chart.values(series)):
            if v is None or slot_of[i] is None:
                pen_down = False
                continue
            x, y = x_at(slot_of[i]), round(top + inner_h * (1 - v / top_value), 2)
            path.append(f"{'L' if pen_down else 'M'}{x} {y}")
            pen_down = True
            count = series.counts[i]
            said = f"{chart.labels[i]}: {count:,}件"
            if chart.normalised:
                said += f"（1,000件あたり{number(round(v, 2))}）"
            points.append(Point(x, y, v, f"「{series.query}」 {said}"))
        peak = max(points, key=lambda p: p.value, default=None)
        if peak is not None and not peak.value:
            peak = None
        lines.append(Line(series, " ".join(path), tuple(points), peak))
    # Peaks written where another's is already: moved up a line.
    placed: list[tuple[float, float]] = []
    for line in lines:
        if line.peak is None:
            continue
        x, y = line.peak.x, line.peak.y - font * 0.7
        while any(abs(x - px) < font * 2.5 and abs(y - py) < font * 1.1 for px, py in placed):
            y -= font * 1.1
        placed.append((x, y))
    label_at = iter(placed)
    lines = [
        replace(line, label_y=round(next(label_at)[1], 2)) if line.peak else line for line in lines
    ]
    return Chart(
        width=width,
        height=height,
        left=round(left, 2),
        top=round(top, 2),
        right=round(width - right, 2),
        bottom=round(height - bottom, 2),
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(y_ticks),
        lines=tuple(lines),
        font=font,
        point_radius=3.5 if len(shown) <= 60 else 2.0,
        breaks=tuple(x_at(b) for b in breaks),
        quiet=tuple(f"{chart.labels[i]}〜{chart.labels[j - 1]}" for i, j in collapsed),
    )


def _short_label(start: date, unit: str, shown_year: int | None) -> str:
    """An axis label, with its year on the first tick and wherever the year changes."""
    year = f"{start.year}/" if start.year != shown_year else ""
    if unit == "month":
        return f"{start.year}年{start.month}月" if year else f"{start.month}月"
    return f"{year}{start.month}/{start.day}"
