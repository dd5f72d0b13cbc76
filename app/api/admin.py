"""Browser pages of the API: the readable API reference (`/api`, from the OpenAPI document) and
the administration of API tokens (`/admin/tokens`)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.api import reference as reference_rows
from app.api import tokens
from app.api.forms import NewTokenForm
from app.api.openapi import openapi_document
from app.core.errors import ServiceError
from app.core.forms import apply_service_error
from app.core.permissions import Permission, public, requires

blueprint = Blueprint("api_admin", __name__, template_folder="templates")
blueprint.add_app_template_filter(reference_rows.inline_markdown, "inline_markdown")


@blueprint.route("/api")
@public
def reference() -> str:
    """The API reference, rendered from the same OpenAPI document clients download."""
    doc = openapi_document()
    return render_template(
        "api/reference.html",
        doc=doc,
        operations=reference_rows.operations(doc),
        schemas=reference_rows.schemas(doc),
    )


@blueprint.route("/admin/tokens")
@requires(Permission.API_TOKENS_MANAGE)
def token_list() -> str:
    return render_template("api/token_list.html", tokens=tokens.list_tokens())


@blueprint.route("/admin/tokens/new", methods=["GET", "POST"])
@requires(Permission.API_TOKENS_MANAGE)
def token_new() -> str | tuple[str, int]:
    form = NewTokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(
                name=form.name.data, scopes=form.chosen_scopes(), created_by_id=current_user.id
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            # Shown on this page only, never stored or flashed: the database keeps its hash.
            return render_template("api/token_created.html", token=token, secret=secret), 201
    status = 422 if form.is_submitted() else 200
    return render_template("api/token_form.html", form=form), status


@blueprint.route("/admin/tokens/<int:token_id>/revoke", methods=["POST"])
@requires(Permission.API_TOKENS_MANAGE)
def token_revoke(token_id: int) -> Response:
    token = tokens.get_token(token_id)
    if token is None:
        abort(404)
    try:
        tokens.revoke_token(token, revoked_by_id=current_user.id)
    except ServiceError as error:
        flash(error.message, "warning")
    else:
        flash(f"Revoked the token of {token.name}; it no longer works.", "success")
    return redirect(url_for("api_admin.token_list"))
