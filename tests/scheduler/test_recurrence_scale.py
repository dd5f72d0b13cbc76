"""Recurrence that scales with volume, on the real ServiceNow sample (890 incidents opened over
three days in 2016): an absolute threshold flags every busy pair, a share of the process's
records only the pair that dominates it. The nonconformity a signal raises is scored from the
signal's size, and the week still running is never judged."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.intake import services as intake
from app.nonconformities.models import Nonconformity, NonconformitySource
from app.scheduler.models import RecurrenceSignal
from app.scheduler.recurrence import ReviewSettings, detect_recurrences, week_index
from app.scheduler.signals import review_recurring_failures, signal_risk
from tests.capa.factories import make_category, make_process
from tests.intake.conftest import SERVICENOW, SERVICENOW_MAPPING
from tests.scheduler.data import add_complaints, in_week

AS_OF = datetime(2016, 3, 3, tzinfo=UTC)  # the day after the last incident was opened


def latest_categories() -> Counter[str]:
    """Incidents per category of their latest row, counted from the CSV itself."""
    with SERVICENOW.open(encoding="utf-8", newline="") as handle:
        latest = {row["number"]: row["category"] for row in csv.DictReader(handle)}
    return Counter(latest.values())


def import_servicenow() -> None:
    """The real event log, one process, the file's categories as Loop categories."""
    make_process("IT service desk")
    for name in sorted(latest_categories()):
        make_category(name)
    mapping = json.loads(SERVICENOW_MAPPING.read_text(encoding="utf-8"))
    mapping["fields"]["process"] = {"value": "IT service desk"}
    mapping["fields"]["category"] = {"column": "category"}
    job = intake.create_job(SERVICENOW.name, SERVICENOW.read_bytes(), user=None)
    intake.set_mapping(job, mapping, user=None)
    intake.start_job(job, "skip_bad_rows", user=None)
    intake.run_to_end(job)
    assert job.imported_count == 890


def signalled_categories(settings: dict) -> set[str]:
    result = detect_recurrences(ReviewSettings.from_settings(settings), AS_OF)
    names = {category.id: category.name for category in db.session.scalars(select_categories())}
    return {names[detection.key[1]] for detection in result.detections}


def select_categories():
    from app.organisation.models import Category

    return select(Category)


def test_a_share_of_the_process_flags_only_the_pair_that_dominates_it(session) -> None:
    import_servicenow()
    counts = latest_categories()
    assert sum(counts.values()) == 890 and len(counts) == 28

    # An absolute 40 in 30 days: every category with 40 incidents or more, 7 of 28.
    absolute = signalled_categories({"window_threshold": 40})
    assert absolute == {name for name, count in counts.items() if count >= 40}
    assert len(absolute) == 7
    # 40 and at least 20 % of the process's 890: only Category 45 (204, 22.9 %).
    share = signalled_categories(
        {"window_threshold": 40, "window_basis": "share", "window_share_percent": 20}
    )
    assert share == {name for name, count in counts.items() if count / 890 >= 0.2}
    assert share == {"Category 45"}
    # Rule (a) off: three days are no baseline, so the c-chart rules flag nothing.
    assert signalled_categories({"window_threshold": 40, "window_basis": "off"}) == set()


def test_the_share_rule_explains_itself_and_scores_the_risk_from_the_size(session) -> None:
    import_servicenow()
    review_recurring_failures(
        {"window_threshold": 40, "window_basis": "share", "window_share_percent": 20}, AS_OF
    )
    (nc,) = session.scalars(
        select(Nonconformity).where(
            Nonconformity.source == NonconformitySource.RECURRING_FAILURE_REVIEW
        )
    ).all()
    signal = db.session.scalar(select(RecurrenceSignal))
    assert "204 records in the 30 days to 2016-03-03" in signal.details
    assert "22.9 % of its process's 890 records, share threshold 20 %" in signal.details
    # 204 records in a 30-day window: 47.6 a week → occurrence 8, RPN 5 × 8 × 5 = 200.
    assert (nc.severity, nc.occurrence, nc.detection) == (5, 8, 5)
    assert "Risk priority 200" in nc.description and "47.6 records a week" in nc.description


@pytest.mark.parametrize(
    ("records", "days", "occurrence", "rpn"),
    [
        (1, 7, 4, 100),
        (3, 7, 5, 125),
        (3, 1, 5, 125),
        (30, 7, 8, 200),
        (300, 28, 9, 225),
        (900, 7, 10, 250),
    ],
)
def test_the_risk_follows_the_records_a_week(records, days, occurrence, rpn) -> None:
    start = datetime(2016, 1, 4, tzinfo=UTC)
    risk = signal_risk(records, start, start + timedelta(days=days))
    assert (risk.occurrence, risk.rpn) == (occurrence, rpn)
    assert signal_risk(2, start, start + timedelta(days=21)).rpn == 75  # under one a week: 3


def test_the_week_still_running_is_never_judged(session) -> None:
    """26 weeks of 2 a week, then a burst of 40 in the week in progress: the partial week is
    counted but not judged against the limits; once it is over it signals."""
    process, category = make_process("Billing"), make_category("Double charge")
    monday = datetime(2016, 9, 5, tzinfo=UTC)
    current = week_index(monday)
    for week in range(current - 34, current):
        add_complaints(process, category, in_week(week, 2))
    add_complaints(process, category, [monday + timedelta(hours=h) for h in range(40)])
    settings = ReviewSettings.from_settings({"window_basis": "off"})

    wednesday = monday + timedelta(days=2)
    assert detect_recurrences(settings, wednesday).detections == []
    (later,) = detect_recurrences(settings, monday + timedelta(weeks=1)).detections
    assert [hit.rule.value for hit in later.hits] == ["above_upper_limit"]
    assert date(2016, 9, 5).isoformat() in later.hits[0].explanation
