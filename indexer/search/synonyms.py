"""Query-time synonyms from the synonym groups of Sudachi's core dictionary.

Dictionary entries carry synonym group ids (米国, アメリカ and USA share one).
A query word is expanded only when it belongs to exactly one group: a word in
several groups has several meanings, and guessing among them costs precision.
Very short Latin words (SP, PC) are left out as synonyms for the same reason.

Building the map walks the whole dictionary (about 1.5 s), so it is built once
per process and kept in a cache file beside the index, keyed by the
dictionary's version.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from pathlib import Path

from indexer.analysis import dictionary_version, fold_katakana, sudachi_dictionary

log = logging.getLogger(__name__)

_MIN_LATIN_SYNONYM = 3

_lock = threading.Lock()
_loaded: dict[str, tuple[str, ...]] | None = None


def _key(form: str) -> str:
    return fold_katakana(form).lower()


def build_synonyms() -> dict[str, tuple[str, ...]]:
    """Word (as indexed) → its synonyms (as written), for words in exactly one group."""
    groups_of: dict[str, set[int]] = defaultdict(set)
    words_in: dict[int, set[str]] = defaultdict(set)
    for entry in sudachi_dictionary().entries():
        ids = entry.synonym_group_ids()
        if not ids:
            continue
        form = entry.normalized_form()
        groups_of[_key(form)].update(ids)
        for group in ids:
            words_in[group].add(form)
    synonyms: dict[str, tuple[str, ...]] = {}
    for key, groups in groups_of.items():
        if len(groups) != 1:
            continue
        (group,) = groups
        others = sorted(
            w
            for w in words_in[group]
            if _key(w) != key and not (w.isascii() and len(w) < _MIN_LATIN_SYNONYM)
        )
        if others:
            synonyms[key] = tuple(others)
    return synonyms


def load_synonyms(cache_dir: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The synonym map: from memory, else from the cache file, else built (and cached)."""
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        cache = None
        if cache_dir is not None:
            name = dictionary_version().replace(" ", "-")
            cache = cache_dir / f"synonyms-{name}.json"
            try:
                _loaded = {k: tuple(v) for k, v in json.loads(cache.read_text("utf-8")).items()}
                return _loaded
            except (OSError, ValueError):
                pass
        _loaded = build_synonyms()
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                temporary = cache.with_suffix(".tmp")
                temporary.write_text(json.dumps(_loaded, ensure_ascii=False), "utf-8")
                temporary.replace(cache)
            except OSError as exc:
                # A full disk: built again next time, and no half-written file holds its room.
                cache.with_suffix(".tmp").unlink(missing_ok=True)
                log.warning("could not cache synonyms in %s: %s", cache, exc)
        return _loaded
