"""Every route × every role: the status each may get. A new route must be added here to pass."""

from __future__ import annotations

import pytest
from flask import Flask

from app.organisation.models import Category, Customer, CustomerSegment, Process, Site
from tests.conftest import TEST_PASSWORD

ROLES = ["anonymous", "admin", "quality_lead", "contributor", "auditor"]
LOGIN = "login"  # anonymous users are sent to the sign-in page


def statuses(anonymous, admin, quality_lead, contributor, auditor) -> dict[str, object]:
    return dict(zip(ROLES, [anonymous, admin, quality_lead, contributor, auditor], strict=True))


EVERYONE_SIGNED_IN = statuses(LOGIN, 200, 200, 200, 200)
ADMIN_ONLY = statuses(LOGIN, 200, 403, 403, 403)
AUDIT_READERS = statuses(LOGIN, 200, 200, 403, 200)
CUSTOMER_EDITORS = statuses(LOGIN, 200, 200, 403, 403)  # also category editors
EVERYONE_READS = EVERYONE_SIGNED_IN
RECORD_CREATORS = statuses(LOGIN, 403, 200, 200, 403)
RECORD_CREATE_POST = statuses(LOGIN, 403, 422, 422, 403)
# The sample records are neither owned by nor assigned to the contributor: only the lead may work.
RECORD_EDITOR = statuses(LOGIN, 403, 200, 403, 403)
RECORD_EDIT_POST = statuses(LOGIN, 403, 422, 403, 403)
RECORD_EDIT_DONE = statuses(LOGIN, 403, 302, 403, 403)
SCHEDULER_READERS = statuses(LOGIN, 200, 200, 403, 200)
# Importing complaints: quality leads and administrators; contributors and auditors never.
IMPORTERS = statuses(LOGIN, 200, 200, 403, 403)
IMPORT_POST = statuses(LOGIN, 422, 422, 403, 403)
TOKEN_ONLY = statuses(401, 401, 401, 401, 401)  # browser sessions never authenticate the API

C = "/complaints/{complaint}"
N = "/nonconformities/{nc}"
A = N + "/analyses/{analysis_id}"
K = "/capa/{capa}"
AU = "/audits/{audit}"
D = "/documents/{document}"
F = "/fmea/{fmea}"
FR = F + "/rows/{fmea_row_id}"
SU = "/suppliers/{supplier_id}"
SC = "/suppliers/scars/{scar}"

# Each kind of record that takes attachments, with the sample id naming it.
ATTACHMENT_TARGETS = [
    ("complaints", "complaint"),
    ("nonconformities", "nc"),
    ("analyses", "analysis_id"),
    ("capa", "capa"),
    ("checks", "check_id"),
    ("trainings", "training_id"),
    ("scars", "scar"),
]

