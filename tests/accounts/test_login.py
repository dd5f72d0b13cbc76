from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditAction, AuditEvent
from tests.conftest import TEST_PASSWORD


def test_sign_in_lands_on_dashboard_and_is_audited(client, make_user, session):
    user = make_user("contributor", full_name="Robin Frontline")
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD}, follow_redirects=True
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dashboard" in page
    assert "Robin Frontline" in page
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_id == str(user.id))
    ).all()
    assert AuditAction.LOGIN in actions
