"""SQLite transactions: writers take the lock up front and queue; a long read holds nobody up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.db import make_engine, read_only_connection


@pytest.fixture()
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.sqlite3'}", busy_timeout_ms=200)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO note (body) VALUES ('first')"))
    yield engine
    engine.dispose()


def test_a_writer_waits_for_another_writers_transaction(engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        first.execute(text("SELECT count(*) FROM note"))  # BEGIN IMMEDIATE: the lock is taken
        with pytest.raises(Exception, match="database is locked"):
            second.execute(text("SELECT count(*) FROM note"))


def test_a_read_only_connection_lets_writers_commit_while_it_reads(engine) -> None:
    with read_only_connection(engine) as reader:
        assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 1
        with engine.begin() as writer:  # would time out if the reader held the write lock
            writer.execute(text("INSERT INTO note (body) VALUES ('second')"))
        # The reader keeps its snapshot: what it verifies does not shift under it.
        assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 1
    with engine.connect() as fresh:
        assert fresh.execute(text("SELECT count(*) FROM note")).scalar() == 2
