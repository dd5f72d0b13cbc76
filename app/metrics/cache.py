"""A short-lived, per-process cache of KPI figures.

At a million complaints the exact figures for one scope take SQLite about a second (medians need a
sort of every duration in the period), so the dashboard keeps each scope's figures for
METRICS_CACHE_SECONDS (default 300; 0 turns the cache off, as the tests do). Figures are plain
values, never ORM objects, so sharing them between requests is safe. The cache is per process:
with several workers each warms its own. Staleness is bounded by the TTL and shown on the page.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
MAX_ENTRIES = 256


class FigureCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, ttl: float, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._entries[key] = (now + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or its value from the last METRICS_CACHE_SECONDS for the same key."""
    ttl = float(current_app.config.get("METRICS_CACHE_SECONDS", 0) or 0)
    if ttl <= 0:
        return compute()
    cache = current_app.extensions.setdefault("metrics_cache", FigureCache())
    return cache.get_or_compute(key, ttl, compute)
