"""The CAPA list page (filters, sort, pagination, CSV export, no N+1) and the "My work" page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from app.accounts.models import User
from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa import training as capa_training
from app.capa.models import CapaStatus
from app.core.audit import AuditAction, AuditEvent
from app.extensions import db
from tests import factories as users
from tests.capa.factories import advance, make_nonconformity, plan

TODAY = services.today_utc()
LONG_AGO = TODAY - timedelta(days=365)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def listed(page: str) -> list[str]:
    """The references in the CAPA table, in order."""
    table = page.split('data-testid="capa-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r">(CAPA-\d{4}-\d{6})</a>", table)


def make_three(committed, owner_id: int) -> dict[str, str]:
    def build() -> dict[str, str]:
        lead = users.create_user("quality_lead", full_name="Lee Lead")
        owner = db.session.get(User, owner_id)
        late = plan(owner, title="Late one", due_date=TODAY - timedelta(days=2), today=LONG_AGO)
        soon = plan(
            lead,
            title="Soon one",
            due_date=TODAY + timedelta(days=2),
            recovery_dimension="employee",
            principle_ids=[1],
            nonconformity_ids=[make_nonconformity().id],
        )
        done = plan(lead, title="Done one", due_date=TODAY - timedelta(days=5), today=LONG_AGO)
        advance(done, CapaStatus.EFFECTIVE, lead)
        return {"late": late.reference, "soon": soon.reference, "done": done.reference}

    return committed(build)


def test_the_list_filters_sorts_and_marks_overdue(client, login, committed):
    me = login("auditor")
    owner = committed(lambda: users.create_user("contributor", full_name="Olive"))
    refs = make_three(committed, owner.id)
    page = text(client.get("/capa"))
    assert listed(page) == [refs["done"], refs["late"], refs["soon"]]
    late_row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{refs['late']}.*?</tr>", page, re.S)[0]
    assert "table-danger" in late_row and "Overdue" in late_row and "Olive" in late_row
    done_row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{refs['done']}.*?</tr>", page, re.S)[0]
    assert "Overdue" not in done_row and "Effective" in done_row
    assert "neither effective nor closed" in page  # the page says what overdue means

    assert listed(text(client.get("/capa?overdue=y"))) == [refs["late"]]
    assert listed(text(client.get(f"/capa?owner_id={owner.id}"))) == [refs["late"]]
    assert listed(text(client.get("/capa?status=effective"))) == [refs["done"]]
    assert listed(text(client.get("/capa?recovery=employee"))) == [refs["soon"]]
    assert listed(text(client.get("/capa?principle_id=1"))) == [refs["soon"]]
    assert listed(text(client.get(f"/capa?due_from={TODAY.isoformat()}"))) == [refs["soon"]]
    assert listed(text(client.get("/capa?sort=-due_date"))) == [
        refs["soon"],
        refs["late"],
        refs["done"],
    ]
    assert listed(text(client.get("/capa?sort=reference"))) == [
        refs["late"],
        refs["soon"],
        refs["done"],
    ]
    assert me.role == "auditor"


def test_bad_filters_are_refused_with_field_errors(client, login):
    login("quality_lead")
    response = client.get("/capa?due_from=yesterday")
    assert response.status_code == 422
    assert "Not a valid date value." in text(response)
    response = client.get("/capa?status=lost")
    assert response.status_code == 422
    response = client.get("/capa?due_from=2026-05-01&due_to=2026-04-01")
    assert response.status_code == 422
    assert "The end date is before the start date." in text(response)


def test_the_list_is_paginated_in_the_database(client, login, committed, app):
    lead = login("quality_lead")

    def build():
        owner = db.session.get(User, lead.id)
        for number in range(app.config["PAGE_SIZE"] + 3):
            plan(owner, title=f"Action {number}")

    committed(build)
    first = text(client.get("/capa"))
    assert len(listed(first)) == app.config["PAGE_SIZE"]
    assert f"Page 1 of 2 · {app.config['PAGE_SIZE'] + 3} in all" in first
    second = text(client.get("/capa?page=2"))
    assert len(listed(second)) == 3


def test_csv_export_of_the_filtered_list(client, login, committed):
    login("auditor")
    owner = committed(lambda: users.create_user("contributor", full_name="Olive"))
    refs = make_three(committed, owner.id)
    response = client.get("/capa/export.csv?overdue=y")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Reference", "Title", "Kind"]
    assert [row[0] for row in rows[1:]] == [refs["late"]]
    late = dict(zip(rows[0], rows[1], strict=True))
    assert late["Owner"] == "Olive" and late["Overdue"] == "yes" and late["Status"] == "Planned"
    assert late["TQM principles"] == "Process-centered; Continual improvement"
    everything = client.get("/capa/export.csv")
    assert len(everything.get_data(as_text=True).strip().splitlines()) == 4
    exports = committed(
        lambda: db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
        ).all()
    )
    assert [event.record_type for event in exports] == ["capa", "capa"]


def test_contributors_may_not_export(client, login):
    login("contributor")
    assert client.get("/capa").status_code == 200
    assert client.get("/capa/export.csv").status_code == 403


def count_list_queries(client, count_queries) -> int:
    def get_list() -> None:
        assert client.get("/capa").status_code == 200

    return count_queries(get_list)


def test_the_list_issues_the_same_number_of_queries_for_3_or_30_rows(
    client, login, committed, count_queries
):
    lead = login("quality_lead")

    def build(how_many: int):
        def run():
            owner = db.session.get(User, lead.id)
            for _ in range(how_many):
                nc = make_nonconformity()
                plan(owner, nonconformity_ids=[nc.id], principle_ids=[1, 2, 3])

        return run

    committed(build(3))
    with_three = count_list_queries(client, count_queries)
    committed(build(27))
    with_thirty = count_list_queries(client, count_queries)
    assert len(listed(text(client.get("/capa")))) == 30
    assert with_thirty == with_three


def test_my_work_shows_overdue_first_and_marks_it(client, login, committed):
    me = login("contributor")

    def build():
        lead = users.create_user("quality_lead")
        owner = db.session.get(User, me.id)
        plan(owner, title="Due later", due_date=TODAY + timedelta(days=9))
        plan(owner, title="Past due", due_date=TODAY - timedelta(days=1), today=LONG_AGO)
        capa = plan(owner, title="Due soon", due_date=TODAY + timedelta(days=1))
        capa_training.assign_training(
            capa,
            staff_id=me.id,
            topic="Late training",
            due_date=TODAY - timedelta(1),
            user=lead,
            today=LONG_AGO,
        )
        capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="Review June",
            method="manual_review",
            window_days=None,
            due_date=TODAY + timedelta(days=3),
            user=lead,
        )

    committed(build)
    page = text(client.get("/my-work"))
    actions = page.split('data-testid="my-capas"', 1)[1].split("</table>", 1)[0]
    titles = re.findall(r"<td>(Due later|Past due|Due soon)</td>", actions)
    assert titles == ["Past due", "Due soon", "Due later"]
    first_row = actions.split('data-testid="work-row"', 2)[1]
    assert "Overdue" in first_row
    assert actions.count('data-testid="overdue"') == 1
    trainings = page.split('data-testid="my-trainings"', 1)[1].split("</table>", 1)[0]
    assert "Late training" in trainings and "Overdue" in trainings
    checks = page.split('data-testid="my-checks"', 1)[1].split("</table>", 1)[0]
    assert "Review June" in checks and "Overdue" not in checks


def test_my_work_is_open_to_every_role_and_empty_for_an_auditor(client, login):
    login("auditor")
    page = text(client.get("/my-work"))
    assert "No open action is yours." in page
    assert "No pending check." in page
    assert "No open training." in page


def test_my_work_issues_the_same_number_of_queries_for_2_or_12_of_each(
    client, login, committed, count_queries
):
    me = login("quality_lead")

    def build(first: int, how_many: int):
        def run():
            owner = db.session.get(User, me.id)
            for number in range(first, first + how_many):
                capa = plan(owner, title=f"Action {number}", principle_ids=[1, 2])
                capa_training.assign_training(
                    capa,
                    staff_id=me.id,
                    topic=f"Training {number}",
                    due_date=TODAY + timedelta(days=5),
                    user=owner,
                )
                capa_effectiveness.plan_effectiveness_check(
                    capa,
                    criterion=f"Check {number}",
                    method="manual_review",
                    window_days=None,
                    due_date=TODAY + timedelta(days=30),
                    user=owner,
                )

        return run

    def open_my_work() -> None:
        assert client.get("/my-work").status_code == 200

    committed(build(0, 2))
    with_two = count_queries(open_my_work)
    committed(build(2, 10))
    with_twelve = count_queries(open_my_work)
    page = text(client.get("/my-work"))
    assert "Training 11" in page and "Check 11" in page and "Action 11" in page
    assert with_twelve == with_two
