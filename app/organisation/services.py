"""Organisation data: sites, processes, customers, failure categories and the TQM principles.

The create and update functions take plain values, check the rules, change the records and flush;
they never commit. A refusal is a `ServiceError` naming the field at fault; after one, the caller
rolls the session back (`app.core.forms.apply_service_error` does) before using it again.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.db import ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import ServiceError
from app.core.validation import checked_money, checked_text
from app.extensions import db
from app.organisation.models import (
    Category,
    Customer,
    CustomerSegment,
    Process,
    Site,
    TQMPrinciple,
)

SITE_CODE_MAX_LENGTH = 20
NAME_MAX_LENGTH = 200
SITE_CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]*")
# Numeric(14, 2): twelve digits before the decimal point.
ANNUAL_VALUE_LIMIT = Decimal("1000000000000")


# --- lists -------------------------------------------------------------------------------------


def list_principles() -> list[TQMPrinciple]:
    return list(db.session.scalars(select(TQMPrinciple).order_by(TQMPrinciple.id)))


def list_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.active.desc(), Site.name)))


def list_processes() -> list[Process]:
    return list(
        db.session.scalars(
            select(Process)
            .options(selectinload(Process.owner), selectinload(Process.site))
            .order_by(Process.active.desc(), Process.name)
        )
    )


def customers_query(text: str = "", status: str = "") -> Select[tuple[Customer]]:
    """Customers for the list: active first, by name; `text` narrows to a name or external id
    containing it (any case), `status` ("active" or "inactive") to one status."""
    statement = select(Customer).order_by(Customer.active.desc(), Customer.name, Customer.id)
    wanted = (text or "").strip()[:200].lower()
    if wanted:
        statement = statement.where(_customer_matches(wanted))
    if status in ("active", "inactive"):
        statement = statement.where(Customer.active.is_(status == "active"))
    return statement


def _customer_matches(wanted: str):
    return func.lower(Customer.name).contains(wanted, autoescape=True) | func.lower(
        func.coalesce(Customer.external_id, "")
    ).contains(wanted, autoescape=True)


def assignable_owners(current_owner_id: int | None = None) -> list[User]:
    """Users a process may be given to: the active ones, plus its current owner if deactivated."""
    condition = User.active.is_(True)
    if current_owner_id is not None:
        condition = condition | (User.id == current_owner_id)
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


def assignable_sites(current_site_id: int | None = None) -> list[Site]:
    """Sites a process may run at: the active ones, plus its current site if deactivated."""
    condition = Site.active.is_(True)
    if current_site_id is not None:
        condition = condition | (Site.id == current_site_id)
    return list(db.session.scalars(select(Site).where(condition).order_by(Site.name)))


# --- shared checks -----------------------------------------------------------------------------


def _taken(
    model: type[Site] | type[Process] | type[Category], column, value: str, exclude_id: int | None
) -> bool:
    """Whether another record already uses `value` in `column`, compared without regard to case."""
    statement = select(model.id).where(func.lower(column) == value.lower())
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    return db.session.scalar(statement.limit(1)) is not None


def _flush(label: str, table: str, unique_messages: dict[str, str]) -> None:
    """Flush, turning the database's last-moment refusals into messages a user can act on.

    The checks before the flush catch duplicates and stale forms; these catch the same conflicts
    when another request saved in the moment between our check and our write.
    """
    try:
        flush_or_refuse_stale(db.session, label)
    except IntegrityError as error:
        # PostgreSQL names the constraint; SQLite says "UNIQUE constraint failed: table.column".
        diagnostics = getattr(error.orig, "diag", None)
        detail = getattr(diagnostics, "constraint_name", None) or str(error.orig)
        for field, message in unique_messages.items():
            if f"uq_{table}_{field}" in detail or f"{table}.{field}" in detail:
                raise ServiceError(message, field=field) from None
        raise ServiceError(f"{label} could not be saved: {error.orig}") from None


# --- sites -------------------------------------------------------------------------------------


def _checked_site_values(code: str, name: str, exclude_id: int | None) -> tuple[str, str]:
    code = checked_text(code, "A site code", "code", SITE_CODE_MAX_LENGTH).upper()
    if not SITE_CODE_PATTERN.fullmatch(code):
        raise ServiceError(
            "A site code may use only letters, digits, hyphens and underscores, "
            "starting with a letter or digit.",
            field="code",
        )
    name = checked_text(name, "A site name", "name", NAME_MAX_LENGTH)
    if _taken(Site, Site.code, code, exclude_id):
        raise ServiceError(f"Another site already has the code {code}.", field="code")
    if _taken(Site, Site.name, name, exclude_id):
        raise ServiceError(f"Another site is already called {name!r}.", field="name")
    return code, name


def _site_unique_messages(code: str, name: str) -> dict[str, str]:
    return {
        "code": f"Another site already has the code {code}.",
        "name": f"Another site is already called {name!r}.",
    }


def create_site(*, code: str, name: str, address: str = "", active: bool = True) -> Site:
    """Add a site. The code is stored upper-cased; code and name must be unique (any case)."""
    code, name = _checked_site_values(code, name, exclude_id=None)
    site = Site(code=code, name=name, address=(address or "").strip(), active=active)
    db.session.add(site)
    _flush(f"The site {name}", "site", _site_unique_messages(code, name))
    return site


def update_site(
    site: Site, *, code: str, name: str, address: str, active: bool, expected_version: object
) -> Site:
    """Apply an edit of `site`, refusing a stale form and the same rules as `create_site`."""
    ensure_current_version(site, expected_version, f"The site {site.name}")
    code, name = _checked_site_values(code, name, exclude_id=site.id)
    label = f"The site {site.name}"
    site.code = code
    site.name = name
    site.address = (address or "").strip()
    site.active = active
    _flush(label, "site", _site_unique_messages(code, name))
    return site


# --- processes ---------------------------------------------------------------------------------


def _checked_owner(owner_id: int | None, current_owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    owner = db.session.get(User, owner_id)
    if owner is None:
        raise ServiceError("The chosen owner does not exist.", field="owner_id")
    if not owner.active and owner_id != current_owner_id:
        raise ServiceError(
            f"{owner.full_name} is deactivated and cannot take on a process.", field="owner_id"
        )
    return owner_id


def _checked_site(site_id: int | None, current_site_id: int | None) -> int | None:
    if site_id is None:
        return None
    site = db.session.get(Site, site_id)
    if site is None:
        raise ServiceError("The chosen site does not exist.", field="site_id")
    if not site.active and site_id != current_site_id:
        raise ServiceError(
            f"The site {site.name} is inactive; choose an active site.", field="site_id"
        )
    return site_id


def _process_unique_messages(name: str) -> dict[str, str]:
    return {"name": f"Another process is already called {name!r}."}


def create_process(
    *,
    name: str,
    description: str = "",
    owner_id: int | None = None,
    site_id: int | None = None,
    active: bool = True,
) -> Process:
    """Add a process. The name must be unique (any case); owner and site, if given, must exist
    and be active."""
    name = checked_text(name, "A process name", "name", NAME_MAX_LENGTH)
    if _taken(Process, Process.name, name, exclude_id=None):
        raise ServiceError(_process_unique_messages(name)["name"], field="name")
    process = Process(
        name=name,
        description=(description or "").strip(),
        owner_id=_checked_owner(owner_id, None),
        site_id=_checked_site(site_id, None),
        active=active,
    )
    db.session.add(process)
    _flush(f"The process {name}", "process", _process_unique_messages(name))
    return process


def update_process(
    process: Process,
    *,
    name: str,
    description: str,
    owner_id: int | None,
    site_id: int | None,
    active: bool,
    expected_version: object,
) -> Process:
    """Apply an edit of `process`, refusing a stale form and the same rules as `create_process`.

    A deactivated owner or inactive site the process already has may stay; a new one may not.
    """
    label = f"The process {process.name}"
    ensure_current_version(process, expected_version, label)
    name = checked_text(name, "A process name", "name", NAME_MAX_LENGTH)
    if _taken(Process, Process.name, name, exclude_id=process.id):
        raise ServiceError(_process_unique_messages(name)["name"], field="name")
    owner_id = _checked_owner(owner_id, process.owner_id)
    site_id = _checked_site(site_id, process.site_id)
    process.name = name
    process.description = (description or "").strip()
    process.owner_id = owner_id
    process.site_id = site_id
    process.active = active
    _flush(label, "process", _process_unique_messages(name))
    return process


# --- customers ---------------------------------------------------------------------------------


def _checked_segment(segment: CustomerSegment | str | None) -> CustomerSegment:
    try:
        return CustomerSegment(segment)
    except ValueError:
        choices = ", ".join(member.label for member in CustomerSegment)
        raise ServiceError(f"Choose a segment: {choices}.", field="segment") from None


def _checked_annual_value(value: Decimal | int | str | None) -> Decimal:
    # A customer with no annual value given is worth 0 to the financial case, not unknown.
    amount = checked_money(value, "The annual value", "annual_value", below=ANNUAL_VALUE_LIMIT)
    return amount if amount is not None else Decimal("0.00")


def _checked_customer_since(customer_since: date | None, today: date | None) -> date | None:
    today = today or utcnow().date()
    if customer_since is not None and customer_since > today:
        raise ServiceError(
            f"The customer-since date cannot be in the future (today is {today.isoformat()}).",
            field="customer_since",
        )
    return customer_since


def create_customer(
    *,
    name: str,
    segment: CustomerSegment | str,
    annual_value: Decimal | int | str | None = None,
    customer_since: date | None = None,
    active: bool = True,
    today: date | None = None,
    external_id: str | None = None,
) -> Customer:
    """Add a customer. Names need not be unique (two people may share one). The annual value is
    0 or more with at most two decimal places (missing means 0); customer-since, if given, is not
    after `today` (the current UTC date unless given). `external_id`, the customer's id in the
    system that sends complaints (API), is unique when given."""
    ident = (external_id or "").strip() or None
    if ident is not None:
        if len(ident) > EXTERNAL_ID_MAX_LENGTH:
            raise ServiceError(
                f"The external id may have at most {EXTERNAL_ID_MAX_LENGTH} characters.",
                field="external_id",
            )
        if customer_by_external_id(ident) is not None:
            raise ServiceError(
                f"A customer with external id {ident} exists already.", field="external_id"
            )
    customer = Customer(
        name=checked_text(name, "A customer name", "name", NAME_MAX_LENGTH),
        segment=_checked_segment(segment),
        annual_value=_checked_annual_value(annual_value),
        customer_since=_checked_customer_since(customer_since, today),
        active=active,
        external_id=ident,
    )
    db.session.add(customer)
    _flush(
        f"The customer {customer.name}",
        "customer",
        {"external_id": f"A customer with external id {ident} exists already."},
    )
    return customer


EXTERNAL_ID_MAX_LENGTH = 120


def customer_by_external_id(external_id: str) -> Customer | None:
    """The customer known to other systems as `external_id`, if any."""
    return db.session.scalar(select(Customer).where(Customer.external_id == external_id))


def update_customer(
    customer: Customer,
    *,
    name: str,
    segment: CustomerSegment | str,
    annual_value: Decimal | int | str | None,
    customer_since: date | None,
    active: bool,
    expected_version: object,
    today: date | None = None,
) -> Customer:
    """Apply an edit of `customer`, refusing a stale form and the rules of `create_customer`."""
    label = f"The customer {customer.name}"
    ensure_current_version(customer, expected_version, label)
    name = checked_text(name, "A customer name", "name", NAME_MAX_LENGTH)
    checked_segment = _checked_segment(segment)
    amount = _checked_annual_value(annual_value)
    since = _checked_customer_since(customer_since, today)
    customer.name = name
    customer.segment = checked_segment
    customer.annual_value = amount
    customer.customer_since = since
    if customer.active and not active:
        customer.left_on = today or utcnow().date()
    elif active:
        customer.left_on = None
    customer.active = active
    _flush(label, "customer", {})
    return customer


# --- failure categories ------------------------------------------------------------------------

CATEGORY_NAME_MAX_LENGTH = 120


def list_categories(*, active_only: bool = False) -> list[Category]:
    statement = select(Category).order_by(Category.active.desc(), Category.name)
    if active_only:
        statement = statement.where(Category.active.is_(True))
    return list(db.session.scalars(statement))


def _checked_category_name(name: str, exclude_id: int | None) -> str:
    name = checked_text(name, "A name", "name", CATEGORY_NAME_MAX_LENGTH)
    if _taken(Category, Category.name, name, exclude_id):
        raise ServiceError("A category with this name exists already.", field="name")
    return name


def create_category(*, name: str, description: str = "", active: bool = True) -> Category:
    """Add a failure category to the taxonomy complaints and nonconformities share."""
    category = Category(
        name=_checked_category_name(name, None),
        description=(description or "").strip(),
        active=active,
    )
    db.session.add(category)
    _flush(
        f"The category {category.name}",
        "category",
        {"name": "A category with this name exists already."},
    )
    return category


def update_category(
    category: Category, *, name: str, description: str, active: bool, expected_version: object
) -> Category:
    """Rename, describe or (de)activate a category; records keep it when it is deactivated."""
    label = f"The category {category.name}"
    ensure_current_version(category, expected_version, label)
    category.name = _checked_category_name(name, category.id)
    category.description = (description or "").strip()
    category.active = active
    _flush(label, "category", {"name": "A category with this name exists already."})
    return category


CUSTOMER_SEARCH_LIMIT = 20


def search_customers(text: str, limit: int = CUSTOMER_SEARCH_LIMIT) -> tuple[list[Customer], bool]:
    """Active customers whose name or external id contains `text` (any case), by name: at most
    `limit`, and whether there are more. For the customer picker on complaint forms."""
    wanted = (text or "").strip()[:200].lower()
    statement = select(Customer).where(Customer.active.is_(True))
    if wanted:
        statement = statement.where(_customer_matches(wanted))
    found = list(
        db.session.scalars(statement.order_by(Customer.name, Customer.id).limit(limit + 1))
    )
    return found[:limit], len(found) > limit
