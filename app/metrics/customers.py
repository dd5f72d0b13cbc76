"""Churn and retention of the customer base, computed from the customer records (docs/metrics.md,
"Customer churn and retention").

A customer counts only where the data exists: `customer_since` is known. For a period
[start, end):

- *at start*: customers who became customers before the period's first day and had not left
  before it (`left_on` empty or on or after the first day);
- *left*: of those, the ones whose `left_on` falls within the period;
- churn rate = left / at start; retention rate = (at start − left) / at start; both unknown
  (None) when nobody was a customer at the start.

Customers have no site or process, so the scope's filters do not apply to these figures. Customers
who joined during the period count neither way (they were not there to be kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from app.organisation.models import Customer

if TYPE_CHECKING:
    from app.metrics.kpis import Scope


@dataclass(frozen=True)
class CustomerBaseFigures:
    at_start: int
    left: int

    @property
    def churn_rate(self) -> float | None:
        return None if not self.at_start else self.left / self.at_start

    @property
    def retention_rate(self) -> float | None:
        return None if not self.at_start else (self.at_start - self.left) / self.at_start


def customer_base_figures(scope: Scope) -> CustomerBaseFigures:
    """Customers at the start of `scope` and how many of them left during it (one query)."""
    first, end = scope.start.date(), scope.end.date()
    at_start = and_(
        Customer.customer_since.is_not(None),
        Customer.customer_since < first,
        or_(Customer.left_on.is_(None), Customer.left_on >= first),
    )
    left = and_(Customer.left_on.is_not(None), Customer.left_on < end)
    row = db.session.execute(
        select(
            func.count(Customer.id),
            func.coalesce(func.sum(case((left, 1), else_=0)), 0),
        ).where(at_start)
    ).one()
    return CustomerBaseFigures(at_start=int(row[0]), left=int(row[1]))
