"""Separation of duties on signatures (setting LOOP_SEPARATION_OF_DUTIES, on by default): the
owner or implementer of a CAPA signs neither its effectiveness nor its closure, the owner of a
nonconformity does not sign its closure; and the optional least time between a CAPA's
implementation and its effectiveness verification (LOOP_EFFECTIVENESS_MIN_DAYS)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.capa import effectiveness as capa_effectiveness
from app.capa import services as capa_services
from app.capa.models import CapaStatus
from app.core.db import utcnow
from app.core.workflow import TransitionRefused
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import NonconformityStatus
from tests import factories as users
from tests.capa.factories import advance, pending_check, plan
from tests.conftest import TEST_PASSWORD
from tests.nonconformities.factories import make_capa, raise_nc


@pytest.fixture()
def quinn(session):
    return users.create_user("quality_lead", full_name="Quinn Lead")


@pytest.fixture()
def robin(session):
    return users.create_user("quality_lead", full_name="Robin Reviewer")


def verifying(owner, walker):
    """A CAPA owned by `owner`, implemented by `walker`, with a passed check, under verification."""
    capa = advance(plan(owner), CapaStatus.VERIFYING, walker)
    check = pending_check(capa, walker)
    capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=walker)
    return capa


def test_the_capa_owner_may_not_sign_its_effectiveness(session, quinn, robin):
    capa = verifying(quinn, quinn)
    expected = (
        "A quality lead other than the CAPA owner and its implementer (Quinn Lead) must sign."
    )
    assert capa_services.signing_refusal(capa, quinn, capa_services.EFFECTIVENESS_PURPOSE) == (
        expected
    )
    with pytest.raises(TransitionRefused) as refused:
        capa_services.verify_effectiveness(capa, quinn, TEST_PASSWORD, "verified")
    assert refused.value.message == expected
    assert capa.status == CapaStatus.VERIFYING
    capa_services.verify_effectiveness(capa, robin, TEST_PASSWORD, "verified")
    assert capa.status == CapaStatus.EFFECTIVE


def test_the_implementer_may_not_sign_though_someone_else_owns_it(session, quinn, robin):
    owner = users.create_user("contributor", full_name="Casey Owner")
    capa = verifying(owner, quinn)
    assert capa.implemented_by == quinn
    with pytest.raises(TransitionRefused) as refused:
        capa_services.verify_effectiveness(capa, quinn, TEST_PASSWORD, "verified")
    assert refused.value.message == (
        "A quality lead other than the CAPA owner (Casey Owner) or its implementer "
        "(Quinn Lead) must sign."
    )
    capa_services.verify_effectiveness(capa, robin, TEST_PASSWORD, "verified")


def test_the_owner_may_not_sign_the_closure(session, quinn, robin):
    capa = advance(plan(quinn), CapaStatus.EFFECTIVE, quinn, signer=robin)
    with pytest.raises(TransitionRefused, match=r"other than the CAPA owner .*\(Quinn Lead\)"):
        capa_services.close_capa(capa, quinn, TEST_PASSWORD, "approved")
    assert capa.status == CapaStatus.EFFECTIVE
    capa_services.close_capa(capa, robin, TEST_PASSWORD, "approved")
    assert capa.status == CapaStatus.CLOSED


def test_an_ineffective_capa_is_closed_by_someone_other_than_its_owner(session, quinn, robin):
    capa = advance(plan(quinn), CapaStatus.INEFFECTIVE, quinn)
    plan(robin, follow_up_of=capa.id)
    with pytest.raises(TransitionRefused, match="must sign"):
        capa_services.close_capa(capa, quinn, TEST_PASSWORD, "approved")
    capa_services.close_capa(capa, robin, TEST_PASSWORD, "approved")


def verifying_nc(owner, lead):
    nc = raise_nc(owner_id=owner.id, containment_action="Hold the run")
    for name in ("contain", "investigate"):
        nc_services.transition_nonconformity(nc, name, lead)
    capa = make_capa(nc)
    nc_services.transition_nonconformity(nc, "plan_action", lead)
    capa.status = CapaStatus.IMPLEMENTED
    nc_services.transition_nonconformity(nc, "verify", lead)
    capa.status = CapaStatus.CLOSED
    db.session.flush()
    return nc


def test_a_nonconformity_is_closed_by_someone_other_than_its_owner(session, quinn, robin):
    nc = verifying_nc(quinn, quinn)
    with pytest.raises(TransitionRefused) as refused:
        nc_services.close_nonconformity(nc, quinn, TEST_PASSWORD, "approved")
    assert refused.value.message == (
        "A quality lead other than the nonconformity's owner (Quinn Lead) must sign."
    )
    assert nc.status == NonconformityStatus.VERIFYING
    nc_services.close_nonconformity(nc, robin, TEST_PASSWORD, "approved")
    assert nc.status == NonconformityStatus.CLOSED


def test_with_the_setting_off_the_owner_signs_everything(app, session, quinn, monkeypatch):
    monkeypatch.setitem(app.config, "LOOP_SEPARATION_OF_DUTIES", False)
    capa = verifying(quinn, quinn)
    capa_services.verify_effectiveness(capa, quinn, TEST_PASSWORD, "verified")
    capa_services.close_capa(capa, quinn, TEST_PASSWORD, "approved")
    assert capa.status == CapaStatus.CLOSED
    nc = verifying_nc(quinn, quinn)
    nc_services.close_nonconformity(nc, quinn, TEST_PASSWORD, "approved")
    assert nc.status == NonconformityStatus.CLOSED


def test_the_least_time_after_implementation_holds_back_the_check_and_signature(
    app, session, quinn, robin, monkeypatch
):
    monkeypatch.setitem(app.config, "LOOP_EFFECTIVENESS_MIN_DAYS", 7)
    capa = advance(plan(quinn), CapaStatus.VERIFYING, quinn)
    check = pending_check(capa, quinn)
    with pytest.raises(Exception, match=r"can be judged from .* 7 day\(s\) after implementation"):
        capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=quinn)
    capa.implemented_at = utcnow() - timedelta(days=8)
    capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=quinn)
    capa.implemented_at = utcnow() - timedelta(days=2)
    refusal = capa_services.signing_refusal(capa, robin, capa_services.EFFECTIVENESS_PURPOSE)
    assert refusal is not None and "7 day(s) after implementation" in refusal
    capa.implemented_at = utcnow() - timedelta(days=8)
    capa_services.verify_effectiveness(capa, robin, TEST_PASSWORD, "verified")
    assert capa.status == CapaStatus.EFFECTIVE


def test_by_default_there_is_no_least_time(session, quinn, robin):
    capa = verifying(quinn, quinn)  # implemented a moment ago
    capa_services.verify_effectiveness(capa, robin, TEST_PASSWORD, "verified")
    assert capa.status == CapaStatus.EFFECTIVE


def test_the_capa_page_says_who_may_sign(client, login, committed):
    lead = login("quality_lead", full_name="Quinn Lead")
    reference = committed(
        lambda: verifying(db.session.merge(lead), db.session.merge(lead)).reference
    )
    page = client.get(f"/capa/{reference}").get_data(as_text=True)
    assert (
        "A quality lead other than the CAPA owner and its implementer (Quinn Lead) must sign."
        in page
    )
