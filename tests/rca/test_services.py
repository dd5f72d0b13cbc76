"""Root-cause analyses: starting one, the 5 Whys chain, Ishikawa causes, 8D sections and root
causes — and who may do each."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEvent
from app.core.errors import ServiceError, StaleRecord
from app.nonconformities.models import NonconformityStatus
from app.nonconformities.services import NotPermitted
from app.rca import services
from app.rca.models import AnalysisMethod, EightDSection, RootCauseAnalysis, WhyStep
from tests import factories as user_factories
from tests.nonconformities.factories import raise_nc, start


@pytest.fixture()
def lead(session):
    return user_factories.create_user("quality_lead")


def _chain(analysis) -> list[tuple[int, str]]:
    return [(step.position, step.why) for step in analysis.why_steps]


# --- starting ----------------------------------------------------------------------------------


def test_a_quality_lead_or_the_owner_starts_an_analysis(session, lead) -> None:
    owner = user_factories.create_user("contributor")
    nc = raise_nc(owner_id=owner.id)

    first = services.start_analysis(nc, "ishikawa", "  Duplicate invoices  ", lead)
    second = services.start_analysis(nc, AnalysisMethod.EIGHT_D, "Duplicate invoices", owner)

    assert (first.method, first.problem_statement, first.created_by) == (
        AnalysisMethod.ISHIKAWA,
        "Duplicate invoices",
        lead,
    )
    assert second.created_by == owner
    assert nc.analyses == [first, second]


@pytest.mark.parametrize("role", ["contributor", "auditor", "admin"])
def test_others_may_not_start_one(session, role) -> None:
    nc = raise_nc()
    with pytest.raises(NotPermitted):
        services.start_analysis(nc, "five_whys", "Why?", user_factories.create_user(role))
    assert nc.analyses == []


@pytest.mark.parametrize("status", [NonconformityStatus.CLOSED, NonconformityStatus.CANCELLED])
def test_no_analysis_of_a_closed_or_cancelled_nonconformity(session, lead, status) -> None:
    nc = raise_nc()
    nc.status = status
    with pytest.raises(ServiceError, match=f"is {status.label.lower()}"):
        services.start_analysis(nc, "five_whys", "Why?", lead)


def test_start_needs_a_method_and_a_problem_statement(session, lead) -> None:
    nc = raise_nc()
    with pytest.raises(ServiceError) as refused:
        services.start_analysis(nc, "fishing", "Why?", lead)
    assert refused.value.field == "method"
    with pytest.raises(ServiceError) as refused:
        services.start_analysis(nc, "five_whys", "  ", lead)
    assert refused.value.field == "problem_statement"
    assert session.scalar(select(func.count()).select_from(RootCauseAnalysis)) == 0


# --- 5 Whys ------------------------------------------------------------------------------------


def test_whys_are_appended_in_order(session, lead) -> None:
    analysis = start(raise_nc(), user=lead)
    for number in range(1, 4):
        step = services.add_why(analysis, f"Why {number}?", f"Because {number}")
        assert step.position == number
    session.expire(analysis)
    assert _chain(analysis) == [(1, "Why 1?"), (2, "Why 2?"), (3, "Why 3?")]


@pytest.mark.parametrize(
    ("removed", "left"),
    [
        (1, ["Why 2?", "Why 3?", "Why 4?"]),
        (2, ["Why 1?", "Why 3?", "Why 4?"]),
        (4, ["Why 1?", "Why 2?", "Why 3?"]),
    ],
)
def test_removing_a_why_renumbers_the_rest(session, lead, removed, left) -> None:
    analysis = start(raise_nc(), user=lead)
    steps = [services.add_why(analysis, f"Why {n}?", f"Because {n}") for n in range(1, 5)]

    services.remove_why(analysis, steps[removed - 1].id)

    session.expire_all()
    assert _chain(analysis) == list(enumerate(left, start=1))
    assert session.scalar(select(func.count()).select_from(WhyStep)) == 3
    services.add_why(analysis, "Why 5?", "Because 5")
    assert [step.position for step in analysis.why_steps] == [1, 2, 3, 4]


def test_update_a_why_keeps_its_place(session, lead) -> None:
    analysis = start(raise_nc(), user=lead)
    first = services.add_why(analysis, "Why 1?", "Because 1")
    services.add_why(analysis, "Why 2?", "Because 2")
    services.update_why(analysis, first.id, "Why were invoices sent twice?", "The run restarted")
    assert _chain(analysis)[0] == (1, "Why were invoices sent twice?")
    assert first.because == "The run restarted"


def test_bad_why_input(session, lead) -> None:
    analysis = start(raise_nc(), user=lead)
    for why, because, field in (("", "x", "why"), ("x", " ", "because"), ("x" * 2001, "x", "why")):
        with pytest.raises(ServiceError) as refused:
            services.add_why(analysis, why, because)
        assert refused.value.field == field
    with pytest.raises(ServiceError, match="not part of this analysis"):
        services.remove_why(analysis, 999_999)


def test_every_change_moves_the_version_on_and_stale_forms_are_refused(session, lead) -> None:
    analysis = start(raise_nc(), user=lead)
    version = analysis.version
    services.add_why(analysis, "Why?", "Because", expected_version=version)
    assert analysis.version == version + 1
    with pytest.raises(StaleRecord, match="changed by someone else"):
        services.add_why(analysis, "Why again?", "Because", expected_version=version)
    assert len(analysis.why_steps) == 1


def test_why_changes_are_audited(session, lead) -> None:
    analysis = start(raise_nc(), user=lead)
    step = services.add_why(analysis, "Why?", "Because")
    services.remove_why(analysis, step.id)
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_type == "why_step", AuditEvent.record_id == str(step.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [AuditAction.CREATE, AuditAction.DELETE]
    history = services.analysis_history(analysis)
    assert [event.record_type for event in history] == ["root_cause_analysis"]


# --- Ishikawa ----------------------------------------------------------------------------------


def test_ishikawa_categories_are_normalised_and_grouped(session, lead) -> None:
    analysis = start(raise_nc(), "ishikawa", user=lead)
    services.add_ishikawa_cause(analysis, "People", "New starter on the billing desk")
    services.add_ishikawa_cause(analysis, "  supplier   QUALITY ", "Bank file arrived late")
    services.add_ishikawa_cause(analysis, "method", "No check for a restarted run")
    services.add_ishikawa_cause(analysis, "PEOPLE", "Night shift short-staffed")

    groups = services.ishikawa_groups(analysis)

    assert list(groups) == [
        "people",
        "method",
        "equipment",
        "materials",
        "measurement",
        "environment",
        "supplier quality",
    ]
    assert [c.cause for c in groups["people"]] == [
        "New starter on the billing desk",
        "Night shift short-staffed",
    ]
    assert [c.cause for c in groups["supplier quality"]] == ["Bank file arrived late"]
    assert groups["equipment"] == []


def test_bad_ishikawa_input(session, lead) -> None:
    analysis = start(raise_nc(), "ishikawa", user=lead)
    for category, cause, field in (
        ("", "x", "category"),
        ("x" * 61, "x", "category"),
        ("people", "", "cause"),
    ):
        with pytest.raises(ServiceError) as refused:
            services.add_ishikawa_cause(analysis, category, cause)
        assert refused.value.field == field
    assert services.add_ishikawa_cause(analysis, "x" * 60, "Long name").category == "x" * 60


def test_remove_an_ishikawa_cause(session, lead) -> None:
    analysis = start(raise_nc(), "ishikawa", user=lead)
    kept = services.add_ishikawa_cause(analysis, "people", "Kept")
    gone = services.add_ishikawa_cause(analysis, "people", "Gone")
    services.remove_ishikawa_cause(analysis, gone.id)
    assert analysis.ishikawa_causes == [kept]
    with pytest.raises(ServiceError):
        services.remove_ishikawa_cause(analysis, gone.id)


# --- 8D ----------------------------------------------------------------------------------------


def test_eight_d_sections_are_upserted(session, lead) -> None:
    analysis = start(raise_nc(), "eight_d", user=lead)
    first = services.save_eight_d_section(analysis, "D2", "Invoices sent twice on 3 March")
    again = services.save_eight_d_section(analysis, "d2", "Invoices sent twice on 3 and 4 March")
    services.save_eight_d_section(analysis, "D0", "Stop the run")

    assert again is first
    assert session.scalar(select(func.count()).select_from(EightDSection)) == 2
    contents = services.eight_d_contents(analysis)
    assert [key for key, _, _ in contents] == [f"D{n}" for n in range(9)]
    assert contents[2] == ("D2", "Describe the problem", "Invoices sent twice on 3 and 4 March")
    assert contents[1] == ("D1", "Form the team", "")
    with pytest.raises(ServiceError) as refused:
        services.save_eight_d_section(analysis, "D9", "Beyond")
    assert refused.value.field == "discipline"


# --- root causes -------------------------------------------------------------------------------


def test_root_causes_need_a_category(session, lead) -> None:
    analysis = start(raise_nc(), user=lead)
    with pytest.raises(ServiceError) as refused:
        services.add_root_cause(analysis, "No restart check", " ")
    assert refused.value.field == "cause_category"
    with pytest.raises(ServiceError) as refused:
        services.add_root_cause(analysis, "", "method")
    assert refused.value.field == "statement"

    root_cause = services.add_root_cause(analysis, "No restart check", "Method")
    assert (root_cause.cause_category, root_cause.verified) == ("method", False)
    assert services.add_root_cause(analysis, "Vendor late", "Supplier").cause_category == "supplier"


def test_only_a_quality_lead_verifies_a_root_cause(session, lead) -> None:
    owner = user_factories.create_user("contributor")
    analysis = start(raise_nc(owner_id=owner.id), user=owner)
    root_cause = services.add_root_cause(analysis, "No restart check", "method", user=owner)

    for role_user in (owner, user_factories.create_user("auditor")):
        with pytest.raises(NotPermitted, match="Only a quality lead"):
            services.verify_root_cause(root_cause, role_user)
    assert root_cause.verified is False

    services.verify_root_cause(root_cause, lead)

    assert root_cause.verified is True
    assert root_cause.verified_by == lead
    assert root_cause.verified_at is not None
    with pytest.raises(ServiceError, match="already verified"):
        services.verify_root_cause(root_cause, lead)


def test_the_owner_works_on_the_analysis_and_others_may_not(session, lead) -> None:
    owner = user_factories.create_user("contributor")
    other = user_factories.create_user("contributor")
    analysis = start(raise_nc(owner_id=owner.id), user=lead)
    services.add_why(analysis, "Why?", "Because", user=owner)
    step = analysis.why_steps[0]
    for change in (
        lambda u: services.add_why(analysis, "Why?", "Because", user=u),
        lambda u: services.update_why(analysis, step.id, "Why?", "Because", user=u),
        lambda u: services.remove_why(analysis, step.id, user=u),
        lambda u: services.add_ishikawa_cause(analysis, "people", "x", user=u),
        lambda u: services.save_eight_d_section(analysis, "D1", "x", user=u),
        lambda u: services.add_root_cause(analysis, "x", "people", user=u),
    ):
        for user in (other, user_factories.create_user("auditor")):
            with pytest.raises(NotPermitted):
                change(user)
    assert len(analysis.why_steps) == 1


def test_analyses_of_a_closed_nonconformity_cannot_change(session, lead) -> None:
    nc = raise_nc()
    analysis = start(nc, user=lead)
    root_cause = services.add_root_cause(analysis, "No restart check", "method")
    nc.status = NonconformityStatus.CLOSED
    with pytest.raises(ServiceError, match="can no longer change"):
        services.add_why(analysis, "Why?", "Because")
    with pytest.raises(ServiceError, match="can no longer change"):
        services.verify_root_cause(root_cause, lead)


def test_removing_a_cause_is_audited(session, lead) -> None:
    analysis = start(raise_nc(), "ishikawa", user=lead)
    cause = services.add_ishikawa_cause(analysis, "people", "Gone")
    services.remove_ishikawa_cause(analysis, cause.id)
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "ishikawa_cause", AuditEvent.record_id == str(cause.id))
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.action == AuditAction.DELETE
    assert event.changes_dict["cause"] == ["Gone", None]


def test_a_step_dropped_from_the_chain_alone_is_still_audited(session, lead) -> None:
    """A delete-orphan cascade deletes rows no code passed to session.delete: the trail sees it."""
    analysis = start(raise_nc(), "five_whys", user=lead)
    step = services.add_why(analysis, "Why late?", "No stock")
    step_id = step.id
    analysis.why_steps.remove(step)
    session.flush()
    assert session.get(WhyStep, step_id) is None
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "why_step", AuditEvent.record_id == str(step_id))
        .order_by(AuditEvent.id)
    ).all()
    assert [event.action for event in events] == [AuditAction.CREATE, AuditAction.DELETE]
    assert events[-1].changes_dict["because"] == ["No stock", None]


def test_deleting_an_analysis_audits_every_row_its_cascade_removes(session, lead) -> None:
    analysis = start(raise_nc(), "five_whys", user=lead)
    first = services.add_why(analysis, "Why one?", "One")
    second = services.add_why(analysis, "Why two?", "Two")
    session.delete(analysis)
    session.flush()
    deleted = session.scalars(
        select(AuditEvent.record_id).where(
            AuditEvent.record_type == "why_step", AuditEvent.action == AuditAction.DELETE
        )
    ).all()
    assert sorted(deleted) == sorted([str(first.id), str(second.id)])
