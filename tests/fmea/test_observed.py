"""The FMEA learns from recorded failures: observed counts per process × category beside the
occurrence rating, the contradiction flag, and failure modes no FMEA row covers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.db import utcnow
from app.fmea import observed
from app.nonconformities.models import NonconformityStatus
from tests.capa.factories import make_category, make_complaint, make_nonconformity, make_process
from tests.factories import create_user
from tests.fmea.factories import make_fmea, make_row


@pytest.fixture()
def lead(session):
    return create_user("quality_lead")


@pytest.mark.parametrize(
    ("occurrence", "seen", "flagged"),
    [
        (1, 0, False),
        (1, 1, True),
        (2, 1, False),
        (2, 2, True),
        (3, 3, False),
        (3, 4, True),
        (4, 50, False),
        (10, 500, False),
    ],
)
def test_the_contradiction_rule(occurrence, seen, flagged):
    assert observed.occurrence_contradicted(occurrence, seen) is flagged


def test_observed_counts_and_the_flag_on_seeded_failures(lead):
    billing, other = make_process("Billing"), make_process("Installation")
    charged, outage, unused = (
        make_category("Billing error"),
        make_category("Service outage"),
        make_category("Data caps"),
    )
    now = utcnow()
    # Billing × billing error: 3 complaints and 2 nonconformities in the window ...
    for days in (5, 40, 200):
        make_complaint(process=billing, category=charged, received_at=now - timedelta(days=days))
    for days in (10, 300):
        make_nonconformity(
            process=billing, category=charged, detected_at=now - timedelta(days=days)
        )
    # ... and what must not count: too old, another process, a cancelled nonconformity.
    make_complaint(process=billing, category=charged, received_at=now - timedelta(days=400))
    make_complaint(process=other, category=charged, received_at=now - timedelta(days=3))
    cancelled = make_nonconformity(process=billing, category=charged, detected_at=now)
    cancelled.status = NonconformityStatus.CANCELLED
    make_complaint(process=billing, category=outage, received_at=now - timedelta(days=1))

    fmea = make_fmea(lead, billing)
    low = make_row(fmea, lead, [charged], failure_mode="Charged twice", occurrence=2)
    honest = make_row(fmea, lead, [charged], failure_mode="Wrong tariff", occurrence=6)
    both = make_row(fmea, lead, [charged, outage], failure_mode="Credit lost", occurrence=3)
    quiet = make_row(fmea, lead, [unused], failure_mode="Cap charge", occurrence=1)
    bare = make_row(fmea, lead, [], failure_mode="Unlinked", occurrence=1)

    evidence = observed.evidence_for_rows(fmea, [low, honest, both, quiet, bare], now)
    assert evidence[low.id].observed == observed.Observed(complaints=3, nonconformities=2)
    assert evidence[low.id].contradicts is True
    assert evidence[honest.id].observed.total == 5
    assert evidence[honest.id].contradicts is False
    assert evidence[both.id].observed == observed.Observed(complaints=4, nonconformities=2)
    assert evidence[both.id].contradicts is True
    assert evidence[quiet.id].observed.total == 0
    assert evidence[quiet.id].contradicts is False
    assert evidence[bare.id].observed is None and evidence[bare.id].contradicts is False


def test_the_counts_take_two_queries_whatever_the_number_of_rows(lead, count_queries):
    process = make_process()
    categories = [make_category() for _ in range(6)]
    fmea = make_fmea(lead, process)
    rows = [make_row(fmea, lead, [c], failure_mode=f"Mode {i}") for i, c in enumerate(categories)]
    for c in categories:
        make_complaint(process=process, category=c)
    for row in rows:
        assert row.categories  # loaded before counting
    assert count_queries(lambda: observed.evidence_for_rows(fmea, rows)) == 2


def test_nonconformities_no_fmea_row_covers_are_listed(lead):
    billing, install = make_process("Billing"), make_process("Installation")
    covered_cat, missing_cat = make_category("Billing error"), make_category("Slow speed")
    fmea = make_fmea(lead, billing)
    make_row(fmea, lead, [covered_cat])
    now = utcnow()
    covered = make_nonconformity(process=billing, category=covered_cat, title="Covered")
    missing = make_nonconformity(process=billing, category=missing_cat, title="Not analysed")
    # The category is covered for billing, not for installation: that FMEA does not cover it.
    elsewhere = make_nonconformity(process=install, category=covered_cat, title="Other process")
    old = make_nonconformity(
        process=billing, category=missing_cat, detected_at=now - timedelta(days=500)
    )
    no_category = make_nonconformity(process=billing, category=None)
    cancelled = make_nonconformity(process=billing, category=missing_cat)
    cancelled.status = NonconformityStatus.CANCELLED

    everywhere = observed.unmatched_nonconformities(now=now)
    listed = {nc.id for nc in everywhere.nonconformities}
    assert missing.id in listed and elsewhere.id in listed
    assert not listed & {covered.id, old.id, no_category.id, cancelled.id}
    assert everywhere.total == 2

    for_billing = observed.unmatched_nonconformities(billing.id, now=now)
    assert [nc.id for nc in for_billing.nonconformities] == [missing.id]

    # Once a row names the category, the failure mode is in the FMEA.
    make_row(fmea, lead, [missing_cat], failure_mode="Slow after a plan change")
    assert observed.unmatched_nonconformities(billing.id, now=now).total == 0
