"""Planning and editing CAPAs: principles, owners, dates, cost, links, follow-ups, may_edit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.capa import services
from app.capa.models import Capa, CapaStatus
from app.core.errors import ServiceError, StaleRecord
from app.extensions import db
from app.nonconformities.models import NonconformityStatus
from tests import factories as users
from tests.capa.factories import advance, make_nonconformity, make_root_cause, plan


def capa_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Capa)) or 0


def test_a_capa_without_a_principle_is_refused(session):
    owner = users.create_user("contributor")
    with pytest.raises(ServiceError) as refused:
        plan(owner, principle_ids=[])
    assert refused.value.field == "principles"
    assert "at least one of the eight TQM principles" in refused.value.message
    session.rollback()
    assert capa_count() == 0


def test_a_capa_mapped_to_two_principles_stores_both(session):
    owner = users.create_user("contributor")
    capa = plan(owner, principle_ids=[1, 6])
    session.expire_all()
    stored = session.get(Capa, capa.id)
    assert [principle.id for principle in stored.principles] == [1, 6]
    assert stored.principles[0].name.startswith("Customer")
    assert re.fullmatch(r"CAPA-\d{4}-\d{6}", stored.reference)
    assert stored.status == CapaStatus.PLANNED
    assert stored.owner_id == owner.id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"kind": "sideways"}, "kind"),
        ({"recovery_dimension": "customer"}, "recovery_dimension"),
        ({"due_date": None}, "due_date"),
        ({"due_date": services.today_utc() - timedelta(days=1)}, "due_date"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "12.345"}, "cost"),
        ({"principle_ids": [99]}, "principles"),
        ({"owner_id": None}, "owner_id"),
        ({"nonconformity_ids": [999_999]}, "nonconformities"),
    ],
)
def test_bad_plans_name_the_field_and_save_nothing(session, changes, field):
    owner = users.create_user("contributor")
    with pytest.raises(ServiceError) as refused:
        plan(owner, **changes)
    assert refused.value.field == field
    session.rollback()
    assert capa_count() == 0


def test_an_auditor_cannot_own_a_capa_and_only_quality_leads_plan(session):
    auditor = users.create_user("auditor")
    contributor = users.create_user("contributor")
    with pytest.raises(ServiceError) as refused:
        plan(auditor)
    assert refused.value.field == "owner_id"
    with pytest.raises(services.NotAllowed):
        plan(contributor, user=contributor)
    lead = users.create_user("quality_lead")
    assert plan(contributor, user=lead).owner_id == contributor.id


def test_links_nonconformities_and_their_root_causes_only(session):
    owner = users.create_user("contributor")
    nc = make_nonconformity()
    other = make_nonconformity(title="Another failure")
    cause = make_root_cause(nc)
    foreign_cause = make_root_cause(other, "Unrelated cause")
    capa = plan(owner, nonconformity_ids=[nc.id], root_cause_ids=[cause.id], cost="120.50")
    assert [n.reference for n in capa.nonconformities] == [nc.reference]
    assert capa.root_causes == [cause]
    assert str(capa.cost) == "120.50"
    with pytest.raises(ServiceError) as refused:
        plan(owner, nonconformity_ids=[nc.id], root_cause_ids=[foreign_cause.id])
    assert refused.value.field == "root_causes"


def test_a_closed_nonconformity_takes_no_new_capa(session):
    owner = users.create_user("contributor")
    nc = make_nonconformity()
    nc.status = NonconformityStatus.CLOSED
    session.flush()
    with pytest.raises(ServiceError) as refused:
        plan(owner, nonconformity_ids=[nc.id])
    assert refused.value.field == "nonconformities"
    assert nc.reference in refused.value.message


def test_nonconformity_references_resolve_and_unknown_ones_are_named(session):
    nc = make_nonconformity()
    assert services.nonconformity_ids_for([nc.reference.lower(), ""]) == [nc.id]
    with pytest.raises(ServiceError) as refused:
        services.nonconformity_ids_for([nc.reference, "NC-1999-000042"])
    assert "NC-1999-000042" in refused.value.message


def test_link_nonconformities_adds_to_the_links(session):
    owner = users.create_user("contributor")
    first, second = make_nonconformity(), make_nonconformity()
    capa = plan(owner, nonconformity_ids=[first.id])
    added = services.link_nonconformities(capa, [first.id, second.id])
    assert added == [second]
    assert {nc.id for nc in capa.nonconformities} == {first.id, second.id}


def test_may_edit_is_the_owner_or_a_quality_lead(session):
    owner = users.create_user("contributor")
    capa = plan(owner)
    assert services.may_edit(owner, capa)
    assert services.may_edit(users.create_user("quality_lead"), capa)
    assert not services.may_edit(users.create_user("contributor"), capa)
    assert not services.may_edit(users.create_user("auditor"), capa)
    assert not services.may_edit(users.create_user("admin"), capa)


def edit_values(capa: Capa, **changes):
    values = {
        "kind": capa.kind.value,
        "recovery_dimension": capa.recovery_dimension.value,
        "title": capa.title,
        "description": capa.description,
        "owner_id": capa.owner_id,
        "due_date": capa.due_date,
        "cost": capa.cost,
        "principle_ids": [p.id for p in capa.principles],
        "nonconformity_ids": [nc.id for nc in capa.nonconformities],
        "root_cause_ids": [cause.id for cause in capa.root_causes],
        "expected_version": capa.version,
    }
    values.update(changes)
    return values


def test_the_owner_edits_but_cannot_give_the_capa_away(session):
    owner = users.create_user("contributor")
    someone = users.create_user("contributor")
    capa = plan(owner)
    version = capa.version
    services.update_capa(capa, user=owner, **edit_values(capa, title="Better title"))
    assert capa.title == "Better title"
    assert capa.version == version + 1
    with pytest.raises(ServiceError) as refused:
        services.update_capa(capa, user=owner, **edit_values(capa, owner_id=someone.id))
    assert refused.value.field == "owner_id"
    with pytest.raises(services.NotAllowed):
        services.update_capa(capa, user=someone, **edit_values(capa, title="Mine now"))


def test_a_principles_only_edit_bumps_the_version_and_a_stale_edit_is_refused(session):
    owner = users.create_user("contributor")
    capa = plan(owner)
    loaded_version = capa.version
    services.update_capa(capa, user=owner, **edit_values(capa, principle_ids=[1]))
    assert capa.version == loaded_version + 1
    with pytest.raises(StaleRecord):
        services.update_capa(
            capa, user=owner, **edit_values(capa, title="Late", expected_version=loaded_version)
        )


def test_an_overdue_due_date_may_stay_but_not_move_into_the_past(session):
    owner = users.create_user("contributor")
    long_ago = services.today_utc() - timedelta(days=60)
    capa = plan(owner, due_date=long_ago, today=long_ago)
    services.update_capa(capa, user=owner, **edit_values(capa, title="Still late"))
    with pytest.raises(ServiceError) as refused:
        services.update_capa(
            capa, user=owner, **edit_values(capa, due_date=long_ago + timedelta(days=1))
        )
    assert refused.value.field == "due_date"


def test_a_closed_capa_is_locked(session):
    lead = users.create_user("quality_lead")
    capa = advance(plan(lead), CapaStatus.CLOSED, lead)
    with pytest.raises(ServiceError, match="closed"):
        services.update_capa(capa, user=lead, **edit_values(capa, title="After the fact"))


def test_a_follow_up_needs_an_ineffective_capa_and_links_its_nonconformities(session):
    lead = users.create_user("quality_lead")
    nc = make_nonconformity()
    capa = plan(lead, nonconformity_ids=[nc.id])
    with pytest.raises(ServiceError) as refused:
        services.create_follow_up(
            capa,
            kind="corrective",
            recovery_dimension="process",
            title="Try again",
            owner_id=lead.id,
            due_date=services.today_utc(),
            principle_ids=[6],
        )
    assert refused.value.field == "follow_up_of"
    advance(capa, CapaStatus.INEFFECTIVE, lead)
    follow_up = services.create_follow_up(
        capa,
        kind="corrective",
        recovery_dimension="employee",
        title="Try again",
        owner_id=lead.id,
        due_date=services.today_utc(),
        principle_ids=[6],
    )
    assert follow_up.follow_up_of_id == capa.id
    assert [n.id for n in follow_up.nonconformities] == [nc.id]
    assert services.follow_ups_of(capa) == [follow_up]
