"""Demo organisation for `make run`: a user per role, sites, processes, customers, categories.

Made through the services where they exist, so demo data obeys the same rules and lands in the
audit trail like any other change.
"""

from __future__ import annotations

import random
import secrets
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import create_user
from app.core.permissions import Role
from app.extensions import db
from app.organisation.models import Category, Customer, CustomerSegment, Process, Site

DEMO_USERS = [
    ("admin@loop.example", "Ada Admin", Role.ADMIN),
    ("lead@loop.example", "Quinn Lead", Role.QUALITY_LEAD),
    ("staff@loop.example", "Casey Contributor", Role.CONTRIBUTOR),
    ("auditor@loop.example", "Avery Auditor", Role.AUDITOR),
]

DEMO_SITES = [
    ("LON", "London contact centre", "1 Example Street, London"),
    ("MAN", "Manchester service hub", "2 Sample Road, Manchester"),
    ("REM", "Remote field service", "Field teams across the region"),
]

DEMO_PROCESSES = [
    ("Billing", "Invoices, payments, refunds and billing disputes.", "LON"),
    ("Installation", "Scheduling and carrying out new installations.", "REM"),
    ("Network service", "Keeping the service available and fast.", "MAN"),
    ("Customer care", "Answering calls, chats and e-mails from customers.", "LON"),
    ("Field repair", "Visits to repair faults at the customer's premises.", "REM"),
]

DEMO_CATEGORIES = [
    ("Billing error", "Wrong amount, duplicate charge, missing credit."),
    ("Service outage", "No service or intermittent service."),
    ("Slow speed", "Service works but below the promised level."),
    ("Missed appointment", "A technician did not come in the agreed window."),
    ("Installation fault", "Equipment or connection set up wrongly."),
    ("Rude or unhelpful staff", "The way the customer was treated."),
    ("Data caps", "Usage limits and their charges."),
    ("Contract and pricing", "Price rises, fees, contract terms."),
    ("Equipment failure", "Router, modem or box failed."),
    ("Long wait time", "Queues on the phone or in chat."),
]

CUSTOMER_NAMES = [
    "Northwind Traders",
    "Harbour Dental Practice",
    "Green Valley School",
    "Atlas Logistics",
    "Maple Street Bakery",
    "Riverside Council",
    "Blue Fin Restaurants",
    "Summit Physiotherapy",
    "J. Okafor",
    "M. Lindqvist",
    "P. Haddad",
    "S. Moreau",
    "T. Nakamura",
    "R. Fernández",
    "K. Novak",
    "L. Brennan",
    "A. Chowdhury",
    "E. Rossi",
    "D. Mensah",
    "H. Kowalski",
]


class DemoAlreadySeeded(Exception):
    """The database has users already; demo data would mix with real data."""


def seed_demo_data(rng: random.Random | None = None) -> list[tuple[str, str, str]]:
    """Create the demo records; returns (e-mail, role, password) for each demo user."""
    rng = rng or random.Random(20261124)
    if (db.session.scalar(select(func.count(User.id))) or 0) > 0:
        raise DemoAlreadySeeded("The database has users already; refusing to add demo data.")
    credentials = []
    users = {}
    for email, name, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        users[role] = create_user(email, name, role, password)
        credentials.append((email, role.value, password))

    sites = {
        code: Site(code=code, name=name, address=address) for code, name, address in DEMO_SITES
    }
    db.session.add_all(sites.values())
    for name, description, site_code in DEMO_PROCESSES:
        db.session.add(
            Process(
                name=name,
                description=description,
                site=sites[site_code],
                owner=users[Role.QUALITY_LEAD],
            )
        )
    for name, description in DEMO_CATEGORIES:
        db.session.add(Category(name=name, description=description))
    segments = list(CustomerSegment)
    for index, name in enumerate(CUSTOMER_NAMES):
        segment = CustomerSegment.CONSUMER if "." in name else rng.choice(segments[1:])
        value = (
            rng.randint(300, 2_000)
            if segment == CustomerSegment.CONSUMER
            else rng.randint(5_000, 250_000)
        )
        db.session.add(
            Customer(
                name=name,
                segment=segment,
                annual_value=Decimal(value),
                customer_since=date(2015 + index % 10, 1 + index % 12, 1 + index % 27),
                active=index % 9 != 8,
            )
        )
    db.session.flush()
    return credentials
