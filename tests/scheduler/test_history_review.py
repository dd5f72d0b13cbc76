"""Reviewing a history: the recurring-failure review as of a chosen day or over a range, from
the job's page and the CLI, on the real Comcast export (2015), which the daily review as of
today never sees."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.intake import services as intake
from app.nonconformities.models import Nonconformity, NonconformitySource
from app.scheduler.models import JobRun, RecurrenceRule, RecurrenceSignal, ScheduledJob
from app.scheduler.signals import history_moments, review_history, review_recurring_failures
from tests.capa.factories import make_process
from tests.intake.conftest import COMCAST, COMCAST_MAPPING

JOB = "/admin/scheduler/recurring-failure-review"
# One fingerprint per process (the file has no categories); rule (a) off.
SETTINGS = {"fingerprint": "process", "window_threshold": 1_000_000}


def import_comcast() -> None:
    """The whole real file, every complaint on one process ("Customer care")."""
    make_process("Customer care")
    mapping = json.loads(COMCAST_MAPPING.read_text(encoding="utf-8"))
    mapping["fields"]["process"] = {"value": "Customer care"}
    job = intake.create_job(COMCAST.name, COMCAST.read_bytes(), user=None)
    intake.set_mapping(job, mapping, user=None)
    intake.start_job(job, "skip_bad_rows", user=None)
    intake.run_to_end(job)
    assert job.imported_count == 2223


def review_ncs() -> list[Nonconformity]:
    return list(
        db.session.scalars(
            select(Nonconformity).where(
                Nonconformity.source == NonconformitySource.RECURRING_FAILURE_REVIEW
            )
        )
    )


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_history_moments_are_week_ends_and_the_last_day() -> None:
    # 1 April 2015 was a Wednesday: Mondays 6, 13, 20 April, then the end of the 22nd.
    assert history_moments(date(2015, 4, 1), date(2015, 4, 22)) == [
        datetime(2015, 4, day, tzinfo=UTC) for day in (6, 13, 20, 23)
    ]
    assert history_moments(date(2015, 4, 1), date(2015, 4, 1)) == [datetime(2015, 4, 2, tzinfo=UTC)]


def test_the_review_over_the_imported_quarter_finds_what_today_cannot(session) -> None:
    import_comcast()
    today = review_recurring_failures(SETTINGS)
    assert today["nonconformities_opened"] == 0  # 2015 lies far outside today's weeks

    counts = review_history(SETTINGS, date(2015, 4, 1), date(2015, 7, 5))

    assert counts["reviewed_from"] == "2015-04-01" and counts["reviewed_to"] == "2015-07-05"
    assert counts["reviews"] == 14  # 13 Mondays from 6 April to 29 June, then 6 July 00:00
    assert counts["nonconformities_opened"] == 1  # then suppressed while it is open
    (nc,) = review_ncs()
    assert nc.title == "Recurring failure: Customer care"
    # Detected as of the review that found it: the end of May 2015's last whole week.
    assert nc.detected_at == datetime(2015, 6, 1, tzinfo=UTC)
    signal = db.session.scalar(select(RecurrenceSignal))
    assert signal.window_end == datetime(2015, 6, 1, tzinfo=UTC)
    assert RecurrenceRule.ABOVE_UPPER_LIMIT in signal.rule_list
    # The week counts it quotes are the file's own (Monday weeks, counted from the CSV here).
    assert "2015-04-06 (128)" in signal.details and "2015-05-25 (115)" in signal.details
    # Its risk follows its size: 865 records over 8 weeks, 108 a week → occurrence 10, RPN 250.
    assert signal.record_count == 865
    assert (nc.severity, nc.occurrence, nc.detection) == (5, 10, 5)


def test_the_page_reviews_a_range_and_refuses_bad_ones(client, login, committed) -> None:
    committed(import_comcast)

    def configure() -> None:
        from app.scheduler.registry import job_definition
        from app.scheduler.runner import ensure_job_row

        job = ensure_job_row(job_definition("recurring-failure-review"))
        job.settings_json = json.dumps(SETTINGS)

    committed(configure)
    login("admin")
    page = text(client.get(JOB))
    assert "Review a history" in page

    for data, field, message in [
        ({"review_from": "2015-07-05", "review_to": "2015-04-01"}, "review_to", "before the first"),
        ({"review_from": "2015-04-01", "review_to": "2015-02-30"}, "review_to", "Not a valid date"),
        ({"review_from": "2015-04-01"}, "review_to", "Give the day to review as of"),
        ({"review_to": "2999-01-01"}, "review_to", "Choose a day up to today"),
        (
            {"review_from": "1999-12-01", "review_to": "2015-01-01"},
            "review_from",
            "from 2000-01-03",
        ),
    ]:
        response = client.post(f"{JOB}/review-history", data=data)
        assert response.status_code == 422, data
        shown = re.search(
            rf'id="{field}-error"><div>([^<]*)</div>', response.get_data(as_text=True)
        )
        assert shown and message in shown.group(1), (data, shown and shown.group(1))
    assert committed(lambda: db.session.scalar(select(func.count()).select_from(JobRun))) == 0

    response = client.post(
        f"{JOB}/review-history", data={"review_from": "2015-04-01", "review_to": "2015-07-05"}
    )
    assert response.status_code == 302
    page = text(client.get(JOB))
    assert "Recurring-failure review ran: " in page
    assert "reviewed from 2015-04-01, reviewed to 2015-07-05, reviews 14" in page
    assert "nonconformities opened 1" in page
    history = page.split('data-testid="run-history"')[1]
    assert "reviewed from: 2015-04-01" in history and "reviews: 14" in history
    assert committed(lambda: len(review_ncs())) == 1


def test_the_cli_reviews_as_of_a_day_and_over_a_range(databases) -> None:
    app = databases.new_migrated_app()
    with app.app_context():
        import_comcast()
        db.session.add(
            ScheduledJob(
                name="recurring-failure-review",
                cron="0 5 * * *",
                enabled=True,
                settings_json=json.dumps(SETTINGS),
                schedule_since=datetime.now(UTC),
            )
        )
        db.session.commit()
    runner = app.test_cli_runner()

    one_day = runner.invoke(
        args=["scheduler", "run-job", "recurring-failure-review", "--as-of", "2015-04-30"]
    )
    assert one_day.exit_code == 0, one_day.output
    assert "reviewed_from 2015-04-30, reviewed_to 2015-04-30, reviews 1" in one_day.output
    assert "nonconformities_opened 0" in one_day.output  # the baseline holds April itself

    ranged = runner.invoke(
        args=[
            "scheduler", "run-job", "recurring-failure-review",
            "--from", "2015-04-01", "--as-of", "2015-07-05",
        ]
    )  # fmt: skip
    assert ranged.exit_code == 0, ranged.output
    assert "reviews 14" in ranged.output and "nonconformities_opened 1" in ranged.output

    for args, message in [
        (["--from", "2015-07-05", "--as-of", "2015-04-01"], "The last day is before the first"),
        (["--as-of", "2999-01-01"], "Choose a day up to today"),
    ]:
        refused = runner.invoke(args=["scheduler", "run-job", "recurring-failure-review", *args])
        assert refused.exit_code == 1 and f"Error: {message}" in refused.output, refused.output
    unparseable = runner.invoke(
        args=["scheduler", "run-job", "recurring-failure-review", "--as-of", "30/04/2015"]
    )
    assert unparseable.exit_code == 2 and "'30/04/2015' does not match" in unparseable.output
    other = runner.invoke(
        args=["scheduler", "run-job", "overdue-reminders", "--as-of", "2015-04-30"]
    )
    assert other.exit_code == 1 and "apply to recurring-failure-review only" in other.output


@pytest.mark.parametrize("first", [None, date(2015, 4, 1)])
def test_a_review_as_of_a_day_counts_once(session, first) -> None:
    import_comcast()
    counts = review_history(SETTINGS, first or date(2015, 4, 30), date(2015, 4, 30))
    assert counts["reviews"] == (1 if first is None else 5)
