"""The service-recovery paradox, the financial case for recovery, and TQM principle coverage.

Definitions (formulas, what counts, edge cases) are in docs/metrics.md; these functions follow them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from app.capa.models import Capa, CheckResult, EffectivenessCheck, capa_principle
from app.complaints.models import Complaint
from app.core import charts
from app.core.db import utcnow
from app.extensions import db
from app.metrics.kpis import (
    ComplaintFigures,
    Scope,
    complaint_figures,
    complaint_filters,
    cost_of_poor_quality,
    count_when,
    not_recovered,
    recovered,
)
from app.metrics.models import Initiative, Objective, initiative_principle, objective_principle
from app.organisation.models import Customer, TQMPrinciple

# A principle with no CAPA or initiative started in this many days has "no recent work".
# The paradox is judged only when both compared groups have this many known outcomes.
PARADOX_MIN_KNOWN = 20
RECENT_WORK_DAYS = 90


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    size: int
    satisfaction: float | None  # mean CSAT 1..5; None where not measured
    retained: int
    lost: int

    @property
    def known(self) -> int:
        return self.retained + self.lost

    @property
    def retention(self) -> float | None:
        return self.retained / self.known if self.known else None


@dataclass(frozen=True)
class Paradox:
    scope: Scope
    groups: list[Group]

    def group(self, key: str) -> Group:
        return next(group for group in self.groups if group.key == key)

    @property
    def paradox_holds(self) -> bool | None:
        """Whether recovered complainants stay at least as loyal as customers with no failure;
        None when either group has fewer than PARADOX_MIN_KNOWN known outcomes."""
        recovered_group, none = self.group("recovered"), self.group("no_failure")
        if min(recovered_group.known, none.known) < PARADOX_MIN_KNOWN:
            return None
        return recovered_group.retention >= none.retention  # type: ignore[operator]


def recovery_paradox(scope: Scope) -> Paradox:
    """Satisfaction and retention of three groups in the scope: customers with no complaint
    received in the period (retention = still active; satisfaction not measured), complaints that
    were recovered (resolved, CSAT ≥ 4) and complaints not recovered."""
    filters = complaint_filters(scope)
    stayed = Complaint.retention_status == "stayed"
    left = Complaint.retention_status == "left"
    row = db.session.execute(
        select(
            count_when(recovered()),
            func.avg(case((recovered(), Complaint.csat_score))),
            count_when(and_(recovered(), stayed)),
            count_when(and_(recovered(), left)),
            count_when(not_recovered()),
            func.avg(case((not_recovered(), Complaint.csat_score))),
            count_when(and_(not_recovered(), stayed)),
            count_when(and_(not_recovered(), left)),
        ).where(*filters)
    ).one()
    complained = (
        select(Complaint.customer_id).where(*filters, Complaint.customer_id.is_not(None))
    ).scalar_subquery()
    untouched = db.session.execute(
        select(func.count(), count_when(Customer.active)).where(~Customer.id.in_(complained))
    ).one()
    return Paradox(
        scope,
        [
            Group(
                "no_failure",
                "No failure",
                untouched[0],
                None,
                untouched[1],
                untouched[0] - untouched[1],
            ),
            Group("recovered", "Complaint recovered", row[0], _f(row[1]), row[2], row[3]),
            Group("not_recovered", "Complaint not recovered", row[4], _f(row[5]), row[6], row[7]),
        ],
    )


def _f(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def mean_customer_value() -> Decimal:
    """The mean annual value of active customers (0 when there are none)."""
    value = db.session.scalar(select(func.avg(Customer.annual_value)).where(Customer.active))
    return Decimal(value or 0).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Assumptions:
    annual_value: Decimal
    margin_percent: Decimal
    lifetime_years: Decimal
    acquisition_cost: Decimal


@dataclass(frozen=True)
class FinancialCase:
    assumptions: Assumptions
    paradox: Paradox
    figures: ComplaintFigures
    recovery_costs: Decimal
    lifetime_value: Decimal  # of one customer: annual value × margin × lifetime
    retention_gain: float | None  # recovered retention − not-recovered retention
    customers_kept: Decimal  # recovered complaints × retention gain
    value_kept: Decimal  # customers kept × lifetime value
    replacement_avoided: Decimal  # customers kept × acquisition cost
    customers_lost: Decimal  # not-recovered complaints × (1 − their retention)
    cost_of_lost: Decimal  # customers lost × (lifetime value + acquisition cost)

    @property
    def judged(self) -> bool:
        """Whether recovered and not-recovered complaints each have PARADOX_MIN_KNOWN known
        outcomes: below that the retention gain, and with it any benefit, is not claimed."""
        return (
            min(self.paradox.group("recovered").known, self.paradox.group("not_recovered").known)
            >= PARADOX_MIN_KNOWN
        )

    @property
    def benefit(self) -> Decimal:
        return self.value_kept + self.replacement_avoided

    @property
    def net_benefit(self) -> Decimal:
        return self.benefit - self.recovery_costs

    @property
    def return_on_recovery(self) -> float | None:
        return None if not self.recovery_costs else float(self.net_benefit / self.recovery_costs)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def financial_case(scope: Scope, assumptions: Assumptions) -> FinancialCase:
    """The financial benefit of recovery over the complaints received in `scope`."""
    paradox = recovery_paradox(scope)
    figures = complaint_figures(scope)
    costs = cost_of_poor_quality(scope)
    recovered_group = paradox.group("recovered")
    not_recovered_group = paradox.group("not_recovered")
    lifetime_value = _money(
        assumptions.annual_value * assumptions.margin_percent / 100 * assumptions.lifetime_years
    )
    gain = None
    if recovered_group.retention is not None and not_recovered_group.retention is not None:
        gain = recovered_group.retention - not_recovered_group.retention
    kept = Decimal(str(round(recovered_group.size * gain, 2))) if gain is not None else Decimal(0)
    kept_share = not_recovered_group.retention
    lost_share = 1 - kept_share if kept_share is not None else 0
    lost = Decimal(str(round(not_recovered_group.size * lost_share, 2)))
    return FinancialCase(
        assumptions=assumptions,
        paradox=paradox,
        figures=figures,
        recovery_costs=costs.recovery,
        lifetime_value=lifetime_value,
        retention_gain=gain,
        customers_kept=kept,
        value_kept=_money(kept * lifetime_value),
        replacement_avoided=_money(kept * assumptions.acquisition_cost),
        customers_lost=lost,
        cost_of_lost=_money(lost * (lifetime_value + assumptions.acquisition_cost)),
    )


# --- principle coverage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrincipleCoverage:
    principle: TQMPrinciple
    capas: int
    initiatives: int
    objectives: int
    checks_decided: int
    checks_passed: int
    last_work: datetime | None
    recent: bool

    @property
    def effectiveness(self) -> float | None:
        return self.checks_passed / self.checks_decided if self.checks_decided else None


def principle_coverage(now: datetime | None = None) -> list[PrincipleCoverage]:
    """For each of the eight TQM principles: CAPAs, initiatives and objectives mapped to it, the
    effectiveness of its CAPAs (passed / decided checks), when work for it last started, and
    whether that was within RECENT_WORK_DAYS. Five grouped queries in all."""
    now = now or utcnow()
    principles = list(db.session.scalars(select(TQMPrinciple).order_by(TQMPrinciple.id)))
    capa_rows = {
        pid: (count, last)
        for pid, count, last in db.session.execute(
            select(capa_principle.c.principle_id, func.count(), func.max(Capa.created_at))
            .join(Capa, Capa.id == capa_principle.c.capa_id)
            .group_by(capa_principle.c.principle_id)
        )
    }
    initiative_rows = {
        pid: (count, last)
        for pid, count, last in db.session.execute(
            select(
                initiative_principle.c.principle_id, func.count(), func.max(Initiative.created_at)
            )
            .join(Initiative, Initiative.id == initiative_principle.c.initiative_id)
            .group_by(initiative_principle.c.principle_id)
        )
    }
    objective_counts = dict(
        db.session.execute(
            select(objective_principle.c.principle_id, func.count())
            .join(Objective, Objective.id == objective_principle.c.objective_id)
            .group_by(objective_principle.c.principle_id)
        ).all()
    )
    check_rows = {
        pid: (decided, passed)
        for pid, decided, passed in db.session.execute(
            select(
                capa_principle.c.principle_id,
                func.count(),
                count_when(EffectivenessCheck.result == CheckResult.PASSED),
            )
            .join(EffectivenessCheck, EffectivenessCheck.capa_id == capa_principle.c.capa_id)
            .where(EffectivenessCheck.result.in_([CheckResult.PASSED, CheckResult.FAILED]))
            .group_by(capa_principle.c.principle_id)
        )
    }
    recent_since = now - timedelta(days=RECENT_WORK_DAYS)
    coverage = []
    for principle in principles:
        capas, capa_last = capa_rows.get(principle.id, (0, None))
        initiatives, initiative_last = initiative_rows.get(principle.id, (0, None))
        lasts = [moment for moment in (capa_last, initiative_last) if moment is not None]
        last = max(lasts) if lasts else None
        decided, passed = check_rows.get(principle.id, (0, 0))
        coverage.append(
            PrincipleCoverage(
                principle=principle,
                capas=capas,
                initiatives=initiatives,
                objectives=int(objective_counts.get(principle.id, 0)),
                checks_decided=decided,
                checks_passed=passed,
                last_work=last,
                recent=last is not None and last >= recent_since,
            )
        )
    return coverage


def paradox_chart_svg(paradox: Paradox) -> str:
    """Retention of the three groups side by side (the table beside it has the numbers)."""
    return charts.grouped_bar_chart_svg(
        [group.label for group in paradox.groups],
        [("Retention", [group.retention for group in paradox.groups])],
        "Retention by group",
        percent=True,
    )
