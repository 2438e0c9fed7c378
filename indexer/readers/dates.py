"""Reading the dates found in article files, always into time-zone-aware datetimes.

The text is NFKC-normalised first, so full-width digits and punctuation (``２０２５／０１／２０``,
``（月）``, ``１４：３０``) and the era ligatures (``㋿``, ``㍻``) read like their ASCII forms.
These are read:

* anything :meth:`datetime.fromisoformat` takes as the whole text (``2025-01-20``,
  ``2025-01-20T09:30:00+09:00``, ``2010-05-22T14:30:00+0900``, ``...Z``, and the basic
  form ``20250120``: a bare number is a date only if it is exactly eight digits naming a real day);
* numeric dates with ``-``, ``/`` or ``.`` (``2025/1/20 9:05``, ``2025.01.20``);
* kanji dates (``2025年1月20日(月) 午後2時30分``, ``14時30分``, ``14:30``); 午前/午後 take hours
  0–11, since 午前12時 and 午後12時 mean different moments to different writers;
* Japanese eras, in kanji (``令和元年5月1日``, ``平成31年``) or abbreviated (``R7.1.20``,
  ``h31/4/30``), from 明治 to 令和;
* RFC 2822 dates (``Mon, 20 Jan 2025 10:00:00 +0900``).

A date may sit inside a longer text (``公開日: 2025年1月20日 更新``); the first real date wins.
Text that is only a year or a year and month (``2025年1月``, ``平成31年``) names the first day of
that period, but only when it is the whole text: a year mentioned in a sentence is not a date.

A time without an offset is Tokyo time; ``Z``, ``UTC``, ``GMT`` and ``JST`` are understood. An
offset glued to a time (``09:30+09:00``) is read only after an ISO ``YYYY-MM-DD`` date, so a
range such as ``2025/01/20 12:00-13:00`` is not taken for a time zone.

Anything else, an impossible date (``2025年2月30日``, ``平成31年5月1日``, ``令和0年``), or a
year outside 1868–2100 gives ``None``; nothing is guessed and nothing is raised.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")

_FIRST_YEAR, _LAST_YEAR = 1868, 2100


@dataclass(frozen=True)
class _Era:
    """A Japanese era: its names and the days it began and ended (exclusive)."""

    name: str
    letter: str
    start: date
    end: date | None


_ERAS = (
    _Era("明治", "M", date(1868, 1, 25), date(1912, 7, 30)),
    _Era("大正", "T", date(1912, 7, 30), date(1926, 12, 25)),
    _Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 8)),
    _Era("平成", "H", date(1989, 1, 8), date(2019, 5, 1)),
    _Era("令和", "R", date(2019, 5, 1), None),
)
_ERA_BY_NAME = {era.name: era for era in _ERAS} | {era.letter: era for era in _ERAS}

_NAMED_ZONES: dict[str, tzinfo] = {"Z": UTC, "UT": UTC, "UTC": UTC, "GMT": UTC, "JST": TOKYO}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Pieces shared by the patterns below.
_WEEKDAY = (
    r"(?:\s*\(\s*(?:[月火水木金土日](?:曜日?)?(?:\s*[・,、]\s*[祝休祭]日?)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?)\s*\))?"
)
# No two ``\s*`` may meet (a time's lead-in, then 午前/午後's spacing): a run of spaces
# they could split between them costs time in the square of its length.
_CLOCK = (
    r"(?:(?P<ampm>午前|午後)\s*)?(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"|\s*時(?!間)(?:\s*(?P<kminute>\d{1,2})(?:\s*分(?:\s*(?P<ksecond>\d{1,2})\s*秒)?)?|(?P<half>半))?)"
    r"(?!\d)"
)
_SPACED_ZONE = (
    r"(?:\s*(?P<zname>JST|UTC|GMT|UT)(?![A-Za-z])|\s+(?P<zspaced>[+-]\d{2}:?\d{2})(?![\d:]))?"
)
_ISO_ZONE = (
    r"(?:(?P<ziso>Z|[+-]\d{2}(?::?\d{2})?)(?![\dA-Za-z:])"
    r"|\s*(?P<zname>JST|UTC|GMT|UT)(?![A-Za-z])|\s+(?P<zspaced>[+-]\d{2}:?\d{2})(?![\d:]))?"
)
_TIME = rf"(?:(?:T\s*|\s*){_CLOCK}{_SPACED_ZONE})?"
_ISO_TIME = rf"(?:(?:T\s*|\s*){_CLOCK}{_ISO_ZONE})?"
_KANJI_MONTH_DAY = (
    rf"(?:(?P<month>\d{{1,2}})\s*月(?:\s*(?P<day>\d{{1,2}})\s*日{_WEEKDAY}{_TIME})?)?"
)

_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        # 2025-01-20, 2025-1-20 09:30, 2025-01-20T09:30:00+09:00
        rf"(?<!\d)(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})(?!\d){_WEEKDAY}{_ISO_TIME}",
        # 2025/01/20, 2025.1.20 9:05
        rf"(?<!\d)(?P<year>\d{{4}})(?P<sep>[/.])(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}})"
        rf"(?![\d]){_WEEKDAY}{_TIME}",
        # 2025年1月20日 14時30分, 2025年1月, 2025年
        rf"(?<!\d)(?P<year>\d{{4}})\s*年\s*{_KANJI_MONTH_DAY}",
        # 令和7年1月20日, 令和元年5月1日, 平成31年
        rf"(?P<era>明治|大正|昭和|平成|令和)\s*(?P<eyear>元|\d{{1,2}})\s*年\s*{_KANJI_MONTH_DAY}",
        # R7.1.20, h31/4/30
        rf"(?<![A-Za-z\d])(?P<era>[MTSHRmtshr])\s?(?P<eyear>元|\d{{1,2}})(?P<sep>[./-])"
        rf"(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}})(?!\d){_WEEKDAY}{_TIME}",
        # Mon, 20 Jan 2025 10:00:00 +0900
        r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s*)?(?<!\d)(?P<day>\d{1,2})\s+"
        r"(?P<mname>(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))[a-z]*\.?\s+"
        r"(?P<year>\d{4})(?!\d)(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
        r"(?:\s*(?P<zname>[+-]\d{4}|UTC|UT|GMT|Z|JST)(?![A-Za-z\d]))?)?",
    )
)


def parse_date(text: str) -> datetime | None:
    """The moment ``text`` names, or ``None`` if it is not a date we can read.

    A date without a time-zone offset is taken to be Tokyo time.
    """
    if not isinstance(text, str):
        return None
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    return _from_iso(text) or _first_date_in(text)


def _from_iso(text: str) -> datetime | None:
    """The whole ``text`` read as ISO 8601, or ``None``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=TOKYO)
    return value if _FIRST_YEAR <= value.year <= _LAST_YEAR else None


