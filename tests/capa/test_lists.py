"""The CAPA list query (filters, overdue, sort) and "my work"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.capa import effectiveness as capa_effectiveness
from app.capa import listing as capa_listing
from app.capa import services
from app.capa import training as capa_training
from app.capa.models import CapaStatus
from app.extensions import db
from tests import factories as users
from tests.capa.factories import advance, make_category, make_nonconformity, make_process, plan

TODAY = services.today_utc()
LONG_AGO = TODAY - timedelta(days=365)


def references(filters: capa_listing.CapaFilters, sort: str | None = None) -> list[str]:
    statement, _ = capa_listing.capa_list_query(filters, sort)
    return [capa.reference for capa in db.session.scalars(statement)]


def test_filters_and_overdue(session):
    lead = users.create_user("quality_lead")
    owner = users.create_user("contributor")
    billing, category = make_process("Billing"), make_category("Double charge")
    nc = make_nonconformity(process=billing, category=category)
    late = plan(owner, due_date=TODAY - timedelta(days=3), today=LONG_AGO, principle_ids=[1])
    soon = plan(lead, due_date=TODAY + timedelta(days=3), nonconformity_ids=[nc.id])
    done_late = plan(lead, due_date=TODAY - timedelta(days=9), today=LONG_AGO, kind="preventive")
    advance(done_late, CapaStatus.EFFECTIVE, lead)
    employee = plan(lead, recovery_dimension="employee", due_date=TODAY + timedelta(days=40))

    everything = capa_listing.CapaFilters()
    assert references(everything) == [
        done_late.reference,
        late.reference,
        soon.reference,
        employee.reference,
    ]
    assert references(capa_listing.CapaFilters(overdue=True)) == [late.reference]
    assert references(capa_listing.CapaFilters(owner_id=owner.id)) == [late.reference]
    assert references(capa_listing.CapaFilters(status=CapaStatus.EFFECTIVE)) == [
        done_late.reference
    ]
    assert references(capa_listing.CapaFilters(kind="preventive")) == [done_late.reference]
    assert references(capa_listing.CapaFilters(recovery_dimension="employee")) == [
        employee.reference
    ]
    assert references(capa_listing.CapaFilters(principle_id=1)) == [late.reference]
    assert references(capa_listing.CapaFilters(process_id=billing.id)) == [soon.reference]
    assert references(capa_listing.CapaFilters(category_id=category.id)) == [soon.reference]
    assert references(
        capa_listing.CapaFilters(
            due_from=TODAY - timedelta(days=5), due_to=TODAY + timedelta(days=5)
        )
    ) == [late.reference, soon.reference]
    assert services.is_overdue(late) and not services.is_overdue(done_late)


@pytest.mark.parametrize(
    ("sort", "expected_order"),
    [
        (None, ["b", "a", "c"]),
        ("-due_date", ["c", "a", "b"]),
        ("reference", ["a", "b", "c"]),
        ("-reference", ["c", "b", "a"]),
        ("title; drop table capa", ["b", "a", "c"]),
    ],
)
def test_sorting(session, sort, expected_order):
    lead = users.create_user("quality_lead")
    capas = {
        "a": plan(lead, due_date=TODAY + timedelta(days=5)),
        "b": plan(lead, due_date=TODAY + timedelta(days=1)),
        "c": plan(lead, due_date=TODAY + timedelta(days=9)),
    }
    names = {capa.reference: name for name, capa in capas.items()}
    statement, used = capa_listing.capa_list_query(capa_listing.CapaFilters(), sort)
    assert [names[capa.reference] for capa in db.session.scalars(statement)] == expected_order
    assert used == (sort if sort in ("-due_date", "reference", "-reference") else "due_date")


def test_my_work_lists_overdue_first_then_by_due_date(session):
    lead = users.create_user("quality_lead")
    me = users.create_user("contributor")
    someone = users.create_user("contributor")
    later = plan(me, due_date=TODAY + timedelta(days=20), title="Later")
    plan(me, due_date=TODAY - timedelta(days=2), today=LONG_AGO, title="Overdue")
    sooner = plan(me, due_date=TODAY + timedelta(days=2), title="Sooner")
    plan(me, due_date=TODAY - timedelta(days=30), today=LONG_AGO, title="Oldest")
    closed = advance(plan(me, title="Closed"), CapaStatus.CLOSED, lead)
    plan(someone, title="Not mine")

    for capa, due in ((later, 15), (sooner, -1)):
        capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion=f"Check {capa.title}",
            method="manual_review",
            window_days=None,
            due_date=TODAY + timedelta(days=due),
            user=lead,
            today=LONG_AGO,
        )
    late_training = capa_training.assign_training(
        later,
        staff_id=me.id,
        topic="Late",
        due_date=TODAY - timedelta(1),
        user=lead,
        today=LONG_AGO,
    )
    next_training = capa_training.assign_training(
        sooner, staff_id=me.id, topic="Next", due_date=TODAY + timedelta(3), user=lead
    )
    done = capa_training.assign_training(
        sooner, staff_id=me.id, topic="Done", due_date=TODAY, user=lead
    )
    capa_training.complete_training(done, me)

    work = capa_listing.my_work(me, TODAY)
    assert [capa.title for capa in work.capas] == ["Oldest", "Overdue", "Sooner", "Later"]
    assert closed not in work.capas
    assert [check.criterion for check in work.checks] == ["Check Sooner", "Check Later"]
    assert work.trainings == [late_training, next_training]
    assert (work.capa_total, work.check_total, work.training_total) == (4, 2, 2)

    # A quality lead sees every pending check; a stranger sees none of mine.
    assert len(capa_listing.my_work(lead, TODAY).checks) == 2
    assert capa_listing.my_work(someone, TODAY).checks == []


def test_an_effective_capa_past_its_due_date_is_not_overdue_in_my_work(session):
    lead = users.create_user("quality_lead")
    effective = plan(lead, due_date=TODAY - timedelta(days=9), today=LONG_AGO, title="Effective")
    advance(effective, CapaStatus.EFFECTIVE, lead)
    plan(lead, due_date=TODAY + timedelta(days=1), title="Pending")
    plan(lead, due_date=TODAY - timedelta(days=1), today=LONG_AGO, title="Late")
    work = capa_listing.my_work(lead, TODAY)
    assert [capa.title for capa in work.capas] == ["Late", "Effective", "Pending"]
