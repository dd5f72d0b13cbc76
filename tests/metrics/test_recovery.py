"""The service-recovery paradox, the financial case and principle coverage, worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.extensions import db
from app.metrics import objectives, recovery
from app.organisation.models import TQMPrinciple
from tests.metrics import dataset
from tests.metrics.dataset import PERIOD


@pytest.fixture()
def loop(session):
    return dataset.build()


def test_the_paradox_compares_three_groups(loop) -> None:
    paradox = recovery.recovery_paradox(PERIOD)
    none, recovered, not_recovered = paradox.groups
    # cust3 (active) and cust4 (inactive) had no complaint in the period.
    assert (none.size, none.retained, none.lost, none.satisfaction) == (2, 1, 1, None)
    assert none.retention == pytest.approx(0.5)
    # Recovered: resolved and CSAT ≥ 4: c1 (5, stayed), c3 (4, stayed).
    assert (recovered.size, recovered.retained, recovered.lost) == (2, 2, 0)
    assert recovered.satisfaction == pytest.approx(4.5)
    # Not recovered: c2 (CSAT 2, left), c4 (unresolved, left), c5 (unresolved, unknown).
    assert (not_recovered.size, not_recovered.retained, not_recovered.lost) == (3, 0, 2)
    assert not_recovered.satisfaction == pytest.approx(2.0)
    # 100 % ≥ 50 %, but two known outcomes per group are too few to judge.
    assert paradox.paradox_holds is None


def test_the_financial_case(loop) -> None:
    case = recovery.financial_case(
        PERIOD,
        recovery.Assumptions(
            annual_value=Decimal(1000),
            margin_percent=Decimal(20),
            lifetime_years=Decimal(5),
            acquisition_cost=Decimal(300),
        ),
    )
    assert case.lifetime_value == Decimal("1000.00")  # 1000 × 20 % × 5
    assert case.retention_gain == pytest.approx(1.0)  # 100 % − 0 %
    assert case.customers_kept == Decimal("2")  # 2 recovered × 1.0
    assert case.value_kept == Decimal("2000.00")
    assert case.replacement_avoided == Decimal("600.00")  # 2 × 300
    assert case.recovery_costs == Decimal("50.50")
    assert case.net_benefit == Decimal("2549.50")  # 2000 + 600 − 50.50
    assert case.customers_lost == Decimal("3")  # 3 not recovered × (1 − 0 %)
    assert case.cost_of_lost == Decimal("3900.00")  # 3 × (1000 + 300)


def test_principle_coverage_counts_work_and_flags_principles_without_recent_work(
    loop, make_user
) -> None:
    x, y, z = loop.capas["X"], loop.capas["Y"], loop.capas["Z"]
    first, third = db.session.get(TQMPrinciple, 1), db.session.get(TQMPrinciple, 3)
    x.principles = [first, third]
    y.principles = [first]
    z.principles = [third]
    owner = make_user("quality_lead")
    objective = objectives.create_objective(
        title="Fast fixes", owner_id=owner.id, principle_ids=[1]
    )
    objectives.create_initiative(
        objective, title="Call back in a day", owner_id=owner.id, principle_ids=[6]
    )
    db.session.flush()
    rows = {
        row.principle.id: row
        for row in recovery.principle_coverage(now=datetime(2026, 4, 1, tzinfo=UTC))
    }
    assert len(rows) == 8
    assert (rows[1].capas, rows[1].initiatives, rows[1].objectives) == (2, 0, 1)
    assert (rows[1].checks_passed, rows[1].checks_decided) == (1, 2)  # X passed, Y failed
    assert rows[1].effectiveness == pytest.approx(0.5)
    assert rows[3].effectiveness == pytest.approx(1.0)  # X and Z passed
    assert rows[1].recent  # CAPAs planned in March, 1 April is within 90 days
    assert rows[6].initiatives == 1
    assert rows[2].capas == 0 and not rows[2].recent and rows[2].last_work is None
    later = {
        row.principle.id: row
        for row in recovery.principle_coverage(now=datetime(2026, 9, 1, tzinfo=UTC))
    }
    assert not later[1].recent  # no CAPA for principle 1 since March
