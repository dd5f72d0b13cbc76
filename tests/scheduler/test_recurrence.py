"""The recurring-failure review on constructed data with known answers: each rule, the limits
from app.core.spc, no second nonconformity while the first is open, and CAPA recurrence flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.capa.models import CapaStatus
from app.capa.services import EFFECTIVENESS_PURPOSE
from app.core.signatures import Signature, SignatureMeaning
from app.core.spc import c_chart_limits
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformitySource, NonconformityStatus
from app.notifications.models import Notification
from app.scheduler.models import CapaRecurrenceFlag, RecurrenceRule, RecurrenceSignal
from app.scheduler.recurrence import ReviewSettings, detect_recurrences
from app.scheduler.signals import review_recurring_failures
from tests import factories as users
from tests.capa.factories import make_category, make_process, plan
from tests.scheduler.data import (
    AS_OF,
    BASELINE_WEEKS,
    REVIEW_WEEKS,
    add_complaints,
    add_nonconformity,
    in_week,
    weekly,
)

# Rule (a) off unless a test turns it on; (b)/(c) off without a baseline.
QUIET = {"window_threshold": 1_000_000}


def review_ncs() -> list[Nonconformity]:
    return list(
        db.session.scalars(
            select(Nonconformity)
            .where(Nonconformity.source == NonconformitySource.RECURRING_FAILURE_REVIEW)
            .order_by(Nonconformity.id)
        )
    )


@pytest.fixture()
def pair(session):
    return make_process("Billing"), make_category("Double charge")


@pytest.fixture()
def other(session):
    return make_process("Shipping"), make_category("Late delivery")


def test_rule_a_the_count_in_the_rolling_window_reaches_the_threshold(session, pair, other):
    lead = users.create_user("quality_lead")
    days = [AS_OF - timedelta(days=d, hours=1) for d in (1, 3, 8, 15, 29)]
    add_complaints(*pair, days[:4])
    add_nonconformity(*pair, days[4])  # nonconformities count too: 5 in all
    add_complaints(*other, days[:4])  # 4: one short
    add_complaints(*other, [AS_OF - timedelta(days=31)])  # outside the window

    counts = review_recurring_failures({"window_days": 30, "window_threshold": 5}, AS_OF)

    assert counts["nonconformities_opened"] == 1
    (nc,) = review_ncs()
    assert (nc.process_id, nc.category_id) == (pair[0].id, pair[1].id)
    assert nc.status == NonconformityStatus.OPEN
    assert nc.title == "Recurring failure: Billing / Double charge"
    assert len(nc.complaints) == 4  # the contributing complaints are linked
    signal = db.session.scalar(select(RecurrenceSignal))
    assert signal.rule_list == [RecurrenceRule.WINDOW_THRESHOLD]
    assert signal.record_count == 5
    assert len(signal.contributing_nonconformities) == 1
    assert "5 records in the 30 days" in nc.description
    # The quality lead is notified, linking the new nonconformity.
    note = db.session.scalar(select(Notification).where(Notification.user_id == lead.id))
    assert note.link == f"/nonconformities/{nc.reference}"


def test_rule_b_a_week_above_the_upper_control_limit(session, pair, other):
    baseline = {week: 2 for week in BASELINE_WEEKS}
    limits = c_chart_limits(list(baseline.values()))
    assert limits.centre == 2 and 6 < limits.upper < 7  # 2 + 3·√2 ≈ 6.24
    add_complaints(*pair, weekly({**baseline, REVIEW_WEEKS[3]: 7}))  # 7 > 6.24
    add_complaints(*other, weekly({**baseline, REVIEW_WEEKS[3]: 6}))  # 6 is inside the limit

    result = detect_recurrences(ReviewSettings(**QUIET), AS_OF)

    assert [d.key for d in result.detections] == [(pair[0].id, pair[1].id)]
    (hit,) = result.detections[0].hits
    assert hit.rule == RecurrenceRule.ABOVE_UPPER_LIMIT
    assert "upper control limit 6.2" in hit.explanation
    # Nothing is written by detection; the review writes one nonconformity.
    assert review_ncs() == []
    assert review_recurring_failures(QUIET, AS_OF)["nonconformities_opened"] == 1
    (nc,) = review_ncs()
    assert len(nc.complaints) == 7  # the complaints of the week above the limit


def test_rule_b_ignores_weeks_with_fewer_records_than_the_minimum(session, pair):
    # Centre 0.25 → limit 1.75: a week of 2 is "above" it, but below the minimum of 5.
    add_complaints(*pair, weekly({**{w: 1 for w in BASELINE_WEEKS[::4]}, REVIEW_WEEKS[0]: 2}))
    assert detect_recurrences(ReviewSettings(**QUIET), AS_OF).detections == []
    found = detect_recurrences(ReviewSettings(**QUIET, min_weekly_count=2), AS_OF).detections
    assert [hit.rule for hit in found[0].hits] == [RecurrenceRule.ABOVE_UPPER_LIMIT]


def test_rule_c_eight_weeks_in_a_row_above_the_centre_line(session, pair, other):
    baseline = {week: 2 for week in BASELINE_WEEKS}
    add_complaints(*pair, weekly({**baseline, **{week: 3 for week in REVIEW_WEEKS}}))
    seven = {week: 3 for week in REVIEW_WEEKS[1:]}
    add_complaints(*other, weekly({**baseline, REVIEW_WEEKS[0]: 2, **seven}))

    result = detect_recurrences(ReviewSettings(**QUIET), AS_OF)

    assert [d.key for d in result.detections] == [(pair[0].id, pair[1].id)]
    (hit,) = result.detections[0].hits
    assert hit.rule == RecurrenceRule.RUN_ABOVE_CENTRE
    assert "8 weeks in a row" in hit.explanation


def test_no_second_nonconformity_while_the_first_is_open(session, pair):
    lead = users.create_user("quality_lead")
    add_complaints(*pair, weekly({**{w: 2 for w in BASELINE_WEEKS}, REVIEW_WEEKS[-1]: 9}))
    first = review_recurring_failures(QUIET, AS_OF)
    again = review_recurring_failures(QUIET, AS_OF + timedelta(days=1))
    assert first["nonconformities_opened"] == 1
    assert again == {**again, "nonconformities_opened": 0, "suppressed_while_open": 1}
    assert len(review_ncs()) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == lead.id)
        )
        == 1
    )

    # Closed: the old records do not signal again, new ones do.
    (nc,) = review_ncs()
    nc.status = NonconformityStatus.CLOSED
    db.session.flush()
    assert (
        review_recurring_failures(QUIET, AS_OF + timedelta(days=2))["nonconformities_opened"] == 0
    )
    later = AS_OF + timedelta(weeks=1)
    add_complaints(*pair, in_week(REVIEW_WEEKS[-1] + 1, 9))
    assert review_recurring_failures(QUIET, later)["nonconformities_opened"] == 1
    assert len(review_ncs()) == 2


def test_the_review_does_not_count_its_own_nonconformities(session, pair):
    add_complaints(*pair, [AS_OF - timedelta(days=1)] * 3)
    assert review_recurring_failures({"window_threshold": 3}, AS_OF)["nonconformities_opened"] == 1
    (nc,) = review_ncs()
    nc.status = NonconformityStatus.CLOSED
    db.session.flush()
    # Its own nonconformity (same process and category, detected now) is not a fourth failure.
    assert review_recurring_failures({"window_threshold": 1}, AS_OF)["nonconformities_opened"] == 0


def test_the_fingerprint_is_configurable(session, pair, other):
    billing, double_charge = pair
    add_complaints(billing, double_charge, [AS_OF - timedelta(days=2)] * 2)
    add_complaints(billing, other[1], [AS_OF - timedelta(days=2)] * 2)
    by_pair = detect_recurrences(ReviewSettings(window_threshold=3), AS_OF).detections
    by_process = detect_recurrences(
        ReviewSettings(window_threshold=3, fingerprint="process"), AS_OF
    ).detections
    assert by_pair == []
    assert [d.key for d in by_process] == [(billing.id,)]


def test_a_recurrence_after_a_capa_was_verified_effective_is_flagged_on_it(session, pair):
    lead = users.create_user("quality_lead")
    owner = users.create_user("contributor")
    old_nc = add_nonconformity(*pair, AS_OF - timedelta(days=90))
    capa = plan(owner, nonconformity_ids=[old_nc.id])
    capa.status = CapaStatus.EFFECTIVE
    verified_at = AS_OF - timedelta(days=20)
    db.session.add(
        Signature(
            record_type="capa",
            record_id=str(capa.id),
            purpose=EFFECTIVENESS_PURPOSE,
            meaning=SignatureMeaning.VERIFIED,
            signer_id=lead.id,
            signer_name=lead.full_name,
            signer_email=lead.email,
            signed_at=verified_at,
            content_hash="0" * 64,
        )
    )
    db.session.flush()
    add_complaints(*pair, [AS_OF - timedelta(days=25)] * 2 + [AS_OF - timedelta(days=3)] * 3)

    counts = review_recurring_failures({"window_threshold": 5}, AS_OF)

    assert counts["capas_flagged"] == 1
    flag = db.session.scalar(select(CapaRecurrenceFlag))
    assert flag.capa_id == capa.id and flag.records_since_verified == 3
    # The owner hears about it too.
    note = db.session.scalar(
        select(Notification).where(
            Notification.user_id == owner.id, Notification.kind == "capa_recurrence"
        )
    )
    assert note.link == f"/capa/{capa.reference}"
