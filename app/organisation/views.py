from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from app.audit.services import history_of
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status
from app.core.pagination import paginate, parse_page_number
from app.core.permissions import Permission, requires
from app.extensions import db
from app.organisation import services
from app.organisation.forms import (
    CategoryForm,
    CustomerFilterForm,
    CustomerForm,
    EditCategoryForm,
    EditCustomerForm,
    EditProcessForm,
    EditSiteForm,
    ProcessForm,
    SiteForm,
    optional_id,
)
from app.organisation.models import Category, Customer, Process, Site

blueprint = Blueprint("organisation", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


@blueprint.route("/principles")
@requires(Permission.ORGANISATION_VIEW)
def principle_list() -> str:
    return render_template(
        "organisation/principle_list.html", principles=services.list_principles()
    )


# --- sites -------------------------------------------------------------------------------------


@blueprint.route("/sites")
@requires(Permission.ORGANISATION_VIEW)
def site_list() -> str:
    return render_template("organisation/site_list.html", sites=services.list_sites())


@blueprint.route("/sites/new", methods=["GET", "POST"])
@requires(Permission.ORGANISATION_MANAGE)
def site_new() -> FormPage:
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = services.create_site(
                code=form.code.data,
                name=form.name.data,
                address=form.address.data,
                active=bool(form.active.data),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the site {site.name} ({site.code}).", "success")
            return redirect(url_for("organisation.site_list"))
    return render_template("organisation/site_form.html", form=form, site=None), form_status(form)


@blueprint.route("/sites/<int:site_id>", methods=["GET", "POST"])
@requires(Permission.ORGANISATION_MANAGE)
def site_edit(site_id: int) -> FormPage:
    site = db.get_or_404(Site, site_id)
    form = EditSiteForm(obj=site if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(site.version)
    stale = False
    if form.validate_on_submit():
        try:
            services.update_site(
                site,
                code=form.code.data,
                name=form.name.data,
                address=form.address.data,
                active=bool(form.active.data),
                expected_version=form.version.data,
            )
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the site {site.name}.", "success")
            return redirect(url_for("organisation.site_list"))
    return render_template(
        "organisation/site_form.html", form=form, site=site, history=history_of(site), stale=stale
    ), form_status(form)


# --- processes ---------------------------------------------------------------------------------


@blueprint.route("/processes")
@requires(Permission.ORGANISATION_VIEW)
def process_list() -> str:
    return render_template("organisation/process_list.html", processes=services.list_processes())


@blueprint.route("/processes/new", methods=["GET", "POST"])
@requires(Permission.ORGANISATION_MANAGE)
def process_new() -> FormPage:
    form = ProcessForm()
    form.set_choices(services.assignable_owners(), services.assignable_sites())
    if form.validate_on_submit():
        try:
            process = services.create_process(
                name=form.name.data,
                description=form.description.data,
                owner_id=optional_id(form.owner_id.data),
                site_id=optional_id(form.site_id.data),
                active=bool(form.active.data),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the process {process.name}.", "success")
            return redirect(url_for("organisation.process_list"))
    return render_template("organisation/process_form.html", form=form, process=None), form_status(
        form
    )


@blueprint.route("/processes/<int:process_id>", methods=["GET", "POST"])
@requires(Permission.ORGANISATION_MANAGE)
def process_edit(process_id: int) -> FormPage:
    process = db.get_or_404(Process, process_id)
    form = EditProcessForm(obj=process if request.method == "GET" else None)
    form.set_choices(
        services.assignable_owners(process.owner_id), services.assignable_sites(process.site_id)
    )
    if request.method == "GET":
        form.version.data = str(process.version)
        form.owner_id.data = str(process.owner_id or "")
        form.site_id.data = str(process.site_id or "")
    stale = False
    if form.validate_on_submit():
        try:
            services.update_process(
                process,
                name=form.name.data,
                description=form.description.data,
                owner_id=optional_id(form.owner_id.data),
                site_id=optional_id(form.site_id.data),
                active=bool(form.active.data),
                expected_version=form.version.data,
            )
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the process {process.name}.", "success")
            return redirect(url_for("organisation.process_list"))
    return render_template(
        "organisation/process_form.html",
        form=form,
        process=process,
        history=history_of(process),
        stale=stale,
    ), form_status(form)


# --- customers ---------------------------------------------------------------------------------


@blueprint.route("/customers")
@requires(Permission.ORGANISATION_VIEW)
def customer_list() -> tuple[str, int]:
    form = CustomerFilterForm(request.args)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    if request.args and not form.validate():
        return render_template(
            "organisation/customer_list.html", form=form, page=None, args=args
        ), 422
    page = paginate(
        db.session,
        services.customers_query(form.q.data or "", form.status.data or ""),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template("organisation/customer_list.html", form=form, page=page, args=args), 200


@blueprint.route("/customers/search.json")
@requires(Permission.ORGANISATION_VIEW)
def customer_search() -> Response:
    """Active customers matching ?q= (name or external id), for the customer picker."""
    customers, more = services.search_customers(request.args.get("q", ""))
    return jsonify(
        results=[
            {
                "id": customer.id,
                "label": customer.name
                + (f" ({customer.external_id})" if customer.external_id else ""),
            }
            for customer in customers
        ],
        more=more,
    )


@blueprint.route("/customers/new", methods=["GET", "POST"])
@requires(Permission.CUSTOMERS_MANAGE)
def customer_new() -> FormPage:
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            customer = services.create_customer(
                name=form.name.data,
                segment=form.segment.data,
                annual_value=form.annual_value.data,
                customer_since=form.customer_since.data,
                active=bool(form.active.data),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the customer {customer.name}.", "success")
            return redirect(url_for("organisation.customer_list"))
    return render_template(
        "organisation/customer_form.html", form=form, customer=None
    ), form_status(form)


@blueprint.route("/customers/<int:customer_id>", methods=["GET", "POST"])
@requires(Permission.CUSTOMERS_MANAGE)
def customer_edit(customer_id: int) -> FormPage:
    customer = db.get_or_404(Customer, customer_id)
    form = EditCustomerForm(obj=customer if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(customer.version)
        form.segment.data = customer.segment.value
    stale = False
    if form.validate_on_submit():
        try:
            services.update_customer(
                customer,
                name=form.name.data,
                segment=form.segment.data,
                annual_value=form.annual_value.data,
                customer_since=form.customer_since.data,
                active=bool(form.active.data),
                expected_version=form.version.data,
            )
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the customer {customer.name}.", "success")
            return redirect(url_for("organisation.customer_list"))
    return render_template(
        "organisation/customer_form.html",
        form=form,
        customer=customer,
        history=history_of(customer),
        stale=stale,
    ), form_status(form)


# --- failure categories ------------------------------------------------------------------------


@blueprint.route("/categories")
@requires(Permission.ORGANISATION_VIEW)
def category_list() -> str:
    return render_template("organisation/category_list.html", categories=services.list_categories())


@blueprint.route("/categories/new", methods=["GET", "POST"])
@requires(Permission.CATEGORIES_MANAGE)
def category_new() -> FormPage:
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            category = services.create_category(
                name=form.name.data,
                description=form.description.data,
                active=bool(form.active.data),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the category {category.name}.", "success")
            return redirect(url_for("organisation.category_list"))
    return render_template(
        "organisation/category_form.html", form=form, category=None
    ), form_status(form)


@blueprint.route("/categories/<int:category_id>", methods=["GET", "POST"])
@requires(Permission.CATEGORIES_MANAGE)
def category_edit(category_id: int) -> FormPage:
    category = db.get_or_404(Category, category_id)
    form = EditCategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(category.version)
    stale = False
    if form.validate_on_submit():
        try:
            services.update_category(
                category,
                name=form.name.data,
                description=form.description.data,
                active=bool(form.active.data),
                expected_version=form.version.data,
            )
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the category {category.name}.", "success")
            return redirect(url_for("organisation.category_list"))
    return render_template(
        "organisation/category_form.html",
        form=form,
        category=category,
        history=history_of(category),
        stale=stale,
    ), form_status(form)
