"""The complaint list query: each filter, the text search, the overdue rule and sorting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.complaints import listing as complaint_listing
from app.complaints import services
from app.complaints.models import Channel, ComplaintStatus, Severity
from app.core.db import utcnow
from tests.complaints.factories import new_category, new_complaint, new_process, walk
from tests.factories import create_user


@pytest.fixture()
def lead(session):
    return create_user("quality_lead")


def titles(filters=None, sort=None) -> list[str]:
    statement, _ = complaint_listing.complaint_list_query(
        filters or complaint_listing.ComplaintFilters(), sort
    )
    return [complaint.title for complaint in services.db.session.scalars(statement)]


def test_default_order_is_newest_first(lead):
    now = utcnow()
    for days, title in ((3, "old"), (1, "new"), (2, "middle")):
        new_complaint(lead, title=title, received_at=now - timedelta(days=days))
    assert titles() == ["new", "middle", "old"]
    assert titles(sort="received_at") == ["old", "middle", "new"]
    assert titles(sort="no_such_column") == ["new", "middle", "old"]


def test_sort_by_severity_and_status_follows_their_meaning_not_the_alphabet(lead):
    for severity in ("medium", "critical", "low", "high"):
        new_complaint(lead, title=severity, severity=severity)
    assert titles(sort="severity") == ["low", "medium", "high", "critical"]
    assert titles(sort="-severity") == ["critical", "high", "medium", "low"]


def test_sort_by_status_and_reference(lead):
    closed = walk(new_complaint(lead, title="closed"), lead, "resolve", "close")
    received = new_complaint(lead, title="received")
    acknowledged = walk(new_complaint(lead, title="acknowledged"), lead, "acknowledge")
    assert titles(sort="status") == ["received", "acknowledged", "closed"]
    statement, used = complaint_listing.complaint_list_query(
        complaint_listing.ComplaintFilters(), "-reference"
    )
    assert used == "-reference"
    references = [c.reference for c in services.db.session.scalars(statement)]
    assert references == sorted(
        [closed.reference, received.reference, acknowledged.reference], reverse=True
    )


def test_filter_by_one_or_several_statuses(lead):
    new_complaint(lead, title="received")
    walk(new_complaint(lead, title="acknowledged"), lead, "acknowledge")
    walk(new_complaint(lead, title="resolved"), lead, "resolve")
    only = complaint_listing.ComplaintFilters(statuses=(ComplaintStatus.RESOLVED,))
    assert titles(only) == ["resolved"]
    several = complaint_listing.ComplaintFilters(
        statuses=(ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED)
    )
    assert sorted(titles(several)) == ["acknowledged", "received"]


def test_filter_by_process_category_assignee_channel_and_severity(lead):
    process, other_process = new_process(), new_process()
    category = new_category()
    contributor = create_user("contributor")
    new_complaint(
        lead,
        title="match",
        process_id=process.id,
        category_id=category.id,
        assignee_id=contributor.id,
        channel="phone",
        severity="high",
    )
    new_complaint(lead, title="other", process_id=other_process.id, channel="chat")
    for filters in (
        complaint_listing.ComplaintFilters(process_id=process.id),
        complaint_listing.ComplaintFilters(category_id=category.id),
        complaint_listing.ComplaintFilters(assignee_id=contributor.id),
        complaint_listing.ComplaintFilters(channel=Channel.PHONE),
        complaint_listing.ComplaintFilters(severity=Severity.HIGH),
    ):
        assert titles(filters) == ["match"], filters
    assert (
        titles(complaint_listing.ComplaintFilters(process_id=process.id, channel=Channel.CHAT))
        == []
    )


def test_filter_by_received_dates_includes_both_days(lead):
    for day in (1, 2, 3, 4):
        new_complaint(
            lead, title=f"day {day}", received_at=datetime(2025, 3, day, 23, 59, tzinfo=UTC)
        )
    filters = complaint_listing.ComplaintFilters(
        received_from=date(2025, 3, 2), received_to=date(2025, 3, 3)
    )
    assert sorted(titles(filters)) == ["day 2", "day 3"]


def test_overdue_is_open_and_received_more_than_n_days_ago(lead):
    now = utcnow()
    new_complaint(lead, title="old open", received_at=now - timedelta(days=15))
    walk(
        new_complaint(lead, title="old resolved", received_at=now - timedelta(days=20)),
        lead,
        "resolve",
    )
    walk(
        new_complaint(lead, title="old reopened", received_at=now - timedelta(days=30)),
        lead,
        "resolve",
        "reopen",
        reason="Not fixed",
    )
    new_complaint(lead, title="recent", received_at=now - timedelta(days=13))
    assert sorted(titles(complaint_listing.ComplaintFilters(overdue=True))) == [
        "old open",
        "old reopened",
    ]
    tighter = complaint_listing.ComplaintFilters(overdue=True, overdue_days=10)
    assert sorted(titles(tighter)) == ["old open", "old reopened", "recent"]


def test_text_search_matches_reference_and_title_words_in_any_case(lead):
    wanted = new_complaint(lead, title="Router keeps rebooting")
    new_complaint(lead, title="Invoice charged twice")
    new_complaint(lead, title="100% wrong bill")
    assert titles(complaint_listing.ComplaintFilters(text="ROUTER")) == ["Router keeps rebooting"]
    assert titles(complaint_listing.ComplaintFilters(text=wanted.reference.lower())) == [
        wanted.title
    ]
    assert titles(complaint_listing.ComplaintFilters(text="100%")) == ["100% wrong bill"]
    # Whole words (the full-text search): no substring, and wildcards are not wildcards.
    assert titles(complaint_listing.ComplaintFilters(text="0%")) == []
    assert titles(complaint_listing.ComplaintFilters(text="reboot")) == []
    assert titles(complaint_listing.ComplaintFilters(text="_")) == []
    assert titles(complaint_listing.ComplaintFilters(text="%")) == []


def test_describe_lists_only_the_filters_in_use():
    filters = complaint_listing.ComplaintFilters(
        statuses=(ComplaintStatus.RECEIVED,), severity=Severity.HIGH, overdue=True
    )
    assert filters.describe() == {"status": ["received"], "severity": "high", "overdue_days": 14}
