"""Searching imported real complaints (the Comcast file in tests/data): what the full-text search
finds agrees with an independent reading of the stored text."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.complaints.listing import search_complaints
from app.complaints.models import Complaint
from tests.intake.conftest import COMCAST, COMCAST_MAPPING, mapping_of

ROWS = 400


def _words(complaint: Complaint) -> set[str]:
    text = " ".join(
        [
            complaint.reference,
            complaint.title,
            complaint.description,
            complaint.external_id or "",
            complaint.customer.name if complaint.customer else "",
        ]
    )
    return set(re.findall(r"\w+", text.lower()))


@pytest.mark.parametrize("query", ["data caps", "Internet speed", "billing", "Comcast throttling"])
def test_search_over_imported_comcast_rows_agrees_with_their_words(session, run_import, query):
    lines = COMCAST.read_bytes().splitlines(keepends=True)
    run_import(COMCAST, mapping_of(COMCAST_MAPPING), content=b"".join(lines[: ROWS + 1]))
    complaints = session.scalars(select(Complaint).where(Complaint.source_system == "comcast"))
    wanted = set(query.lower().split())
    expected = {c.id for c in complaints if wanted <= _words(c)}

    found = search_complaints(query)

    assert expected, "the sample holds complaints with these words"
    assert set(found) == expected
    assert len(found) == len(expected)


def test_an_imported_ticket_is_found_by_its_external_id(session, run_import):
    lines = COMCAST.read_bytes().splitlines(keepends=True)
    run_import(COMCAST, mapping_of(COMCAST_MAPPING), content=b"".join(lines[:50]))
    ticket = session.scalars(select(Complaint).where(Complaint.external_id == "250635")).one()
    assert search_complaints("250635") == [ticket.id]
    assert "Abingdon" in ticket.description
    assert ticket.id in search_complaints("abingdon")  # a line of the description
