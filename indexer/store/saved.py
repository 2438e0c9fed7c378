"""Saved searches: each user's named searches, kept as the search's URL parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.errors import AccountError
from indexer.store.models import SavedSearch

# The parameters a saved search keeps (a search page's, less its page); a filter
# may have several values (site=a&site=b), kept as a list.
SEARCH_PARAMS = ("q", "sort", "from", "to", "site", "category", "tag", "group", "limit")
VALUE_PARAMS = ("site", "category", "tag", "person", "org", "place")
SEARCH_PARAMS += ("person", "org", "place", *(f"not_{n}" for n in VALUE_PARAMS), "undated")
REPEATABLE = (*VALUE_PARAMS, *(f"not_{n}" for n in VALUE_PARAMS))
NARROWING = ("q", "from", "to", *REPEATABLE)
MAX_NAME_CHARS = 200
MAX_VALUE_CHARS = 1000
MAX_VALUES = 20  # of one filter
MAX_PER_USER = 200


@dataclass(frozen=True)
class Saved:
    id: int
    name: str
    # (name, value) pairs, a name once per value: site=a&site=b is two pairs.
    params: tuple[tuple[str, str], ...]
    created_at: datetime

    @classmethod
    def of(cls, row: SavedSearch) -> Saved:
        pairs = [
            (k, value)
            for k, v in sorted(row.params.items())
            for value in ([v] if isinstance(v, str) else v)
        ]
        return cls(row.id, row.name, tuple(pairs), row.created_at)


def save(
    session: Session, user_id: int, name: str, params: Mapping[str, str | Sequence[str]]
) -> Saved:
    kept: dict[str, str | list[str]] = {}
    for k, v in params.items():
        values = [str(x) for x in ([v] if isinstance(v, str) else v) if str(x).strip()]
        if k in SEARCH_PARAMS and values:
            kept[k] = values if k in REPEATABLE and len(values) > 1 else values[0]
    if not (any(kept.get(k) for k in NARROWING) or kept.get("undated") == "1"):
        raise AccountError("保存する検索には検索語か絞り込みが必要です。")
    every = [v for vs in kept.values() for v in ([vs] if isinstance(vs, str) else vs)]
    if any(len(v) > MAX_VALUE_CHARS for v in every):
        raise AccountError(f"検索の条件が長すぎます（{MAX_VALUE_CHARS}文字まで）。")
    if any(len(vs) > MAX_VALUES for vs in kept.values() if isinstance(vs, list)):
        raise AccountError(f"ひとつの絞り込みに選べる値は{MAX_VALUES}個までです。")
    query = str(kept.get("q", ""))
    name = " ".join((name or "").split())[:MAX_NAME_CHARS] or query or "保存した検索"
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