def _first_date_in(text: str) -> datetime | None:
    """The first real date anywhere in ``text``, or ``None``."""
    found = [match for pattern in _PATTERNS for match in pattern.finditer(text)]
    found.sort(key=lambda match: (match.start(), -match.end()))
    for match in found:
        whole = match.span() == (0, len(text))
        try:
            value = _from_match(match.groupdict(), whole)
        except (ValueError, OverflowError):
            continue
        if value is not None:
            return value
    return None


def _from_match(parts: dict[str, str | None], whole: bool) -> datetime | None:
    """The datetime one pattern match names; ``None`` or ``ValueError`` if it names none."""
    if parts["day"] is None and not whole:
        return None
    day = _day(parts)
    if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
        return None
    return datetime.combine(day, _clock(parts), tzinfo=_zone(parts))


def _day(parts: dict[str, str | None]) -> date:
    """The calendar day of a match: the first day of the period a partial date names."""
    month = _month(parts)
    day = int(parts["day"]) if parts.get("day") else None
    if era := parts.get("era"):
        return _era_day(_ERA_BY_NAME[era.upper()], parts.get("eyear") or "", month, day)
    return date(int(parts.get("year") or 0), month or 1, day or 1)


def _month(parts: dict[str, str | None]) -> int | None:
    """The month number of a match, from digits or an English month name."""
    if name := parts.get("mname"):
        return _MONTHS.index(name.lower()) + 1
    return int(parts["month"]) if parts.get("month") else None


def _era_day(era: _Era, year_text: str, month: int | None, day: int | None) -> date:
    """The first day of an era date's period that lies within the era; ``ValueError`` if none."""
    number = 1 if year_text == "元" else int(year_text)
    if number < 1:
        raise ValueError(f"{era.name} has no year {number}")
    year = era.start.year + number - 1
    start = date(year, month or 1, day or 1)
    if day is not None:
        end = start + timedelta(days=1)
    elif month is not None:
        end = date(year + month // 12, month % 12 + 1, 1)
    else:
        end = date(year + 1, 1, 1)
    if end <= era.start or (era.end is not None and start >= era.end):
        raise ValueError(f"{start} is not in {era.name}")
    return max(start, era.start)


def _clock(parts: dict[str, str | None]) -> time:
    """The time of day of a match, midnight if it has none; ``ValueError`` if impossible."""
    if not parts.get("hour"):
        return time()
    hour = int(parts["hour"] or 0)
    if ampm := parts.get("ampm"):
        # 午前/午後 count 0–11; 午前12時 means noon to some writers and midnight to others.
        if hour > 11:
            raise ValueError(f"{ampm}{hour}時 is ambiguous or impossible")
        hour += 12 if ampm == "午後" else 0
    minute = int(parts.get("minute") or parts.get("kminute") or (30 if parts.get("half") else 0))
    second = int(parts.get("second") or parts.get("ksecond") or 0)
    fraction = (parts.get("fraction") or "")[:6].ljust(6, "0")
    return time(hour, minute, second, int(fraction))


def _zone(parts: dict[str, str | None]) -> tzinfo:
    """The time zone a match states, Tokyo if it states none."""
    name = parts.get("ziso") or parts.get("zspaced") or parts.get("zname")
    if name is None:
        return TOKYO
    if name in _NAMED_ZONES:
        return _NAMED_ZONES[name]
    digits = name[1:].replace(":", "").ljust(4, "0")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{name} is not a UTC offset")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if name[0] == "-" else offset)
