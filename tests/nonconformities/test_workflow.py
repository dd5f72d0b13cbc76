"""Every nonconformity transition, its guard and who may fire it; the signed closure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.services import signatures_of
from app.capa.models import CapaStatus
from app.core.audit import AuditAction, AuditEvent
from app.core.errors import ServiceError
from app.core.signatures import Signature, changed_after_signature
from app.core.workflow import RecordLocked, TransitionRefused
from app.nonconformities import services
from app.nonconformities.models import NonconformityStatus
from tests import factories as user_factories
from tests.conftest import TEST_PASSWORD
from tests.nonconformities.factories import make_capa, raise_nc

S = NonconformityStatus


@pytest.fixture()
def lead(session):
    return user_factories.create_user("quality_lead")


def _to(nc, status, lead):
    """Walk `nc` to `status` along the happy path."""
    path = {
        S.CONTAINED: ["contain"],
        S.UNDER_INVESTIGATION: ["contain", "investigate"],
        S.ACTION_PLANNED: ["contain", "investigate", "plan_action"],
        S.VERIFYING: ["contain", "investigate", "plan_action", "verify"],
    }[status]
    if not nc.containment_action:
        nc.containment_action = "Hold the billing run"
    if "plan_action" in path and not nc.capas:
        make_capa(nc)
    for name in path:
        if name == "verify":
            for capa in nc.capas:
                capa.status = CapaStatus.IMPLEMENTED
        services.transition_nonconformity(nc, name, lead)
    assert nc.status == status
    return nc


def _last_event(session, nc) -> AuditEvent:
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "nonconformity", AuditEvent.record_id == str(nc.id))
        .order_by(AuditEvent.id.desc())
    ).first()


def test_contain_needs_a_containment_action(session, lead) -> None:
    nc = raise_nc()
    with pytest.raises(TransitionRefused, match="Describe the containment action first"):
        services.transition_nonconformity(nc, "contain", lead)
    assert nc.status == S.OPEN

    nc.containment_action = "Hold the billing run"
    services.transition_nonconformity(nc, "contain", lead, "Run held")

    assert nc.status == S.CONTAINED
    assert nc.contained_at is not None
    event = _last_event(session, nc)
    assert event.action == AuditAction.TRANSITION
    assert event.changes_dict["status"] == ["open", "contained"]
    assert event.reason == "Run held"


@pytest.mark.parametrize("start", [S.OPEN, S.CONTAINED])
def test_investigate_from_open_or_contained(session, lead, start) -> None:
    nc = raise_nc()
    if start == S.CONTAINED:
        _to(nc, S.CONTAINED, lead)
    services.transition_nonconformity(nc, "investigate", lead)
    assert nc.status == S.UNDER_INVESTIGATION


def test_plan_action_needs_a_linked_capa(session, lead) -> None:
    nc = raise_nc()
    services.transition_nonconformity(nc, "investigate", lead)
    with pytest.raises(TransitionRefused, match="Plan at least one CAPA"):
        services.transition_nonconformity(nc, "plan_action", lead)
    assert nc.status == S.UNDER_INVESTIGATION

    make_capa(nc)
    services.transition_nonconformity(nc, "plan_action", lead)
    assert nc.status == S.ACTION_PLANNED


def test_verify_needs_implemented_capas(session, lead) -> None:
    nc = _to(raise_nc(), S.ACTION_PLANNED, lead)
    capa = nc.capas[0]
    with pytest.raises(TransitionRefused, match=f"not implemented yet: {capa.reference}"):
        services.transition_nonconformity(nc, "verify", lead)
    capa.status = CapaStatus.IMPLEMENTED
    services.transition_nonconformity(nc, "verify", lead)
    assert nc.status == S.VERIFYING


def test_a_transition_from_the_wrong_state_says_why(session, lead) -> None:
    nc = raise_nc()
    with pytest.raises(TransitionRefused) as refused:
        services.transition_nonconformity(nc, "verify", lead)
    assert (
        refused.value.message
        == "“Start verification” is not possible while the nonconformity is open."
    )
    with pytest.raises(TransitionRefused, match="no action called 'teleport'"):
        services.transition_nonconformity(nc, "teleport", lead)


def test_close_is_refused_while_a_linked_capa_is_open(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    open_capa = nc.capas[0]
    closed_capa = make_capa(nc, status=CapaStatus.CLOSED)
    with pytest.raises(TransitionRefused) as refused:
        services.close_nonconformity(nc, lead, TEST_PASSWORD, "approved")
    assert open_capa.reference in refused.value.message
    assert closed_capa.reference not in refused.value.message
    assert nc.status == S.VERIFYING
    assert signatures_of(nc) == []


def test_close_signs_and_closes_together(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED

    signature = services.close_nonconformity(nc, lead, TEST_PASSWORD, "approved")

    assert nc.status == S.CLOSED
    assert nc.closed_at is not None
    assert signatures_of(nc) == [signature]
    assert (signature.purpose, signature.meaning.value) == ("nonconformity_closure", "approved")
    assert signature.signer_name == lead.full_name
    assert not changed_after_signature(signature, nc)  # it covers the closed record
    assert _last_event(session, nc).action == AuditAction.SIGN


def test_close_with_a_wrong_password_changes_nothing(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    session.flush()
    version = nc.version
    events = session.scalar(select(func.count()).select_from(AuditEvent))

    with pytest.raises(ServiceError) as refused:
        services.close_nonconformity(nc, lead, "not my password", "approved")

    assert refused.value.field == "password"
    assert refused.value.message == "The password is not right; nothing was signed."
    assert nc.status == S.VERIFYING
    assert nc.closed_at is None
    assert nc.version == version
    assert session.scalar(select(func.count()).select_from(Signature)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_close_needs_a_meaning(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    with pytest.raises(ServiceError) as refused:
        services.close_nonconformity(nc, lead, TEST_PASSWORD, "because")
    assert refused.value.field == "meaning"
    assert nc.status == S.VERIFYING


def test_close_only_through_the_signed_close(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    with pytest.raises(TransitionRefused, match="electronic signature"):
        services.transition_nonconformity(nc, "close", lead)
    assert nc.status == S.VERIFYING


def test_a_closed_nonconformity_is_read_only_until_a_reopen_voids_its_signature(
    session, lead
) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    signature = services.close_nonconformity(nc, lead, TEST_PASSWORD, "verified")

    def edit():
        return services.update_nonconformity(
            nc,
            title="A later title",
            description=nc.description,
            process_id=None,
            category_id=None,
            owner_id=None,
            severity=nc.severity,
            occurrence=nc.occurrence,
            detection=nc.detection,
            containment_action=nc.containment_action,
            expected_version=nc.version,
            user=lead,
        )

    with pytest.raises(RecordLocked) as refused:
        edit()
    assert refused.value.message == (
        f"{nc.reference} is closed and read-only; reopen it (with a reason) before you edit it."
    )
    with pytest.raises(TransitionRefused, match="needs a reason"):
        services.transition_nonconformity(nc, "reopen", lead, "  ")
    assert not signature.is_void

    services.transition_nonconformity(nc, "reopen", lead, "The duplicates came back")
    assert (nc.status, nc.closed_at) == (S.UNDER_INVESTIGATION, None)
    assert signature.is_void and signature.void_reason == "The duplicates came back"
    assert signature.void_notice().startswith("Void — superseded by reopen on ")
    edit()
    assert nc.title == "A later title"
    voided = session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "electronic_signature",
            AuditEvent.record_id == str(signature.id),
        )
    ).one()
    assert voided.reason == "The duplicates came back"


@pytest.mark.parametrize("start", [S.OPEN, S.CONTAINED, S.UNDER_INVESTIGATION, S.VERIFYING])
def test_cancel_needs_a_reason_and_keeps_it(session, lead, start) -> None:
    nc = raise_nc()
    if start != S.OPEN:
        _to(nc, start, lead)
    with pytest.raises(ServiceError) as refused:
        services.cancel_nonconformity(nc, lead, "   ")
    assert (refused.value.field, refused.value.message) == (
        "reason",
        "A reason for cancelling is required.",
    )
    assert nc.status == start

    services.transition_nonconformity(nc, "cancel", lead, "Raised twice by mistake")

    assert nc.status == S.CANCELLED
    assert nc.cancel_reason == "Raised twice by mistake"
    event = _last_event(session, nc)
    assert event.action == AuditAction.TRANSITION
    assert event.reason == "Raised twice by mistake"
    assert event.changes_dict["cancel_reason"] == ["", "Raised twice by mistake"]


def test_a_closed_nonconformity_cannot_be_cancelled(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    services.close_nonconformity(nc, lead, TEST_PASSWORD, "approved")
    with pytest.raises(TransitionRefused, match="not possible while the nonconformity is closed"):
        services.cancel_nonconformity(nc, lead, "Too late")
    assert nc.cancel_reason == ""


def test_the_contributor_owner_may_contain_and_investigate_only(session) -> None:
    owner = user_factories.create_user("contributor")
    nc = raise_nc(owner_id=owner.id, containment_action="Hold the run")
    services.transition_nonconformity(nc, "contain", owner)
    services.transition_nonconformity(nc, "investigate", owner)
    assert nc.status == S.UNDER_INVESTIGATION
    make_capa(nc)
    with pytest.raises(services.NotPermitted, match="Your role may not “Mark action planned”"):
        services.transition_nonconformity(nc, "plan_action", owner)
    with pytest.raises(services.NotPermitted):
        services.cancel_nonconformity(nc, owner, "Not needed")
    assert nc.status == S.UNDER_INVESTIGATION


@pytest.mark.parametrize("role", ["contributor", "auditor", "admin"])
def test_other_roles_may_not_move_a_nonconformity(session, role) -> None:
    user = user_factories.create_user(role)
    nc = raise_nc(containment_action="Hold the run")
    with pytest.raises(services.NotPermitted):
        services.transition_nonconformity(nc, "contain", user)
    with pytest.raises(services.NotPermitted):
        services.cancel_nonconformity(nc, user, "No")
    assert nc.status == S.OPEN


def test_a_contributor_may_not_sign_a_closure(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    owner = user_factories.create_user("contributor")
    nc.owner_id = owner.id
    with pytest.raises(services.NotPermitted):
        services.close_nonconformity(nc, owner, TEST_PASSWORD, "approved")
    assert nc.status == S.VERIFYING


def test_a_stale_close_is_refused(session, lead) -> None:
    nc = _to(raise_nc(), S.VERIFYING, lead)
    nc.capas[0].status = CapaStatus.CLOSED
    with pytest.raises(ServiceError, match="changed by someone else"):
        services.close_nonconformity(
            nc, lead, TEST_PASSWORD, "approved", expected_version=nc.version - 1
        )
    assert nc.status == S.VERIFYING


def test_workflow_offers_buttons_with_reasons(session, lead) -> None:
    from app.nonconformities.workflow import NONCONFORMITY_WORKFLOW

    nc = raise_nc()
    offered = {t.name: why for t, why in NONCONFORMITY_WORKFLOW.available(nc, lead)}
    assert offered == {
        "contain": "Describe the containment action first.",
        "investigate": None,
        "cancel": None,
    }
