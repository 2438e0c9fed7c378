"""Reading the dates found in article files, always into time-zone-aware datetimes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def parse_date(text: str) -> datetime | None:
    """The moment ``text`` names, or ``None`` if it is not a date we can read.

    A date without a time-zone offset is taken to be Tokyo time.
    """
    text = text.strip()
    if not text:
        return None
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    # Python 3.11 reads "+0900" as well as "+09:00".
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=TOKYO)
    return value
