"""The supplier's response page: the one page of Loop QMS open without an account.

The token is in the path (never a query string, which lands in logs and Referer headers). The
page is rate-limited with the sign-in page's mechanism (failed attempts per address, counted in
the database, so the limit holds across workers): a wrong, used, revoked or expired link counts
as a failed attempt, and an address over the limit gets 429 whatever it asks. The form carries a
CSRF token like every other form. The page shows that one SCAR and nothing else: its own layout,
no navigation, no links into the application."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from app.accounts.services import ThrottleSettings, address_rate_limited, record_failed_attempt
from app.core.errors import ServiceError
from app.core.forms import apply_service_error
from app.core.permissions import public
from app.suppliers import scar as scar_services
from app.suppliers.forms import SupplierAnswerForm

blueprint = Blueprint("supplier_response", __name__, template_folder="templates")

FAILED_ATTEMPT = "supplier-response-link"


def _no_referrer(response: Response) -> Response:
    # The token is in the address: never hand it to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


blueprint.after_request(_no_referrer)


@blueprint.route("/supplier-response/<token>", methods=["GET", "POST"])
@public
def respond(token: str) -> tuple[str, int]:
    remote_addr = request.remote_addr or ""
    if address_rate_limited(remote_addr, ThrottleSettings.from_config()):
        return render_template(
            "suppliers/external_refused.html",
            message="Too many attempts from your address. Please wait a few minutes.",
        ), 429
    try:
        link = scar_services.resolve_link(token)
    except scar_services.LinkRefused as refused:
        record_failed_attempt(FAILED_ATTEMPT, remote_addr)
        return render_template("suppliers/external_refused.html", message=refused.message), (
            refused.status
        )
    scar = link.scar
    form = SupplierAnswerForm()
    if form.validate_on_submit():
        try:
            scar_services.record_supplier_answer(
                link,
                scar_services.SupplierAnswer(
                    answered_by=form.answered_by.data or "",
                    containment=form.containment.data or "",
                    root_cause=form.root_cause.data or "",
                    corrective_action=form.corrective_action.data or "",
                    verification=form.verification.data or "",
                ),
                evidence=[
                    (upload.stream, upload.filename)
                    for upload in request.files.getlist("files")
                    if upload and upload.filename
                ],
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return render_template("suppliers/external_thanks.html", scar=scar), 200
    elif request.method == "GET" and scar.status.value == "returned":
        # A returned answer comes back for revision: the supplier starts from what they sent.
        form.containment.data = scar.containment
        form.root_cause.data = scar.root_cause
        form.corrective_action.data = scar.corrective_action
        form.verification.data = scar.verification
    return render_template("suppliers/external_respond.html", scar=scar, form=form), (
        422 if form.is_submitted() else 200
    )
