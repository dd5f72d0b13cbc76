"""Link changes in the audit trail: every relationship of every audited model is captured, and
many-to-many links are written as the members added and removed, by name, on the owner's event."""

from __future__ import annotations

from sqlalchemy import select

import app.models  # noqa: F401  (every model mapped, so the walk sees them all)
from app.capa import services as capa_services
from app.core.audit import AuditAction, AuditEvent, verify_chain
from app.core.audit_labels import audited_models
from app.core.audit_links import link_relationships
from app.core.db import Base
from app.metrics.models import Objective
from app.organisation.models import TQMPrinciple
from tests import factories
from tests.capa.factories import make_complaint, make_nonconformity, make_root_cause, plan


def events_of(session, record) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.record_type == record.__tablename__,
                AuditEvent.record_id == str(record.id),
            )
            .order_by(AuditEvent.id)
        )
    )


def uncaptured_relationships() -> list[str]:
    """Each relationship of an audited model that no event would record, with the reason."""
    problems = []
    audited = set(audited_models().values())
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if model not in audited:
            continue
        links = {relationship.key for relationship in link_relationships(mapper)}
        mirrors = model.__audit_link_mirrors__
        for relationship in mapper.relationships:
            name = f"{model.__name__}.{relationship.key}"
            direction = relationship.direction.name
            if relationship.viewonly:
                problems.append(f"{name}: view-only, so its changes bypass the capture")
            elif relationship.secondary is not None:
                if relationship.key in links:
                    continue
                mirrored = relationship.back_populates and relationship.mapper.class_ in audited
                owner = relationship.mapper.relationships.get(relationship.back_populates or "")
                if not (
                    mirrored and owner is not None and owner in link_relationships(owner.parent)
                ):
                    problems.append(f"{name}: a mirror of no captured link")
            elif direction == "MANYTOONE":
                for column in relationship.local_columns:
                    key = mapper.get_property_by_column(column).key
                    if key in model.__audit_exclude__:
                        problems.append(f"{name}: its column {key} is left out of the trail")
            elif direction == "ONETOMANY":
                target = relationship.mapper.class_
                if target not in audited:
                    problems.append(f"{name}: {target.__name__} is not audited")
                    continue
                for column in relationship.remote_side:
                    key = relationship.mapper.get_property_by_column(column).key
                    if key in target.__audit_exclude__:
                        problems.append(f"{name}: {target.__name__}.{key} is left out")
            else:
                problems.append(f"{name}: a {direction} relationship the capture does not know")
        for mirror in mirrors:
            if mirror not in mapper.relationships or mirror in links:
                problems.append(f"{model.__name__}.{mirror}: declared a mirror but is none")
    return problems


def test_every_relationship_of_every_audited_model_is_captured() -> None:
    assert uncaptured_relationships() == []
    # The walk sees the links the issue names (and so would see a new one).
    captured = {
        f"{mapper.class_.__name__}.{relationship.key}"
        for mapper in Base.registry.mappers
        if mapper.class_ in set(audited_models().values())
        for relationship in link_relationships(mapper)
    }
    assert {
        "Capa.principles",
        "Capa.nonconformities",
        "Capa.root_causes",
        "Nonconformity.complaints",
        "Objective.principles",
        "Initiative.principles",
    } <= captured


def test_a_capa_create_event_lists_its_initial_links_by_name(session) -> None:
    lead = factories.create_user("quality_lead", full_name="Quinn Lead")
    complaint = make_complaint()
    nc = make_nonconformity(complaints=[complaint])
    cause = make_root_cause(nc, "No duplicate-payment check")
    capa = plan(lead, principle_ids=[3, 6], nonconformity_ids=[nc.id], root_cause_ids=[cause.id])
    created = events_of(session, capa)[0]
    changes = created.changes_dict
    assert created.action == AuditAction.CREATE
    assert changes["principles"] == {
        "added": [
            {"id": 3, "label": session.get(TQMPrinciple, 3).name},
            {"id": 6, "label": session.get(TQMPrinciple, 6).name},
        ]
    }
    assert changes["nonconformities"] == {"added": [{"id": nc.id, "label": nc.reference}]}
    assert changes["root_causes"] == {
        "added": [{"id": cause.id, "label": "No duplicate-payment check"}]
    }
    # The owner is named beside the id, as it was named at the time.
    assert changes["owner_id"] == [None, lead.id]
    assert changes["owner"] == [None, "Quinn Lead"]
    # The nonconformity's create event lists the complaint it was raised with.
    assert events_of(session, nc)[0].changes_dict["complaints"] == {
        "added": [{"id": complaint.id, "label": complaint.reference}]
    }
    assert verify_chain(session.connection()).ok


def test_link_edits_are_recorded_as_members_added_and_removed(session) -> None:
    lead = factories.create_user("quality_lead")
    first, second = make_nonconformity(), make_nonconformity(title="Late refunds")
    capa = plan(lead, principle_ids=[3, 6], nonconformity_ids=[first.id])
    capa_services.update_capa(
        capa,
        user=lead,
        kind=capa.kind,
        recovery_dimension=capa.recovery_dimension,
        title=capa.title,
        description=capa.description,
        owner_id=capa.owner_id,
        due_date=capa.due_date,
        cost=capa.cost,
        principle_ids=[6, 7],
        nonconformity_ids=[second.id],
        root_cause_ids=[],
        expected_version=capa.version,
    )
    update = events_of(session, capa)[-1]
    assert update.action == AuditAction.UPDATE
    principles = update.changes_dict["principles"]
    assert [m["id"] for m in principles["added"]] == [7]
    assert [m["id"] for m in principles["removed"]] == [3]
    assert update.changes_dict["nonconformities"] == {
        "added": [{"id": second.id, "label": second.reference}],
        "removed": [{"id": first.id, "label": first.reference}],
    }
    # Written once, on the owner (the CAPA): the nonconformities' own trails gain no event.
    assert [e.action for e in events_of(session, first)] == [AuditAction.CREATE]
    assert [e.action for e in events_of(session, second)] == [AuditAction.CREATE]


def test_a_link_change_alone_is_an_event(session) -> None:
    objective = Objective(title="Fast answers")
    session.add(objective)
    session.flush()
    objective.principles.append(session.get(TQMPrinciple, 1))
    session.flush()
    update = events_of(session, objective)[-1]
    assert update.action == AuditAction.UPDATE
    assert update.changes_dict == {
        "principles": {"added": [{"id": 1, "label": session.get(TQMPrinciple, 1).name}]}
    }
