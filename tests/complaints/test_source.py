"""Complaints from other systems: source system and external id, taken in once."""

from __future__ import annotations

import pytest

from app.complaints import services
from app.core.errors import ServiceError
from tests.complaints.factories import new_complaint
from tests.factories import create_user


@pytest.fixture()
def lead(session):
    return create_user("quality_lead")


def test_the_source_is_kept_trimmed(lead) -> None:
    complaint = new_complaint(lead, source_system=" zendesk ", external_id=" 4711 ")
    assert (complaint.source_system, complaint.external_id) == ("zendesk", "4711")
    assert services.find_by_source("zendesk", "4711") is complaint


def test_the_same_ticket_is_refused_the_second_time(lead) -> None:
    first = new_complaint(lead, source_system="zendesk", external_id="4711")
    with pytest.raises(services.DuplicateComplaint) as refused:
        new_complaint(lead, source_system="zendesk", external_id="4711")
    assert refused.value.existing is first
    assert refused.value.message == (
        f"zendesk ticket 4711 was taken in before as {first.reference}."
    )


def test_a_source_without_an_external_id_may_repeat(lead) -> None:
    new_complaint(lead, source_system="webform")
    assert new_complaint(lead, source_system="webform").external_id is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"external_id": "1"}, "source_system", "Name the source system of the external id"),
        ({"source_system": "x" * 61}, "source_system", "at most 60 characters"),
        ({"source_system": "s", "external_id": "1" * 121}, "external_id", "at most 120"),
    ],
)
def test_refused_sources(lead, fields, field, message) -> None:
    with pytest.raises(ServiceError, match=message) as refused:
        new_complaint(lead, **fields)
    assert refused.value.field == field
