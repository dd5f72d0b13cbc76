"""The complaint pages: recording, the complaint page and its forms, editing, refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.complaints.models import Complaint, ComplaintStatus, RecoveryAction
from app.core.db import utcnow
from tests.complaints.factories import new_complaint, new_process, walk
from tests.organisation.pages import is_marked_invalid, page_text


def visible_text(page: str) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def detail_url(complaint: Complaint, suffix: str = "") -> str:
    return f"/complaints/{complaint.reference}{suffix}"


# --- recording ---------------------------------------------------------------------------------


def test_record_a_complaint_then_see_it(client, login, count, committed):
    lead = login("quality_lead")
    process = committed(new_process, "Billing")
    page = page_text(client.get("/complaints/new"))
    assert ">Billing</option>" in page and ">E-mail</option>" in page
    response = client.post(
        "/complaints/new",
        data={
            "title": "Charged twice for March",
            "channel": "phone",
            "severity": "high",
            "process_id": str(process.id),
            "description": "Two debits on the 3rd.",
        },
    )
    assert response.status_code == 302
    match = re.fullmatch(r"/complaints/(CMP-\d{4}-\d{6})", response.headers["Location"])
    assert match
    page = page_text(client.get(response.headers["Location"]))
    assert f"Recorded complaint {match[1]}." in page
    assert match[1] in page and "Charged twice for March" in page and "Billing" in page
    assert "Received" in page and lead.full_name in page  # the reporter
    assert count(Complaint) == 1


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"channel": "pigeon"}, "channel", "Not a valid choice."),
        ({"process_id": "999999"}, "process_id", "Not a valid choice."),
        ({"received_at": "yesterday"}, "received_at", "Not a valid datetime value."),
        (
            {"received_at": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
            "received_at",
            "cannot be in the future",
        ),
    ],
)
def test_bad_input_on_the_new_form_saves_nothing(client, login, count, changes, field_id, message):
    login("quality_lead")
    data = {"title": "Rude driver", "channel": "phone", "severity": "low", **changes}
    response = client.post("/complaints/new", data=data)
    assert response.status_code == 422
    page = page_text(response)
    assert is_marked_invalid(page, field_id) and message in page
    assert f'value="{data["title"]}"' in page or not data["title"]  # values kept
    assert count(Complaint) == 0


def test_contributors_record_but_auditors_may_not(client, login):
    login("auditor")
    assert client.get("/complaints/new").status_code == 403
    assert client.post("/complaints/new", data={"title": "x"}).status_code == 403


# --- the complaint page ------------------------------------------------------------------------


def test_unknown_references_are_404(client, login):
    login("quality_lead")
    for path in (
        "/complaints/CMP-2020-999999",
        "/complaints/CMP-2020-999999/edit",
    ):
        assert client.get(path).status_code == 404
    for suffix in ("transition", "recovery-actions", "satisfaction", "retention", "escalate"):
        assert client.post(f"/complaints/CMP-2020-999999/{suffix}").status_code == 404


def test_the_page_shows_the_workflow_buttons_times_and_what_is_missing(client, login, committed):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    page = page_text(client.get(detail_url(complaint)))
    assert complaint.reference in page
    assert ">Acknowledge</button>" in page and ">Resolve</button>" in page
    assert ">Close</button>" not in page
    assert "Missing: no nonconformity has been raised from this complaint" in page
    assert "Missing: no training has been assigned to staff" in page
    assert "Still missing: Customer, Process, Employee recovery." in page
    assert "Missing: no customer recovery action recorded yet" in page
    assert "Recorded once the complaint is resolved." in page
    assert 'data-testid="record-history"' in page


def test_a_transition_moves_the_complaint_and_stamps_times(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/transition"), data={"transition": "resolve"})
    assert response.status_code == 302
    page = page_text(client.get(response.headers["Location"]))
    assert f"{complaint.reference} is now resolved." in page
    assert "Yes — resolved at the first contact" in page
    stored = fetch(complaint.reference)
    assert stored.status == ComplaintStatus.RESOLVED and stored.resolved_at is not None
    assert ">Close</button>" in page and ">Reopen</button>" in page


def test_the_page_shows_how_long_the_first_response_took(client, login, committed):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead, received_at=utcnow() - timedelta(hours=2))
    client.post(detail_url(complaint, "/transition"), data={"transition": "acknowledge"})
    page = visible_text(page_text(client.get(detail_url(complaint))))
    assert "First response" in page and "after 2 h 0 min" in page
    assert "Resolved not yet" in page and "First-contact resolution not resolved yet" in page


def test_a_refused_transition_says_why_and_changes_nothing(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/transition"), data={"transition": "close"})
    assert response.status_code == 422
    assert "“Close” is not possible while the complaint is received." in page_text(response)
    assert fetch(complaint.reference).status == ComplaintStatus.RECEIVED


def test_reopen_without_a_reason_is_refused(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(lambda: walk(new_complaint(lead), lead, "resolve"))
    response = client.post(detail_url(complaint, "/transition"), data={"transition": "reopen"})
    assert response.status_code == 422
    page = page_text(response)
    assert "“Reopen” needs a reason." in page and is_marked_invalid(page, "reason")
    assert fetch(complaint.reference).status == ComplaintStatus.RESOLVED
    response = client.post(
        detail_url(complaint, "/transition"),
        data={"transition": "reopen", "reason": "The refund never arrived"},
    )
    assert response.status_code == 302
    page = page_text(client.get(detail_url(complaint)))
    assert "reason: The refund never arrived" in page
    assert fetch(complaint.reference).resolved_at is None


def test_a_transition_post_without_a_transition_is_refused(client, login, committed):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/transition"), data={})
    assert response.status_code == 422
    assert 'data-testid="transition-error"' in page_text(response)


# --- customer recovery, satisfaction, retention ------------------------------------------------


def test_record_an_apology_and_a_refund(client, login, committed, count):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(
        detail_url(complaint, "/recovery-actions"),
        data={"recovery-kind": "apology", "recovery-description": "Called and apologised"},
    )
    assert response.status_code == 302
    response = client.post(
        detail_url(complaint, "/recovery-actions"),
        data={
            "recovery-kind": "refund",
            "recovery-amount": "1234.5",
            "recovery-currency": "eur",
            "recovery-done_by_id": str(lead.id),
        },
    )
    assert response.status_code == 302
    page = page_text(client.get(detail_url(complaint)))
    assert "Recorded the refund on" in page
    assert "Called and apologised" in page and "1,234.50 EUR" in page
    assert "Cost of the recovery: 1,234.50 EUR" in page
    assert "Missing: no customer recovery action" not in page
    assert count(RecoveryAction) == 2


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"recovery-kind": "refund"}, "recovery-amount", "A refund needs the amount paid."),
        (
            {"recovery-kind": "refund", "recovery-amount": "10"},
            "recovery-currency",
            "Give the currency of the amount",
        ),
        (
            {"recovery-kind": "goodwill", "recovery-amount": "ten", "recovery-currency": "EUR"},
            "recovery-amount",
            "Not a valid decimal value.",
        ),
        (
            {"recovery-kind": "refund", "recovery-amount": "10", "recovery-currency": "XYZ"},
            "recovery-currency",
            "ISO 4217",
        ),
        ({"recovery-kind": "bribe"}, "recovery-kind", "Not a valid choice."),
        ({"recovery-kind": "other"}, "recovery-description", "A description is required."),
    ],
)
def test_bad_recovery_actions_save_nothing(
    client, login, committed, count, data, field_id, message
):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/recovery-actions"), data=data)
    assert response.status_code == 422
    page = page_text(response)
    assert is_marked_invalid(page, field_id) and message in page
    assert count(RecoveryAction) == 0


def test_satisfaction_before_resolution_is_refused(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/satisfaction"), data={"csat-score": "5"})
    assert response.status_code == 422
    page = page_text(response)
    assert "once the complaint is resolved or closed" in page
    assert is_marked_invalid(page, "csat-score")
    assert fetch(complaint.reference).csat_score is None


@pytest.mark.parametrize("score", ["", "9", "five"])
def test_bad_satisfaction_scores_are_refused(client, login, committed, fetch, score):
    lead = login("quality_lead")
    complaint = committed(lambda: walk(new_complaint(lead), lead, "resolve"))
    response = client.post(detail_url(complaint, "/satisfaction"), data={"csat-score": score})
    assert response.status_code == 422
    assert is_marked_invalid(page_text(response), "csat-score")
    assert fetch(complaint.reference).csat_score is None


def test_satisfaction_and_retention_after_resolution(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(lambda: walk(new_complaint(lead), lead, "resolve"))
    response = client.post(
        detail_url(complaint, "/satisfaction"),
        data={"csat-score": "4", "csat-comment": "Sorted quickly"},
    )
    assert response.status_code == 302
    response = client.post(
        detail_url(complaint, "/retention"),
        data={"retention-status": "left", "retention-follow_up_days": "30"},
    )
    assert response.status_code == 302
    page = visible_text(page_text(client.get(detail_url(complaint))))
    assert "CSAT 4 of 5" in page and "Sorted quickly" in page
    assert "The customer left after 30 days" in page
    stored = fetch(complaint.reference)
    assert stored.csat_score == 4 and stored.retention_status.value == "left"


@pytest.mark.parametrize(
    ("data", "field_id"),
    [
        ({"retention-status": "left", "retention-follow_up_days": "0"}, "retention-follow_up_days"),
        ({"retention-status": "left", "retention-follow_up_days": "x"}, "retention-follow_up_days"),
        (
            {"retention-status": "stayed", "retention-follow_up_days": "90"},
            "retention-follow_up_days",
        ),
        ({"retention-status": "maybe", "retention-follow_up_days": "30"}, "retention-status"),
    ],
)
def test_bad_retention_follow_ups_are_refused(client, login, committed, fetch, data, field_id):
    lead = login("quality_lead")
    complaint = committed(lambda: walk(new_complaint(lead), lead, "resolve"))
    response = client.post(detail_url(complaint, "/retention"), data=data)
    assert response.status_code == 422
    assert is_marked_invalid(page_text(response), field_id)
    assert fetch(complaint.reference).retention_checked_at is None


# --- escalation and assignment -----------------------------------------------------------------


def test_escalate_with_a_reason(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(
        detail_url(complaint, "/escalate"),
        data={"escalation-level": "2", "escalation-reason": "Press enquiry"},
    )
    assert response.status_code == 302
    page = page_text(client.get(detail_url(complaint)))
    assert "is now at escalation level 2" in page and "reason: Press enquiry" in page
    assert f"set by {lead.full_name}" in page
    assert fetch(complaint.reference).escalation_level == 2


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"escalation-level": "2"}, "escalation-reason", "This field is required."),
        ({"escalation-level": "7", "escalation-reason": "x"}, "escalation-level", "Not a valid"),
        (
            {"escalation-level": "0", "escalation-reason": "x"},
            "escalation-level",
            "already at escalation level 0",
        ),
    ],
)
def test_bad_escalations_are_refused(client, login, committed, fetch, data, field_id, message):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/escalate"), data=data)
    assert response.status_code == 422
    page = page_text(response)
    assert is_marked_invalid(page, field_id) and message in page
    assert fetch(complaint.reference).escalation_level == 0


def test_assign_and_refuse_an_unknown_assignee(client, login, committed, fetch, make_user):
    lead = login("quality_lead")
    contributor = make_user("contributor")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/assign"), data={"assign-assignee_id": "999999"})
    assert response.status_code == 422
    assert is_marked_invalid(page_text(response), "assign-assignee_id")
    assert fetch(complaint.reference).assignee_id is None
    assert client.post(detail_url(complaint, "/assign"), data={}).status_code == 422
    response = client.post(
        detail_url(complaint, "/assign"), data={"assign-assignee_id": str(contributor.id)}
    )
    assert response.status_code == 302
    assert fetch(complaint.reference).assignee_id == contributor.id
    page = page_text(client.get(detail_url(complaint)))
    assert f"is now assigned to {contributor.full_name}." in page
    response = client.post(detail_url(complaint, "/assign"), data={"assign-assignee_id": "none"})
    assert response.status_code == 302
    assert fetch(complaint.reference).assignee_id is None


# --- editing -----------------------------------------------------------------------------------


def edit_form(complaint: Complaint, **changes: str) -> dict[str, str]:
    form = {
        "title": complaint.title,
        "channel": complaint.channel.value,
        "severity": complaint.severity.value,
        "customer_id": str(complaint.customer_id or ""),
        "product_or_service": complaint.product_or_service,
        "process_id": str(complaint.process_id or ""),
        "category_id": str(complaint.category_id or ""),
        "description": complaint.description,
        "version": str(complaint.version),
    }
    return {**form, **changes}


def test_edit_a_complaint(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    page = page_text(client.get(detail_url(complaint, "/edit")))
    assert f'name="version" type="hidden" value="{complaint.version}"' in page
    assert 'value="Invoice charged twice"' in page
    response = client.post(
        detail_url(complaint, "/edit"), data=edit_form(complaint, title="Charged three times")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == detail_url(complaint)
    assert fetch(complaint.reference).title == "Charged three times"


def test_a_stale_edit_is_refused_with_a_reload_link(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    stale = edit_form(complaint, title="My edit")
    client.post(detail_url(complaint, "/edit"), data=edit_form(complaint, title="Their edit"))
    response = client.post(detail_url(complaint, "/edit"), data=stale)
    assert response.status_code == 422
    page = page_text(response)
    assert "was changed by someone else since you opened it" in page
    assert 'data-testid="stale-notice"' in page and "Reload the current version" in page
    assert 'value="My edit"' in page  # the user's entry is kept to copy
    assert fetch(complaint.reference).title == "Their edit"


@pytest.mark.parametrize(
    ("changes", "field_id"),
    [
        ({"title": ""}, "title"),
        ({"severity": "urgent"}, "severity"),
        ({"customer_id": "x"}, "customer_id"),
    ],
)
def test_bad_edits_save_nothing(client, login, committed, fetch, changes, field_id):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/edit"), data=edit_form(complaint, **changes))
    assert response.status_code == 422
    assert is_marked_invalid(page_text(response), field_id)
    stored = fetch(complaint.reference)
    assert stored.title == "Invoice charged twice" and stored.version == complaint.version


# --- who may change what -----------------------------------------------------------------------

POST_ROUTES = [
    ("/transition", {"transition": "acknowledge"}),
    ("/recovery-actions", {"recovery-kind": "apology"}),
    ("/satisfaction", {"csat-score": "5"}),
    ("/retention", {"retention-status": "left", "retention-follow_up_days": "30"}),
    ("/escalate", {"escalation-level": "1", "escalation-reason": "x"}),
    ("/assign", {"assign-assignee_id": "none"}),
    ("/edit", {"title": "x"}),
]


@pytest.mark.parametrize("role", ["auditor", "contributor", "admin"])
def test_outsiders_get_403_on_every_change(client, login, make_user, committed, fetch, count, role):
    lead = make_user("quality_lead")
    assignee = make_user("contributor")
    complaint = committed(new_complaint, lead, assignee_id=assignee.id)
    login(role)
    assert client.get(detail_url(complaint, "/edit")).status_code == 403
    for suffix, data in POST_ROUTES:
        response = client.post(detail_url(complaint, suffix), data=data)
        assert response.status_code == 403, suffix
    stored = fetch(complaint.reference)
    assert stored.status == ComplaintStatus.RECEIVED and stored.assignee_id == assignee.id
    assert count(RecoveryAction) == 0


def test_auditors_read_the_page_without_any_forms(client, login, make_user, committed):
    lead = make_user("quality_lead")
    complaint = committed(new_complaint, lead)
    login("auditor")
    response = client.get(detail_url(complaint))
    assert response.status_code == 200
    page = page_text(response)
    assert complaint.reference in page and '<form method="post" action="/complaints' not in page
    assert "Only a quality lead or the complaint's assignee can change its status." in page


def test_the_assigned_contributor_works_the_complaint(client, login, make_user, committed, fetch):
    lead = make_user("quality_lead")
    contributor = login("contributor")
    complaint = committed(new_complaint, lead, assignee_id=contributor.id)
    page = page_text(client.get(detail_url(complaint)))
    assert ">Acknowledge</button>" in page and 'href="/complaints/' in page
    response = client.post(detail_url(complaint, "/transition"), data={"transition": "resolve"})
    assert response.status_code == 302
    response = client.post(detail_url(complaint, "/transition"), data={"transition": "close"})
    assert response.status_code == 422
    assert "Your role may not “Close” this complaint." in page_text(response)
    assert fetch(complaint.reference).status == ComplaintStatus.RESOLVED


def test_each_open_workflow_button_says_which_state_it_moves_to(client, login, committed):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    html = client.get(detail_url(complaint)).get_data(as_text=True)
    assert 'aria-describedby="effect-acknowledge">Acknowledge</button>' in html
    assert 'data-testid="effect-acknowledge">Moves it to “acknowledged”.</div>' in html
    assert 'data-testid="effect-resolve">Moves it to “resolved”.</div>' in html
    # Every open button points at the line that says what it does.
    described = re.findall(r'aria-describedby="effect-(\w+)"', html)
    assert described and all(f'id="effect-{name}"' in html for name in described)


def test_the_long_forms_list_their_numbered_sections_above_them(client, login):
    login("quality_lead")
    for path, sections in (
        (
            "/complaints/new",
            ["What happened", "Customer and where it belongs", "Account and assignee"],
        ),
        (
            "/capa/new",
            ["The action", "Owner, due date and cost", "TQM principles", "What it fixes"],
        ),
    ):
        html = client.get(path).get_data(as_text=True)
        index = re.search(r'data-testid="form-sections">(.*?)</ol>', html, re.S)
        assert index, path
        listed = re.findall(r'<a href="#([\w-]+)">(\d)\. ([^<]+)</a>', index.group(1))
        assert [title for _, _, title in listed] == sections
        for anchor, number, title in listed:  # each points at its section, numbered alike
            assert re.search(
                rf'<fieldset[^>]*id="{anchor}"[^>]*>\s*<legend class="h6[^"]*">{number}\. {title}<',
                html,
            ), (path, title)


def test_the_region_is_kept_edited_and_checked_on_the_form(client, login, committed, fetch):
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    response = client.post(detail_url(complaint, "/edit"), data=edit_form(complaint, region="CA"))
    assert response.status_code == 302
    assert fetch(complaint.reference).region == "CA"
    page = page_text(client.get(detail_url(complaint)))
    assert 'data-testid="region">CA<' in page
    assert 'value="CA"' in page_text(client.get(detail_url(complaint, "/edit")))
    too_long = client.post(
        detail_url(complaint, "/edit"),
        data=edit_form(fetch(complaint.reference), region="X" * 61),
    )
    assert too_long.status_code == 422
    assert is_marked_invalid(page_text(too_long), "region")
    assert fetch(complaint.reference).region == "CA"
    cleared = client.post(
        detail_url(complaint, "/edit"), data=edit_form(fetch(complaint.reference), region="")
    )
    assert cleared.status_code == 302
    assert fetch(complaint.reference).region is None
