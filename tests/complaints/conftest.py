"""The complaint tests fetch complaints by reference (the shared fixtures are in tests/conftest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture()
def fetch(committed: Callable[..., Any]) -> Callable[[str], Any]:
    """A fresh copy of one complaint by reference, read in its own session."""
    from app.complaints import services

    def get(reference: str) -> Any:
        return committed(lambda: services.get_by_reference(reference))

    return get
