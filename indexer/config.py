"""Where the archive keeps its database and index, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "instance"


@dataclass(frozen=True)
class Settings:
    """``ARCHIVE_HOME`` holds the SQLite database and the index;
    ``ARCHIVE_DATABASE_URL`` points the store at another database instead."""

    home: Path
    database_url: str

    @property
    def index_root(self) -> Path:
        return self.home / "index"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        home = Path(environ.get("ARCHIVE_HOME") or DEFAULT_HOME).absolute()
        url = environ.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{home / 'archive.db'}"
        return cls(home=home, database_url=url)
