"""Reference numbers stay unique when two transactions take the first number of a year at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from app.core.references import next_reference
from tests.conftest import is_postgres


@pytest.mark.skipif(not is_postgres(), reason="SQLite serialises writers with BEGIN IMMEDIATE")
def test_two_first_numbers_of_a_year_taken_at_once_are_one_and_two(databases):
    engine = databases.new_migrated_app().extensions["loop_db"].engine
    taken: dict[str, object] = {}
    with Session(engine) as first:
        taken["first"] = next_reference(first, "CMP", 2031)  # the counter row is new, uncommitted

        def take_second() -> None:
            with Session(engine) as second:
                try:
                    taken["second"] = next_reference(second, "CMP", 2031)
                    second.commit()
                except Exception as error:  # reported by the assertion below
                    taken["second"] = error

        thread = threading.Thread(target=take_second)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second transaction must wait for the first"
        first.commit()
    thread.join(timeout=30)
    assert taken == {"first": "CMP-2031-000001", "second": "CMP-2031-000002"}
