"""Fixtures for the organisation tests: work done "by someone else" in its own app context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db


@pytest.fixture()
def committed(app: Flask, db_connection: None) -> Callable[..., Any]:
    """Run `fn(*args, **kwargs)` in its own app context and commit, as a separate request would.

    Returned records are detached but keep their loaded values, so tests can read them.
    """

    def run(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        with app.app_context():
            result = fn(*args, **kwargs)
            db.session.commit()
            return result

    return run


@pytest.fixture()
def count(committed: Callable[..., Any]) -> Callable[[type], int]:
    """How many rows of `model` the database holds right now."""

    def rows(model: type) -> int:
        return committed(lambda: db.session.scalar(select(func.count()).select_from(model)))

    return rows


@pytest.fixture()
def fetch(committed: Callable[..., Any]) -> Callable[[type, int], Any]:
    """A fresh copy of one record, read in its own session (never from a cached identity map)."""

    def get(model: type, ident: int) -> Any:
        return committed(lambda: db.session.get(model, ident))

    return get
