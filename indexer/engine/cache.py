"""One least-recently-used cache, shared by every part that keeps what it read."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _one(_value: object) -> int:
    return 1


class LRU(Generic[K, V]):
    """A thread-safe map that keeps, within ``capacity``, the entries used last.

    Each entry counts ``weight(value)`` against the capacity (1 unless told:
    a posting list counts its postings); the least recently used go first,
    but the newest entry always stays, however heavy.  The first value put
    for a key is kept: two threads that read the same thing at once keep one.
    """

    def __init__(self, capacity: int, weight: Callable[[V], int] = _one) -> None:
        self.capacity = capacity
        self._weight = weight
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (unless one is kept already); the value kept."""
        weight = self._weight(value)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                return found[0]
            self._entries[key] = (value, weight)
            self._total += weight
            while self._total > self.capacity and len(self._entries) > 1:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._total -= dropped
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