# (method, path template, endpoint, expected status by role)
ROUTES = [
    ("GET", "/login", "accounts.login", statuses(200, 302, 302, 302, 302)),
    ("POST", "/logout", "accounts.logout", statuses(302, 302, 302, 302, 302)),
    ("GET", "/", "metrics.dashboard", EVERYONE_SIGNED_IN),
    # Metrics: the dashboard, its CSV downloads, objectives, the financial case, coverage
    ("GET", "/dashboard/kpis.csv", "metrics.dashboard_export", EVERYONE_SIGNED_IN),
    ("GET", "/objectives", "metrics.objective_list", EVERYONE_SIGNED_IN),
    ("GET", "/objectives/new", "metrics.objective_new", RECORD_EDITOR),
    ("POST", "/objectives/new", "metrics.objective_new", RECORD_EDIT_POST),
    ("GET", "/objectives/{objective_id}", "metrics.objective_detail", EVERYONE_SIGNED_IN),
    (
        "GET",
        "/objectives/{objective_id}/initiatives/new",
        "metrics.initiative_new",
        RECORD_EDITOR,
    ),
    (
        "POST",
        "/objectives/{objective_id}/initiatives/new",
        "metrics.initiative_new",
        RECORD_EDIT_POST,
    ),
    ("GET", "/initiatives/{initiative_id}/goals/new", "metrics.goal_new", RECORD_EDITOR),
    ("POST", "/initiatives/{initiative_id}/goals/new", "metrics.goal_new", RECORD_EDIT_POST),
    ("GET", "/goals/{goal_id}/edit", "metrics.goal_edit", RECORD_EDITOR),
    ("POST", "/goals/{goal_id}/edit", "metrics.goal_edit", RECORD_EDIT_POST),
    ("GET", "/financial-case", "metrics.financial_case", EVERYONE_SIGNED_IN),
    ("GET", "/principle-coverage", "metrics.principle_coverage", EVERYONE_SIGNED_IN),
    # The strategy workspace: assessment, operating model, metrics, strategy map
    ("GET", "/strategy", "strategy.workspace", EVERYONE_SIGNED_IN),
    ("GET", "/strategy/assessment", "strategy.assessment_list", EVERYONE_SIGNED_IN),
    ("GET", "/strategy/assessment/new", "strategy.assessment_new", RECORD_EDITOR),
    ("POST", "/strategy/assessment/new", "strategy.assessment_new", RECORD_EDIT_POST),
    ("GET", "/strategy/assessment/{entry_id}", "strategy.assessment_detail", EVERYONE_SIGNED_IN),
    ("GET", "/strategy/assessment/{entry_id}/revise", "strategy.assessment_revise", RECORD_EDITOR),
    (
        "POST",
        "/strategy/assessment/{entry_id}/revise",
        "strategy.assessment_revise",
        RECORD_EDIT_POST,
    ),
    ("GET", "/strategy/operating-model", "strategy.operating_model_page", EVERYONE_SIGNED_IN),
    ("GET", "/strategy/departments/new", "strategy.department_new", RECORD_EDITOR),
    ("POST", "/strategy/departments/new", "strategy.department_new", RECORD_EDIT_POST),
    (
        "GET",
        "/strategy/departments/{department_id}/edit",
        "strategy.department_edit",
        RECORD_EDITOR,
    ),
    (
        "POST",
        "/strategy/departments/{department_id}/edit",
        "strategy.department_edit",
        RECORD_EDIT_POST,
    ),
    ("GET", "/strategy/capabilities/new", "strategy.capability_new", RECORD_EDITOR),
    ("POST", "/strategy/capabilities/new", "strategy.capability_new", RECORD_EDIT_POST),
    ("GET", "/strategy/stakeholders/new", "strategy.stakeholder_new", RECORD_EDITOR),
    ("POST", "/strategy/stakeholders/new", "strategy.stakeholder_new", RECORD_EDIT_POST),
    ("GET", "/strategy/metrics", "strategy.metric_list", EVERYONE_SIGNED_IN),
    ("GET", "/strategy/metrics/new", "strategy.metric_new", RECORD_EDITOR),
    ("POST", "/strategy/metrics/new", "strategy.metric_new", RECORD_EDIT_POST),
    ("GET", "/strategy/metrics/{metric}", "strategy.metric_detail", EVERYONE_SIGNED_IN),
    ("POST", "/strategy/metrics/{metric}/values", "strategy.metric_value_new", RECORD_EDIT_POST),
    ("POST", "/strategy/metrics/{metric}/import", "strategy.metric_import", RECORD_EDIT_POST),
    ("GET", "/strategy/map", "strategy.map_page", EVERYONE_SIGNED_IN),
    ("GET", "/strategy/map.pdf", "strategy.map_pdf", AUDIT_READERS),
    (
        "POST",
        "/strategy/initiatives/{initiative_id}/capas",
        "strategy.initiative_link_capa",
        RECORD_EDIT_DONE,
    ),
    ("GET", "/admin/users", "accounts.user_list", ADMIN_ONLY),
    ("GET", "/admin/users/new", "accounts.user_new", ADMIN_ONLY),
    ("POST", "/admin/users/new", "accounts.user_new", statuses(LOGIN, 422, 403, 403, 403)),
    ("GET", "/admin/users/{user_id}", "accounts.user_edit", ADMIN_ONLY),
    ("GET", "/audit", "audit.event_list", AUDIT_READERS),
    ("GET", "/audit/verify", "audit.verify", AUDIT_READERS),
    ("GET", "/principles", "organisation.principle_list", EVERYONE_SIGNED_IN),
    ("GET", "/sites", "organisation.site_list", EVERYONE_SIGNED_IN),
    ("GET", "/sites/new", "organisation.site_new", ADMIN_ONLY),
    ("POST", "/sites/new", "organisation.site_new", statuses(LOGIN, 422, 403, 403, 403)),
    ("GET", "/sites/{site_id}", "organisation.site_edit", ADMIN_ONLY),
    ("GET", "/processes", "organisation.process_list", EVERYONE_SIGNED_IN),
    ("GET", "/processes/new", "organisation.process_new", ADMIN_ONLY),
    ("GET", "/processes/{process_id}", "organisation.process_edit", ADMIN_ONLY),
    ("GET", "/customers", "organisation.customer_list", EVERYONE_SIGNED_IN),
    ("GET", "/customers/new", "organisation.customer_new", CUSTOMER_EDITORS),
    ("POST", "/customers/new", "organisation.customer_new", statuses(LOGIN, 422, 422, 403, 403)),
    ("GET", "/customers/{customer_id}", "organisation.customer_edit", CUSTOMER_EDITORS),
    ("GET", "/categories", "organisation.category_list", EVERYONE_SIGNED_IN),
    ("GET", "/categories/new", "organisation.category_new", CUSTOMER_EDITORS),
    ("POST", "/categories/new", "organisation.category_new", statuses(LOGIN, 422, 422, 403, 403)),
    ("GET", "/categories/{category_id}", "organisation.category_edit", CUSTOMER_EDITORS),
    # Complaints
    ("GET", "/complaints", "complaints.complaint_list", EVERYONE_READS),
    ("GET", "/complaints/export.csv", "complaints.complaint_export", AUDIT_READERS),
    ("GET", "/complaints/new", "complaints.complaint_new", RECORD_CREATORS),
    ("POST", "/complaints/new", "complaints.complaint_new", RECORD_CREATE_POST),
    ("GET", C, "complaints.complaint_detail", EVERYONE_READS),
    ("GET", C + "/edit", "complaints.complaint_edit", RECORD_EDITOR),
    ("POST", C + "/edit", "complaints.complaint_edit", RECORD_EDIT_POST),
    (
        "POST",
        C + "/transition",
        "complaints.complaint_transition",
        RECORD_EDIT_POST,
    ),
    ("POST", C + "/assign", "complaints.complaint_assign", RECORD_EDIT_POST),
    ("POST", C + "/escalate", "complaints.complaint_escalate", RECORD_EDIT_POST),
    (
        "POST",
        C + "/recovery-actions",
        "complaints.recovery_action_add",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        C + "/satisfaction",
        "complaints.satisfaction_record",
        RECORD_EDIT_POST,
    ),
    ("POST", C + "/retention", "complaints.retention_record", RECORD_EDIT_POST),
    # Complaint import
    ("GET", "/import", "intake.upload", IMPORTERS),
    ("POST", "/import", "intake.upload", IMPORT_POST),
    ("GET", "/import/{import_id}/mapping", "intake.mapping", IMPORTERS),
    ("POST", "/import/{import_id}/mapping", "intake.mapping", IMPORT_POST),
    ("GET", "/import/{import_id}/preview", "intake.preview", IMPORTERS),
    ("POST", "/import/{import_id}/preview", "intake.preview", IMPORT_POST),
    ("GET", "/import/{import_id}", "intake.job", IMPORTERS),
    ("POST", "/import/{import_id}/step", "intake.step", IMPORTERS),
    ("GET", "/import/{import_id}/rejected.csv", "intake.rejected_csv", IMPORTERS),
    ("GET", "/import/mappings", "intake.saved_mapping_list", IMPORTERS),
    ("GET", "/import/mappings/{mapping_id}", "intake.saved_mapping", IMPORTERS),
    ("POST", "/import/mappings/{mapping_id}", "intake.saved_mapping", IMPORT_POST),
    ("POST", "/import/mappings/{mapping_id}/delete", "intake.saved_mapping_delete", IMPORT_POST),
    # Nonconformities and their root-cause analyses
    ("GET", "/nonconformities", "nonconformities.nonconformity_list", EVERYONE_READS),
    ("GET", "/nonconformities/export.csv", "nonconformities.nonconformity_export", AUDIT_READERS),
    ("GET", "/nonconformities/new", "nonconformities.nonconformity_new", RECORD_CREATORS),
    ("POST", "/nonconformities/new", "nonconformities.nonconformity_new", RECORD_CREATE_POST),
    ("GET", N, "nonconformities.nonconformity_detail", EVERYONE_READS),
    ("GET", N + "/edit", "nonconformities.nonconformity_edit", RECORD_EDITOR),
    ("POST", N + "/edit", "nonconformities.nonconformity_edit", RECORD_EDIT_POST),
    (
        "POST",
        N + "/transition",
        "nonconformities.nonconformity_transition",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        N + "/close",
        "nonconformities.nonconformity_close",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        N + "/complaints",
        "nonconformities.complaint_link",
        RECORD_EDIT_POST,
    ),
    ("POST", N + "/analyses", "rca.analysis_start", RECORD_EDIT_POST),
    ("GET", A, "rca.analysis_detail", EVERYONE_READS),
    ("POST", A + "/whys", "rca.why_add", RECORD_EDIT_POST),
    (
        "POST",
        A + "/whys/{why_id}",
        "rca.why_update",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        A + "/causes",
        "rca.cause_add",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        A + "/eight-d",
        "rca.eight_d_save",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        A + "/root-causes",
        "rca.root_cause_add",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        A + "/root-causes/{root_cause_id}/verify",
        "rca.root_cause_verify",
        RECORD_EDIT_POST,
    ),
    # Removals come after every route that reads what they remove.
    (
        "POST",
        A + "/whys/{why_id}/remove",
        "rca.why_remove",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        A + "/causes/{cause_id}/remove",
        "rca.cause_remove",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        N + "/complaints/{complaint}/remove",
        "nonconformities.complaint_unlink",
        RECORD_EDIT_DONE,
    ),
    # CAPA
    ("GET", "/capa", "capa.capa_list", EVERYONE_READS),
    ("GET", "/my-work", "capa.my_work", EVERYONE_READS),
    ("GET", "/capa/export.csv", "capa.capa_export", AUDIT_READERS),
    ("GET", "/capa/new", "capa.capa_new", RECORD_EDITOR),
    ("POST", "/capa/new", "capa.capa_new", RECORD_EDIT_POST),
    ("GET", K, "capa.capa_detail", EVERYONE_READS),
    ("GET", K + "/edit", "capa.capa_edit", RECORD_EDITOR),
    ("POST", K + "/edit", "capa.capa_edit", RECORD_EDIT_POST),
    ("POST", K + "/transition", "capa.capa_transition", RECORD_EDIT_POST),
    ("POST", K + "/trainings", "capa.training_assign", RECORD_EDIT_POST),
    ("POST", K + "/checks", "capa.check_plan", RECORD_EDIT_POST),
    ("POST", "/capa/checks/{check_id}/result", "capa.check_result", RECORD_EDIT_POST),
    ("POST", "/capa/checks/{check_id}/evaluate", "capa.check_evaluate", RECORD_EDIT_POST),
    (
        "POST",
        K + "/verify-effectiveness",
        "capa.capa_verify_effectiveness",
        RECORD_EDIT_POST,
    ),
    ("POST", K + "/close", "capa.capa_close", RECORD_EDIT_POST),
    (
        "POST",
        "/capa/trainings/{training_id}/complete",
        "capa.training_complete",
        RECORD_EDIT_DONE,
    ),
    # Notifications: each user's own (the sample one belongs to the sample lead, so 404 here).
    ("GET", "/notifications", "notifications.notification_list", EVERYONE_SIGNED_IN),
    (
        "POST",
        "/notifications/{notification_id}/read",
        "notifications.notification_read",
        statuses(LOGIN, 404, 404, 404, 404),
    ),
    (
        "POST",
        "/notifications/read-all",
        "notifications.notification_read_all",
        statuses(LOGIN, 302, 302, 302, 302),
    ),
    # The scheduler's admin page: administrators change it; leads and auditors read it.
    ("GET", "/admin/scheduler", "scheduler.job_list", SCHEDULER_READERS),
    ("GET", "/admin/scheduler/{job}", "scheduler.job_detail", SCHEDULER_READERS),
    (
        "POST",
        "/admin/scheduler/{job}/settings",
        "scheduler.job_settings",
        statuses(LOGIN, 422, 403, 403, 403),
    ),
    (
        "POST",
        "/admin/scheduler/{job}/run",
        "scheduler.job_run_now",
        statuses(LOGIN, 422, 403, 403, 403),
    ),
    (
        "POST",
        "/admin/scheduler/recurring-failure-review/review-history",
        "scheduler.job_review_history",
        statuses(LOGIN, 422, 403, 403, 403),
    ),
    # Reports (PDF): those who may export records (admin, quality lead, auditor)
    ("GET", "/reports", "reports.index", AUDIT_READERS),
    ("GET", "/reports/record", "reports.record_report", statuses(LOGIN, 422, 422, 403, 422)),
    ("GET", "/reports/capa/{capa}.pdf", "reports.capa_report", AUDIT_READERS),
    (
        "GET",
        "/reports/nonconformities/{nc}/8d.pdf",
        "reports.eight_d_report",
        AUDIT_READERS,
    ),
    (
        "GET",
        "/reports/complaints/{complaint}/recovery.pdf",
        "reports.complaint_report",
        AUDIT_READERS,
    ),
    ("GET", "/reports/nonconformity-register.pdf", "reports.nonconformity_register", AUDIT_READERS),
    ("GET", "/reports/audit-trail.pdf?reference={capa}", "reports.audit_extract", AUDIT_READERS),
    # Background tasks (app/tasks): each user's own; the sample task is the sample lead's (404).
    ("GET", "/tasks", "tasks.task_list", EVERYONE_SIGNED_IN),
    ("GET", "/tasks/{task_id}", "tasks.task_page", statuses(LOGIN, 404, 404, 404, 404)),
    ("GET", "/tasks/{task_id}/status", "tasks.task_status", statuses(LOGIN, 404, 404, 404, 404)),
    (
        "GET",
        "/tasks/{task_id}/download",
        "tasks.task_download",
        statuses(LOGIN, 404, 404, 404, 404),
    ),
    # The API reference and API tokens (admin pages).
    ("GET", "/api", "api_admin.reference", statuses(200, 200, 200, 200, 200)),
    ("GET", "/admin/tokens", "api_admin.token_list", ADMIN_ONLY),
    ("GET", "/admin/tokens/new", "api_admin.token_new", ADMIN_ONLY),
    ("POST", "/admin/tokens/new", "api_admin.token_new", statuses(LOGIN, 422, 403, 403, 403)),
    (
        "POST",
        "/admin/tokens/{token_id}/revoke",
        "api_admin.token_revoke",
        statuses(LOGIN, 302, 403, 403, 403),
    ),
    # The JSON API: public document; every operation needs a token, whatever the browser session
    # (the scopes per operation are tested in tests/api/test_access_and_errors.py).
    ("GET", "/api/v1/openapi.json", "api.openapi_json", statuses(200, 200, 200, 200, 200)),
    ("GET", "/api/v1/complaints", "api.list_complaints", TOKEN_ONLY),
    ("POST", "/api/v1/complaints", "api.create_complaint", TOKEN_ONLY),
    ("GET", "/api/v1" + C, "api.get_complaint", TOKEN_ONLY),
    ("POST", "/api/v1" + C + "/transitions", "api.transition_complaint", TOKEN_ONLY),
    ("POST", "/api/v1" + C + "/recovery-actions", "api.add_recovery_action", TOKEN_ONLY),
    ("POST", "/api/v1" + C + "/satisfaction", "api.record_satisfaction", TOKEN_ONLY),
    ("PUT", "/api/v1/customers/C-1", "api.put_customer", TOKEN_ONLY),
    ("POST", "/api/v1/metrics/authz_metric/values", "api.post_metric_value", TOKEN_ONLY),
    ("GET", "/api/v1/customers/C-1", "api.get_customer", TOKEN_ONLY),
    ("GET", "/api/v1/nonconformities", "api.list_nonconformities", TOKEN_ONLY),
    ("GET", "/api/v1" + N, "api.get_nonconformity", TOKEN_ONLY),
    ("GET", "/api/v1/capas", "api.list_capas", TOKEN_ONLY),
    ("GET", "/api/v1/capas/{capa}", "api.get_capa", TOKEN_ONLY),
    ("GET", "/api/v1/processes", "api.list_processes", TOKEN_ONLY),
    ("GET", "/api/v1/categories", "api.list_categories", TOKEN_ONLY),
    ("GET", "/api/v1/channels", "api.list_channels", TOKEN_ONLY),
    ("GET", "/api/v1/principles", "api.list_principles", TOKEN_ONLY),
    (
        "GET",
        "/reports/quality-review.pdf?date_from=2026-01-01&date_to=2026-01-07",
        "reports.quality_review",
        AUDIT_READERS,
    ),
    ("GET", "/reports/archive/{archived_id}.pdf", "reports.archived_report", AUDIT_READERS),
    # Record control and page faults (issue 18): the import's mapping file, the customer picker
    ("POST", "/import/{import_id}/mapping/file", "intake.mapping_file", IMPORT_POST),
    ("GET", "/customers/search.json", "organisation.customer_search", EVERYONE_SIGNED_IN),
    # The audit trail (history): the log's CSV export, for those who read the log.
    ("GET", "/audit/export.csv", "audit.event_export", AUDIT_READERS),
    # Internal audits (issue 12): everyone reads; quality leads plan; the sample audit's lead
    # auditor is the quality lead, so only they record its answers and findings here (a lead
    # auditor or team member of another role may too: tests/audits/test_views.py).
    ("GET", "/audits", "audits.programme", EVERYONE_READS),
    ("GET", "/audits/programmes/new", "audits.programme_new", RECORD_EDITOR),
    ("POST", "/audits/programmes/new", "audits.programme_new", RECORD_EDIT_POST),
    ("GET", "/audits/new", "audits.audit_new", RECORD_EDITOR),
    ("POST", "/audits/new", "audits.audit_new", RECORD_EDIT_POST),
    ("GET", AU, "audits.audit_detail", EVERYONE_READS),
    ("GET", AU + "/edit", "audits.audit_edit", RECORD_EDITOR),
    ("POST", AU + "/edit", "audits.audit_edit", RECORD_EDIT_POST),
    ("POST", AU + "/transition", "audits.audit_transition", RECORD_EDIT_POST),
    ("POST", AU + "/independence-exception", "audits.audit_exception", RECORD_EDIT_POST),
    ("POST", AU + "/checklists", "audits.checklist_add", RECORD_EDIT_POST),
    ("POST", AU + "/questions/{question_id}", "audits.question_answer", RECORD_EDIT_POST),
    ("POST", AU + "/findings", "audits.finding_add", RECORD_EDIT_POST),
    (
        "POST",
        AU + "/findings/1/nonconformity",
        "audits.finding_raise_nonconformity",
        RECORD_EDIT_DONE,
    ),
    ("POST", AU + "/conclusion", "audits.conclusion_save", RECORD_EDIT_POST),
    ("POST", AU + "/sign", "audits.audit_sign", RECORD_EDIT_POST),
    ("GET", "/audits/library", "audits.library", EVERYONE_READS),
    ("POST", "/audits/library/standards", "audits.standard_new", RECORD_EDIT_POST),
    ("POST", "/audits/library/standards/1/clauses", "audits.clause_add", RECORD_EDIT_POST),
    ("POST", "/audits/library/checklists", "audits.template_new", RECORD_EDIT_POST),
    ("GET", "/reports/audits/{audit}.pdf", "reports.audit_report", AUDIT_READERS),
    # Management reviews (issue 12): the sample review is held, chaired by the quality lead.
    ("GET", "/reviews", "reviews.review_list", EVERYONE_READS),
    ("GET", "/reviews/new", "reviews.review_new", RECORD_EDITOR),
    ("POST", "/reviews/new", "reviews.review_new", RECORD_EDIT_POST),
    ("GET", "/reviews/{review}", "reviews.review_detail", EVERYONE_READS),
    ("GET", "/reviews/{review}/edit", "reviews.review_edit", RECORD_EDITOR),
    ("POST", "/reviews/{review}/edit", "reviews.review_edit", RECORD_EDIT_POST),
    ("POST", "/reviews/{review}/hold", "reviews.review_hold", RECORD_EDIT_POST),
    ("POST", "/reviews/{review}/notes", "reviews.note_save", RECORD_EDIT_POST),
    ("POST", "/reviews/{review}/outputs", "reviews.output_add", RECORD_EDIT_POST),
    (
        "POST",
        "/reviews/{review}/outputs/{output_id}/capa",
        "reviews.output_capa",
        RECORD_EDIT_POST,
    ),
    (
        "POST",
        "/reviews/{review}/outputs/{output_id}/done",
        "reviews.output_done",
        RECORD_EDIT_DONE,
    ),
    ("POST", "/reviews/{review}/approve", "reviews.review_approve", RECORD_EDIT_POST),
    ("GET", "/reports/reviews/{review}/minutes.pdf", "reports.review_minutes", AUDIT_READERS),
    # Attachments (issue 11): everyone who reads a record sees and downloads its files; those
    # who may edit it attach and remove (an empty upload or a removal without reason: 422).
    *[
        ("GET", f"/attachments/{kind}/{{{ident}}}", "attachments.attachment_page", EVERYONE_READS)
        for kind, ident in ATTACHMENT_TARGETS
    ],
    *[
        (
            "POST",
            f"/attachments/{kind}/{{{ident}}}",
            "attachments.attachment_upload",
            RECORD_EDIT_POST,
        )
        for kind, ident in ATTACHMENT_TARGETS
    ],
    (
        "GET",
        "/attachments/files/{attachment_id}/download",
        "attachments.attachment_download",
        EVERYONE_READS,
    ),
    (
        "POST",
        "/attachments/files/{attachment_id}/remove",
        "attachments.attachment_remove",
        RECORD_EDIT_POST,
    ),
    # Document control (issue 11): everyone reads; quality leads (and owners) write; signing
    # needs the sign permission; the sample document is the lead's, revision 1 a draft.
    ("GET", "/documents", "documents.document_list", EVERYONE_READS),
    ("GET", "/documents/in-force", "documents.in_force", EVERYONE_READS),
    ("GET", "/documents/in-force?date=2026-01-31", "documents.in_force", EVERYONE_READS),
    ("GET", "/documents/new", "documents.document_new", RECORD_EDITOR),
    ("POST", "/documents/new", "documents.document_new", RECORD_EDIT_POST),
    ("GET", D, "documents.document_detail", EVERYONE_READS),
    ("GET", D + "/edit", "documents.document_edit", RECORD_EDITOR),
    ("POST", D + "/edit", "documents.document_edit", RECORD_EDIT_POST),
    ("POST", D + "/revisions", "documents.revision_start", RECORD_EDIT_POST),
    ("POST", D + "/confirm-review", "documents.document_confirm_review", RECORD_EDIT_DONE),
    ("GET", D + "/revisions/1", "documents.revision_detail", EVERYONE_READS),
    ("GET", D + "/revisions/1.pdf", "documents.revision_pdf", AUDIT_READERS),
    (
        "GET",
        D + "/revisions/1/file",
        "documents.revision_file",
        statuses(LOGIN, 404, 404, 404, 404),
    ),
    ("GET", D + "/revisions/1/edit", "documents.revision_edit", RECORD_EDITOR),
    ("POST", D + "/revisions/1/edit", "documents.revision_edit", RECORD_EDIT_POST),
    ("POST", D + "/revisions/1/sign", "documents.revision_sign", RECORD_EDIT_POST),
    ("POST", D + "/revisions/1/transition", "documents.revision_transition", RECORD_EDIT_POST),
    (
        "POST",
        D + "/revisions/1/acknowledge",
        "documents.revision_acknowledge",
        statuses(LOGIN, 302, 302, 302, 302),
    ),
    # Process FMEA (issue 13): everyone reads; quality leads maintain and approve (signing);
    # the XLSX and PDF exports follow the export permission. The sample row has no CAPA.
    ("GET", "/fmea", "fmea.fmea_list", EVERYONE_READS),
    ("GET", "/fmea/new", "fmea.fmea_new", RECORD_EDITOR),
    ("POST", "/fmea/new", "fmea.fmea_new", RECORD_EDIT_POST),
    ("GET", F, "fmea.fmea_detail", EVERYONE_READS),
    ("GET", F + "/edit", "fmea.fmea_edit", RECORD_EDITOR),
    ("POST", F + "/edit", "fmea.fmea_edit", RECORD_EDIT_POST),
    ("GET", F + "/rows/new", "fmea.row_new", RECORD_EDITOR),
    ("POST", F + "/rows/new", "fmea.row_new", RECORD_EDIT_POST),
    ("GET", FR + "/edit", "fmea.row_edit", RECORD_EDITOR),
    ("POST", FR + "/edit", "fmea.row_edit", RECORD_EDIT_POST),
    ("POST", FR + "/delete", "fmea.row_delete", RECORD_EDIT_POST),
    ("GET", FR + "/capa", "fmea.row_capa", RECORD_EDITOR),
    ("POST", FR + "/capa", "fmea.row_capa", RECORD_EDIT_POST),
    ("GET", FR + "/revised", "fmea.row_revised", RECORD_EDITOR),
    ("POST", FR + "/revised", "fmea.row_revised", RECORD_EDIT_POST),
    ("POST", F + "/approve", "fmea.fmea_approve", RECORD_EDIT_POST),
    ("GET", F + "/revisions/1", "fmea.revision_detail", EVERYONE_READS),
    ("GET", F + "/export.xlsx", "fmea.fmea_export", AUDIT_READERS),
    ("GET", F + "/import", "fmea.fmea_import", RECORD_EDITOR),
    ("POST", F + "/import", "fmea.fmea_import", RECORD_EDIT_POST),
    ("GET", F + "/worksheet.pdf", "fmea.fmea_pdf", AUDIT_READERS),
    # Suppliers and SCARs (issue 13): everyone reads; quality leads keep the register and work
    # the SCARs.
    ("GET", "/suppliers", "suppliers.supplier_list", EVERYONE_READS),
    ("GET", "/suppliers/new", "suppliers.supplier_new", RECORD_EDITOR),
    ("POST", "/suppliers/new", "suppliers.supplier_new", RECORD_EDIT_POST),
    ("GET", SU, "suppliers.supplier_detail", EVERYONE_READS),
    ("GET", SU + "/edit", "suppliers.supplier_edit", RECORD_EDITOR),
    ("POST", SU + "/edit", "suppliers.supplier_edit", RECORD_EDIT_POST),
    ("POST", SU + "/status", "suppliers.supplier_status", RECORD_EDIT_POST),
    ("POST", SU + "/attributions", "suppliers.attribution_add", RECORD_EDIT_POST),
    ("POST", SU + "/attributions/remove", "suppliers.attribution_remove", RECORD_EDIT_POST),
    ("GET", SU + "/scars/new", "suppliers.scar_new", RECORD_EDITOR),
    ("POST", SU + "/scars/new", "suppliers.scar_new", RECORD_EDIT_POST),
    ("GET", "/suppliers/scars", "suppliers.scar_list", EVERYONE_READS),
    ("GET", SC, "suppliers.scar_detail", EVERYONE_READS),
    ("POST", SC + "/review", "suppliers.scar_review", RECORD_EDIT_POST),
    ("POST", SC + "/link", "suppliers.scar_link", RECORD_EDIT_POST),
    ("POST", SC + "/cancel", "suppliers.scar_cancel", RECORD_EDIT_POST),
    # The supplier's response page needs no account: an unknown token is 404 for everyone, and a
    # working one opens the form (an empty POST comes back with its errors).
    ("GET", "/supplier-response/not-a-token", "supplier_response.respond", statuses(*[404] * 5)),
    ("GET", "/supplier-response/{scar_token}", "supplier_response.respond", statuses(*[200] * 5)),
    ("POST", "/supplier-response/{scar_token}", "supplier_response.respond", statuses(*[422] * 5)),
]


