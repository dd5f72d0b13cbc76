"""The dashboard's daily rollups (app.metrics.rollup) always equal the figures computed from the
complaints and recovery actions themselves, whatever sequence of writes made them: recording,
workflow transitions, reopening and resolving again, edits that move a complaint to another
process, category or channel, escalation, satisfaction and retention, recovery actions and their
deletion, file imports, a process moved to another site, and deleted complaints.

Hypothesis draws the sequences. Each example adds to what the earlier ones wrote (the property
holds for the whole database, so no example needs a clean one), with its own site and processes so
that the filtered scopes look at what it wrote."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.complaints import services as complaints
from app.complaints.models import Complaint, RecoveryAction
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.extensions import db
from app.intake import services as intake
from app.metrics import kpis, rollup
from app.metrics.kpis import Scope
from app.organisation.models import Category, Process, Site
from tests import factories

CHANNELS = ("phone", "email", "web_form")
TRANSITIONS = ("acknowledge", "investigate", "resolve", "close", "reopen")
_numbers = itertools.count(1)

created = st.tuples(
    st.just("create"),
    st.integers(0, 40),  # days ago
    st.integers(0, 3),  # process: 0 none, else the example's own 1..3
    st.sampled_from(CHANNELS),
    st.integers(0, 2),  # category: 0 none
    st.sampled_from([None, True, False]),  # timely response (as the source says)
    st.sampled_from([None, True, False]),  # disputed
)
transitioned = st.tuples(st.just("transition"), st.integers(0, 30), st.sampled_from(TRANSITIONS))
edited = st.tuples(
    st.just("edit"),
    st.integers(0, 30),
    st.integers(0, 3),
    st.integers(0, 2),
    st.sampled_from(CHANNELS),
)
escalated = st.tuples(st.just("escalate"), st.integers(0, 30), st.integers(0, 3))
rated = st.tuples(st.just("csat"), st.integers(0, 30), st.integers(1, 5))
followed_up = st.tuples(
    st.just("retention"), st.integers(0, 30), st.sampled_from(["left", "unknown", "stayed"])
)
recovered = st.tuples(
    st.just("recovery"), st.integers(0, 30), st.integers(0, 500), st.integers(0, 10)
)
action_deleted = st.tuples(st.just("delete_action"), st.integers(0, 30))
imported = st.tuples(
    st.just("import"), st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3)), max_size=4)
)
site_moved = st.tuples(st.just("move_site"), st.integers(1, 3))
deleted = st.tuples(st.just("delete"), st.integers(0, 30))
operations = st.lists(
    st.one_of(
        created,
        created,
        transitioned,
        transitioned,
        transitioned,
        edited,
        escalated,
        rated,
        followed_up,
        recovered,
        action_deleted,
        imported,
        site_moved,
        deleted,
    ),
    max_size=24,
)


class World:
    """The records one example writes into, and the operations on them."""

    def __init__(self) -> None:
        # Earlier examples' records stay in the database but not in the session: SQLite may
        # reuse a deleted row's id, which the session must not still map to the old object.
        db.session.expunge_all()
        number = next(_numbers)
        self.lead = factories.create_user("quality_lead")
        self.site = Site(name=f"Rollup site {number}", code=f"RS{number}")
        self.other_site = Site(name=f"Rollup other site {number}", code=f"RO{number}")
        self.processes = [
            Process(name=f"Rollup process {number}.{index}", site=self.site) for index in (1, 2, 3)
        ]
        self.categories = [Category(name=f"Rollup category {number}.{index}") for index in (1, 2)]
        db.session.add_all(
            [self.site, self.other_site, *self.processes, *self.categories]  # type: ignore[list-item]
        )
        db.session.flush()
        self.complaints: list[Complaint] = []
        self.number = number

    def process_id(self, index: int) -> int | None:
        return self.processes[index - 1].id if index else None

    def category_id(self, index: int) -> int | None:
        return self.categories[index - 1].id if index else None

    def complaint(self, index: int) -> Complaint | None:
        alive = [c for c in self.complaints if c in db.session]
        return alive[index % len(alive)] if alive else None

    def apply(self, operation: tuple) -> None:
        kind, *args = operation
        try:
            with db.session.begin_nested():
                getattr(self, f"_{kind}")(*args)
        except ServiceError:
            pass  # refused: it must change nothing, which the comparison checks too

    def _create(self, days_ago, process, channel, category, timely, disputed) -> None:
        complaint = complaints.record_complaint(
            user=self.lead,
            title="Rollup test",
            channel=channel,
            severity="medium",
            received_at=utcnow() - timedelta(days=days_ago, hours=1),
            process_id=self.process_id(process),
            category_id=self.category_id(category),
            timely_response=timely,
            disputed=disputed,
        )
        self.complaints.append(complaint)

    def _transition(self, index, name) -> None:
        if (complaint := self.complaint(index)) is not None:
            reason = "Came back" if name == "reopen" else None
            complaints.transition_complaint(complaint, name, user=self.lead, reason=reason)

    def _edit(self, index, process, category, channel) -> None:
        if (complaint := self.complaint(index)) is not None:
            complaints.update_complaint(
                complaint,
                user=self.lead,
                title=complaint.title,
                description=complaint.description,
                product_or_service=complaint.product_or_service,
                customer_id=complaint.customer_id,
                process_id=self.process_id(process),
                category_id=self.category_id(category),
                severity=complaint.severity,
                channel=channel,
                expected_version=complaint.version,
            )

    def _escalate(self, index, level) -> None:
        if (complaint := self.complaint(index)) is not None:
            complaints.escalate_complaint(complaint, level, user=self.lead, reason="Test")

    def _csat(self, index, score) -> None:
        if (complaint := self.complaint(index)) is not None:
            complaints.record_satisfaction(complaint, user=self.lead, score=score)

    def _retention(self, index, status) -> None:
        if (complaint := self.complaint(index)) is not None:
            complaints.record_retention(complaint, user=self.lead, status=status, follow_up_days=1)

    def _recovery(self, index, amount, days_ago) -> None:
        if (complaint := self.complaint(index)) is not None:
            complaints.add_recovery_action(
                complaint,
                user=self.lead,
                kind="refund" if amount else "apology",
                amount=Decimal(amount) if amount else None,
                currency="EUR" if amount else None,
                done_at=max(complaint.received_at, utcnow() - timedelta(days=days_ago)),
            )

    def _delete_action(self, index) -> None:
        if (complaint := self.complaint(index)) is not None and complaint.recovery_actions:
            _delete(complaint.recovery_actions[0])
            db.session.expire(complaint, ["recovery_actions"])  # reload without the deleted one

    def _delete(self, index) -> None:
        # The app keeps complaints; a deletion (by an administrator's script, say) removes the
        # recovery actions first, as the foreign key requires.
        if (complaint := self.complaint(index)) is not None:
            _delete(*complaint.recovery_actions, complaint)

    def _move_site(self, process) -> None:
        moved = self.processes[process - 1]
        moved.site = self.other_site if moved.site is self.site else self.site
        db.session.flush()

    def _import(self, rows) -> None:
        if not rows:
            return
        lines = ["Ref,Title,Received,Process,State"]
        for number, (days_ago, process) in enumerate(rows):
            received = (utcnow() - timedelta(days=days_ago, hours=2)).strftime("%Y-%m-%d %H:%M")
            name = self.processes[process - 1].name if process else ""
            state = "Solved" if number % 2 else "Open"
            lines.append(f"R{self.number}-{next(_numbers)},Imported,{received},{name},{state}")
        job = intake.create_job("rollup.csv", "\n".join(lines).encode(), user=None)
        intake.set_mapping(
            job,
            {
                "source_system": "rollup-test",
                "date_formats": ["%Y-%m-%d %H:%M"],
                "fields": {
                    "external_id": "Ref",
                    "title": "Title",
                    "received_at": "Received",
                    "channel": {"value": "email"},
                    "severity": {"value": "low"},
                    "process": {"column": "Process", "if_missing": "leave_empty"},
                    "status": {
                        "column": "State",
                        "values": {"Open": "received", "Solved": "resolved"},
                    },
                },
            },
            user=None,
        )
        intake.start_job(job, "all_or_nothing", user=None)
        intake.run_to_end(job)
        assert job.imported_count == len(rows), job.message


def _delete(*records: object) -> None:
    for record in records:
        db.session.delete(record)
    db.session.flush()
    # SQLite may give the next row a deleted one's id before this transaction ends: the session
    # must not still hold the deleted object under it.
    for record in records:
        db.session.expunge(record)


def _same(scope: Scope) -> None:
    rolled = kpis.complaint_figures(scope)
    assert rolled == kpis.complaint_figures(scope, from_base=True), scope
    assert sorted(kpis.complaints_per_day(scope)) == sorted(
        kpis.complaints_per_day(scope, from_base=True)
    )
    assert sorted(kpis.complaint_category_counts(scope), key=str) == sorted(
        kpis.complaint_category_counts(scope, from_base=True), key=str
    )
    assert kpis.recovery_cost(scope) == kpis.recovery_cost(scope, from_base=True)


@settings(
    max_examples=int(os.environ.get("ROLLUP_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_rollups_equal_the_figures_from_the_records_after_any_writes(session, steps) -> None:
    world = World()
    for step in steps:
        world.apply(step)
    db.session.flush()
    scopes = [
        Scope.last_days(60),
        Scope.last_days(60, site_id=world.site.id),
        Scope.last_days(60, site_id=world.other_site.id),
        Scope.last_days(60, channel="phone"),
        Scope.last_days(7, process_id=world.processes[0].id, channel="email"),
        *(Scope.last_days(45, process_id=process.id) for process in world.processes),
    ]
    for scope in scopes:
        _same(scope)
    # The cells themselves: recomputing them from the records finds nothing to correct.
    assert rollup.rebuild(db.session.connection()).corrected == 0


def test_a_period_that_is_not_whole_days_is_counted_from_the_records(session) -> None:
    world = World()
    world.apply(("create", 0, 1, "phone", 1, None, None))
    now = utcnow()
    part_of_a_day = Scope(start=now - timedelta(hours=3), end=now)
    assert not rollup.covers(part_of_a_day.start, part_of_a_day.end)
    assert kpis.complaint_figures(part_of_a_day).complaints >= 1


def test_rebuild_repairs_cells_changed_behind_the_apps_back(session) -> None:
    world = World()
    world.apply(("create", 1, 1, "phone", 1, True, None))
    world.apply(("create", 2, 2, "email", 0, None, True))
    scope = Scope.last_days(10, site_id=world.site.id)
    expected = kpis.complaint_figures(scope, from_base=True)
    table = rollup.ComplaintDayRollup.__table__
    db.session.execute(table.update().values(complaints=table.c.complaints + 5))
    assert kpis.complaint_figures(scope).complaints == expected.complaints + 10
    result = rollup.rebuild(db.session.connection())
    assert result.corrected >= 2
    assert kpis.complaint_figures(scope) == expected


def test_seeding_counts_its_bulk_inserts_into_the_rollups(app, fresh_database_url) -> None:
    from app import create_app

    seeded = create_app({"DATABASE_URL": fresh_database_url})
    runner = seeded.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["seed-demo", "--complaints", "2000"])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        complaints_stored = db.session.scalar(select(func.count()).select_from(Complaint))
        in_rollup = db.session.scalar(
            select(func.sum(rollup.ComplaintDayRollup.__table__.c.complaints))
        )
        actions_cost = db.session.scalar(
            select(func.sum(RecoveryAction.amount)).where(RecoveryAction.amount.is_not(None))
        )
        rolled_cost = db.session.scalar(
            select(func.sum(rollup.RecoveryCostDayRollup.__table__.c.amount))
        )
        assert in_rollup == complaints_stored >= 2000
        assert Decimal(rolled_cost) == Decimal(actions_cost)
        assert rollup.rebuild(db.session.connection()).corrected == 0
        db.session.rollback()


def test_the_rebuild_command_says_what_it_corrected(app, fresh_database_url) -> None:
    from app import create_app

    other = create_app({"DATABASE_URL": fresh_database_url})
    runner = other.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with other.app_context():
        world = World()
        world.apply(("create", 1, 1, "phone", 1, None, None))
        db.session.commit()
        db.session.execute(rollup.ComplaintDayRollup.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["metrics", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "1 cell was wrong before" in result.output
    again = runner.invoke(args=["metrics", "rebuild"])
    assert "0 cells were wrong before" in again.output
