"""Organisation data: sites, processes, customers and the TQM principles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.organisation.models import Customer, Process, Site, TQMPrinciple


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


def customers_query():
    return select(Customer).order_by(Customer.active.desc(), Customer.name)
