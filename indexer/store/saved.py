"""Saved searches: each user's named searches, kept as the search's URL parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.errors import AccountError
from indexer.store.models import SavedSearch

# The parameters a saved search keeps (a search page's, less its page).
SEARCH_PARAMS = ("q", "sort", "from", "to", "site", "category", "tag", "group", "limit")
# The filters besides the query; one of them (or the query) makes a search to save.
FILTER_PARAMS = ("site", "category", "tag", "person", "org", "place", "from", "to")
SEARCH_PARAMS += ("person", "org", "place")
MAX_NAME_CHARS = 200
MAX_VALUE_CHARS = 1000
MAX_PER_USER = 200


@dataclass(frozen=True)
class Saved:
    id: int
    name: str
    params: tuple[tuple[str, str], ...]
    created_at: datetime

    @classmethod
    def of(cls, row: SavedSearch) -> Saved:
        return cls(row.id, row.name, tuple(sorted(row.params.items())), row.created_at)


def save(session: Session, user_id: int, name: str, params: Mapping[str, str]) -> Saved:
    kept = {k: str(v) for k, v in params.items() if k in SEARCH_PARAMS and str(v).strip()}
    if not any(kept.get(k) for k in ("q", *FILTER_PARAMS)):
        raise AccountError("保存する検索には検索語か絞り込みが必要です。")
    if any(len(v) > MAX_VALUE_CHARS for v in kept.values()):
        raise AccountError(f"検索の条件が長すぎます（{MAX_VALUE_CHARS}文字まで）。")
    name = " ".join((name or "").split())[:MAX_NAME_CHARS] or kept.get("q", "") or "保存した検索"
    if len(searches(session, user_id)) >= MAX_PER_USER:
        raise AccountError(
            f"保存できる検索は{MAX_PER_USER}件までです。不要なものを削除してください。"
        )
    row = SavedSearch(user_id=user_id, name=name[:MAX_NAME_CHARS], params=kept)
    session.add(row)
    session.flush()
    return Saved.of(row)


def searches(session: Session, user_id: int) -> list[Saved]:
    rows = session.scalars(
        select(SavedSearch).where(SavedSearch.user_id == user_id).order_by(SavedSearch.id)
    )
    return [Saved.of(r) for r in rows]


def remove(session: Session, user_id: int, search_id: int) -> bool:
    """Delete one of this user's saved searches; whether there was one (another's is not theirs)."""
    if not 0 < search_id < 2**63:
        return False  # no row has such an id (and SQLite could not even look one up)
    row = session.get(SavedSearch, search_id)
    if row is None or row.user_id != user_id:
        return False
    session.delete(row)
    return True
