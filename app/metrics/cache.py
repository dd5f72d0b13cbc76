"""A per-process cache of KPI figures that a write anywhere makes stale.

At a million complaints the exact figures for one scope take SQLite about a second (medians need a
sort of every duration in the period), so the dashboard keeps each scope's figures for up to
METRICS_CACHE_SECONDS (default 300; 0 turns the cache off, as the tests do). Every entry remembers
the records' data version (`app.core.data_version`, a counter in the database bumped by every
audited change, whichever worker or host makes it) it was computed at, and is used only while the
version is unchanged: a complaint created through the API shows on the next dashboard load.
Figures are plain values, never ORM objects, so sharing them between requests is safe. Each
worker warms its own entries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, g, has_request_context

from app.core import data_version
from app.extensions import db

T = TypeVar("T")
MAX_ENTRIES = 256


class FigureCache:
    def __init__(self) -> None:
        # key -> (expires at, data version computed at, value)
        self._entries: OrderedDict[Hashable, tuple[float, int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(
        self, key: Hashable, ttl: float, compute: Callable[[], T], version: int = 0
    ) -> T:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now and entry[1] == version:
                self._entries.move_to_end(key)
                return entry[2]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._entries[key] = (now + ttl, version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or its value for the same key computed earlier in this request, or in the
    last METRICS_CACHE_SECONDS, if no controlled record has changed since (as this transaction
    sees the data version). Within a request the same window is computed once whatever the
    setting: the dashboard and a goal measured over the same period share it."""
    version = data_version.current(db.session)
    in_request: dict[Hashable, tuple[int, object]] | None = None
    if has_request_context():
        in_request = g.setdefault("metrics_figures", {})
        found = in_request.get(key)
        if found is not None and found[0] == version:
            return found[1]  # type: ignore[return-value]
    ttl = float(current_app.config.get("METRICS_CACHE_SECONDS", 0) or 0)
    if ttl > 0:
        cache = current_app.extensions.setdefault("metrics_cache", FigureCache())
        value = cache.get_or_compute(key, ttl, compute, version)
    else:
        value = compute()
    if in_request is not None:
        in_request[key] = (version, value)
    return value
