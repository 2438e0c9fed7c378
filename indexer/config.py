"""Where the archive keeps its database and index, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import ArchiveError

DEFAULT_HOME = "instance"
# How long one search may take, in milliseconds, before it answers with what it has
# (indexer.search.service): an ordinary search takes 10-50 ms on 7,000 articles,
# a crafted one (1,000 kanji) took 900 ms and held a server thread meanwhile.
DEFAULT_SEARCH_BUDGET_MS = 250.0


@dataclass(frozen=True)
class Settings:
    """``ARCHIVE_HOME`` holds the SQLite database and the index;
    ``ARCHIVE_DATABASE_URL`` points the store at another database instead;
    ``ARCHIVE_SEARCH_BUDGET_MS`` is how long one search may take (0: no limit)."""

    home: Path
    database_url: str
    search_budget_ms: float = DEFAULT_SEARCH_BUDGET_MS

    @property
    def index_root(self) -> Path:
        return self.home / "index"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        home = Path(environ.get("ARCHIVE_HOME") or DEFAULT_HOME).absolute()
        url = environ.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{home / 'archive.db'}"
        budget = environ.get("ARCHIVE_SEARCH_BUDGET_MS") or str(DEFAULT_SEARCH_BUDGET_MS)
        return cls(home=home, database_url=url, search_budget_ms=search_budget(budget))


def search_budget(text: str) -> float:
    """A search budget in milliseconds, from text; an ArchiveError says what to write."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600_000:  # NaN too
        raise ArchiveError(
            f"検索の時間の上限は0から600000までのミリ秒の数で指定してください（{text[:40]!r}）。"
            "0 は上限なしです。"
        )
    return value