def test_the_table_covers_every_route(app: Flask) -> None:
    covered = {endpoint for _, _, endpoint, _ in ROUTES}
    routed = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routed - covered == set(), "routes missing from the authorization table"
    assert covered - routed == set(), "the table names routes that do not exist"


def test_every_view_declares_its_permission(app: Flask) -> None:
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "required_permission")
    ]
    assert undeclared == []


@pytest.fixture()
def sample_ids(app: Flask, make_user, db_connection) -> dict[str, object]:
    """One of each record, owned by a quality lead so the contributor may read but not work."""
    from datetime import UTC, datetime, timedelta

    from app.capa import effectiveness as capa_effectiveness
    from app.capa import services as capa_services
    from app.capa import training as capa_training
    from app.complaints import services as complaint_services
    from app.extensions import db
    from app.nonconformities import services as nc_services
    from app.rca import services as rca_services

    user = make_user("contributor")
    lead = make_user("quality_lead")
    with app.app_context():
        site = Site(code="AZ", name="Authz site")
        process = Process(name="Authz process", site=site)
        customer = Customer(name="Authz customer", segment=CustomerSegment.CONSUMER)
        category = Category(name="Authz category")
        db.session.add_all([site, process, customer, category])
        db.session.commit()
        lead = db.session.merge(lead)
        complaint = complaint_services.record_complaint(
            user=lead, title="Authz complaint", channel="phone", severity="low"
        )
        nc = nc_services.raise_nonconformity(
            title="Authz nonconformity",
            source="customer_complaint",
            detected_at=datetime.now(UTC),
            severity=5,
            occurrence=5,
            detection=5,
            owner_id=lead.id,
            complaint_ids=[complaint.id],
            user=lead,
        )
        analysis = rca_services.start_analysis(nc, "five_whys", "Why did it fail?", lead)
        why = rca_services.add_why(analysis, "Why late?", "No stock", user=lead)
        cause = rca_services.add_ishikawa_cause(analysis, "method", "No check", user=lead)
        root_cause = rca_services.add_root_cause(analysis, "No reorder rule", "method", user=lead)
        capa = capa_services.plan_capa(
            kind="corrective",
            recovery_dimension="process",
            title="Authz CAPA",
            owner_id=lead.id,
            due_date=capa_services.today_utc() + timedelta(days=30),
            principle_ids=[1],
            nonconformity_ids=[nc.id],
            user=lead,
        )
        training = capa_training.assign_training(
            capa,
            staff_id=lead.id,
            topic="Reorder rules",
            due_date=capa_services.today_utc() + timedelta(days=10),
            user=lead,
        )
        check = capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="No late orders for 30 days",
            method="manual_review",
            window_days=None,
            due_date=capa_services.today_utc() + timedelta(days=40),
            user=lead,
        )
        from app.notifications.services import notify

        notification = notify(lead, kind="test", subject="For the sample lead", email=False)

        from app.tasks.models import BackgroundTask, TaskStatus

        task = BackgroundTask(
            kind="csv-export",
            title="The sample lead's export",
            status=TaskStatus.DONE,
            params_json="{}",
            requested_by_id=lead.id,
            runner="",
            progress_done=0,
            progress_label="",
            message="Ready",
            result=b"a,b\n",
            result_size=4,
            result_filename="sample.csv",
            result_mimetype="text/csv",
        )
        db.session.add(task)

        from app.intake import services as intake_services

        import_job = intake_services.create_job(
            "authz.csv", b"Ref,Title\nT1,Late parcel\n", user=lead
        )
        intake_services.set_mapping(
            import_job,
            {
                "source_system": "authz",
                "fields": {
                    "external_id": "Ref",
                    "title": "Title",
                    "channel": {"value": "phone"},
                    "severity": {"value": "low"},
                },
            },
            user=lead,
        )
        saved_mapping = intake_services.save_mapping(
            "Authz mapping", import_job.mapping_dict or {}, user=lead
        )

        from app.metrics import objectives as metric_objectives

        objective = metric_objectives.create_objective(
            title="Authz objective", owner_id=lead.id, principle_ids=[1]
        )
        initiative = metric_objectives.create_initiative(
            objective, title="Authz initiative", owner_id=lead.id, principle_ids=[1]
        )
        goal = metric_objectives.create_goal(
            initiative,
            kpi="complaints",
            baseline_start=capa_services.today_utc() - timedelta(days=60),
            baseline_end=capa_services.today_utc() - timedelta(days=31),
            target_kind="relative",
            target_value=10,
            deadline=capa_services.today_utc() + timedelta(days=90),
            owner_id=lead.id,
        )

        from app.metrics import measured
        from app.strategy import assessment as strategy_assessment
        from app.strategy import operating_model

        entry = strategy_assessment.record_entry(
            kind="business_need",
            title="Authz need",
            statement="Customers want answers within a day.",
            impact="high",
            user=db.session.merge(lead),
        )
        department = operating_model.create_department(name="Authz department")
        measured.create_metric(
            key="authz_metric",
            label="Authz metric",
            category="sales",
            unit="money",
            better="higher",
        )

        from app.api.tokens import create_token

        token, _ = create_token(name="Authz integration", scopes="read")
        from app.reports.models import ArchivedReport

        archived = ArchivedReport(
            kind="quality_review",
            title="Authz archived pack",
            period_start=datetime(2026, 1, 1, tzinfo=UTC).date(),
            period_end=datetime(2026, 1, 31, tzinfo=UTC).date(),
            report_id="RPT-20260201-060000-AUTHZ0",
            filename="authz.pdf",
            data_sha256="0" * 64,
            file_sha256="1" * 64,
            pages=1,
            size_bytes=9,
            generated_by="system:archive-review-pack",
            pdf=b"%PDF-authz",
        )
        db.session.add(archived)

        from app.audits import library as audit_library
        from app.audits import services as audit_services

        year = capa_services.today_utc().year
        programme = audit_services.create_programme(year, user=lead)
        template = audit_library.create_template(
            "Authz checklist", questions=[("Is it done?", 30)], user=lead
        )
        audit = audit_services.plan_audit(
            programme,
            title="Authz audit",
            planned_start=capa_services.today_utc().replace(month=1, day=5),
            planned_end=capa_services.today_utc().replace(month=1, day=6),
            lead_auditor_id=lead.id,
            process_ids=[process.id],
            user=lead,
        )
        audit_services.add_checklist(audit, template.id, user=lead)
        audit_services.transition_audit(audit, "prepare", lead)
        audit_services.transition_audit(audit, "start", lead)
        audit_services.record_finding(audit, kind="major", description="No check", user=lead)

        from app.reviews import services as review_services

        review = review_services.schedule_review(
            title="Authz review",
            meeting_date=capa_services.today_utc(),
            period_start=capa_services.today_utc() - timedelta(days=30),
            period_end=capa_services.today_utc(),
            chair_id=lead.id,
            user=lead,
        )
        review_services.hold_review(review, lead)
        review_action = review_services.add_output(
            review,
            kind="action",
            text="Authz action",
            owner_id=lead.id,
            due_date=capa_services.today_utc() + timedelta(days=10),
            user=lead,
        )
        import io

        from app.attachments import services as attachment_services

        attachment = attachment_services.attach_files(
            attachment_services.TARGETS["complaints"],
            complaint,
            [(io.BytesIO(b"Call notes: the parcel was late.\n"), "call-notes.txt")],
            lead,
        )[0]
        from app.documents import services as document_services

        document = document_services.create_document(
            doc_type="procedure",
            title="Authz procedure",
            owner_id=lead.id,
            body_markdown="Do it right.",
            user=lead,
        )
        from app.fmea import services as fmea_services

        fmea = fmea_services.create_fmea(title="Authz FMEA", process_id=process.id, user=lead)
        fmea_row = fmea_services.add_row(
            fmea,
            values={
                "failure_mode": "Authz failure",
                "severity": 5,
                "occurrence": 4,
                "detection": 3,
            },
            user=lead,
        )
        fmea_services.approve_revision(
            fmea, lead, TEST_PASSWORD, change_note="Authz", expected_version=fmea.version
        )
        from app.suppliers import scar as scar_services
        from app.suppliers import services as supplier_services

        supplier = supplier_services.create_supplier(
            name="Authz supplier", contact_email="authz-supplier@example.com", user=lead
        )
        supplier_services.attribute(supplier, "nonconformity", nc.reference, user=lead)
        issued = scar_services.issue_scar(
            nc,
            problem="Parcels arrive late.",
            due_date=capa_services.today_utc() + timedelta(days=14),
            owner_id=lead.id,
            user=lead,
        )
        db.session.commit()
        return {
            "fmea": fmea.reference,
            "fmea_row_id": fmea_row.id,
            "supplier_id": supplier.id,
            "scar": issued.scar.reference,
            "scar_token": issued.token,
            "review": review.reference,
            "output_id": review_action.id,
            "audit": audit.reference,
            "question_id": audit.questions[0].id,
            "document": document.number,
            "attachment_id": attachment.id,
            "archived_id": archived.id,
            "notification_id": notification.id,
            "task_id": task.id,
            "job": "recurring-failure-review",
            "import_id": import_job.id,
            "mapping_id": saved_mapping.id,
            "objective_id": objective.id,
            "goal_id": goal.id,
            "initiative_id": initiative.id,
            "entry_id": entry.id,
            "department_id": department.id,
            "metric": "authz_metric",
            "token_id": token.id,
            "user_id": user.id,
            "site_id": site.id,
            "process_id": process.id,
            "customer_id": customer.id,
            "category_id": category.id,
            "complaint": complaint.reference,
            "nc": nc.reference,
            "analysis_id": analysis.id,
            "why_id": why.id,
            "cause_id": cause.id,
            "root_cause_id": root_cause.id,
            "capa": capa.reference,
            "training_id": training.id,
            "check_id": check.id,
        }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_route(
    role: str, app: Flask, client, make_user, sample_ids
) -> None:
    if role != "anonymous":
        user = make_user(role)
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
    failures = []
    for method, template, endpoint, expected_by_role in ROUTES:
        path = template.format(**sample_ids)
        # An empty POST is invalid input: permitted roles get the form back (422), never a save.
        response = client.open(path, method=method, data={})
        expected = expected_by_role[role]
        if expected == LOGIN:
            ok = response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(
                f"{method} {path} ({endpoint}): got {response.status_code}, want {expected}"
            )
        if endpoint == "accounts.logout" and role != "anonymous":
            client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert failures == []
