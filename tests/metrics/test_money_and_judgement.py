"""Money figures carry their currency (setting LOOP_CURRENCY), and the financial case claims no
net benefit while too few retention outcomes are known to judge one."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.core.db import utcnow
from app.extensions import db
from app.metrics import recovery
from app.metrics.kpis import Scope
from tests.metrics import dataset


@pytest.fixture()
def loop(app, db_connection):
    # The hand-worked dataset shifted to end today: two known outcomes per group, too few.
    shift = utcnow().date() - date(2026, 3, 10)
    with app.app_context():
        dataset.build(shift=timedelta(days=shift.days))
        db.session.commit()


def case_with(recovered_known: int, not_recovered_known: int) -> recovery.FinancialCase:
    scope = Scope.between(date(2026, 3, 1), date(2026, 3, 10))
    paradox = recovery.Paradox(
        scope,
        [
            recovery.Group("no_failure", "No failure", 100, None, 90, 10),
            recovery.Group("recovered", "Recovered", recovered_known, 4.5, recovered_known, 0),
            recovery.Group("not_recovered", "Not recovered", 50, 2.0, 0, not_recovered_known),
        ],
    )
    zero = Decimal(0)
    return recovery.FinancialCase(
        assumptions=recovery.Assumptions(zero, zero, zero, zero),
        paradox=paradox,
        figures=None,  # type: ignore[arg-type]
        recovery_costs=zero,
        lifetime_value=zero,
        retention_gain=1.0,
        customers_kept=zero,
        value_kept=zero,
        replacement_avoided=zero,
        customers_lost=zero,
        cost_of_lost=zero,
    )


def test_a_case_is_judged_only_with_enough_known_outcomes_in_both_groups() -> None:
    enough = recovery.PARADOX_MIN_KNOWN
    assert case_with(enough, enough).judged
    assert not case_with(enough - 1, enough).judged
    assert not case_with(enough, enough - 1).judged


def test_the_page_claims_no_net_benefit_on_too_few_outcomes(client, login, loop) -> None:
    login("quality_lead")
    html = client.get(
        "/financial-case?annual_value=1000&margin_percent=20&lifetime_years=5"
        "&acquisition_cost=300&period=90"
    ).get_data(as_text=True)
    assert "Too few known outcomes to judge the paradox" in html
    assert 'data-testid="not-judged"' in html
    net = re.search(r'data-testid="net-benefit"><strong>([^<]*)<', html)
    assert net and net.group(1) == "not judged: too few known outcomes"
    assert 'data-testid="value-kept"' not in html
    assert 'data-testid="lifetime-value">1,000.00 EUR<' in html


def test_money_shows_its_currency_and_follows_the_setting(
    app, client, login, loop, monkeypatch
) -> None:
    login("quality_lead")
    html = client.get("/?period=30").get_data(as_text=True)
    cost = re.search(r'data-testid="kpi-cost_of_poor_quality">([^<]*)<', html)
    # Recovery amounts plus CAPA costs of the last 30 days, in the reporting currency.
    assert cost and re.fullmatch(r"[\d,]+\.\d\d EUR", cost.group(1)), cost.group(1)
    monkeypatch.setitem(app.config, "LOOP_CURRENCY", "GBP")
    html = client.get("/financial-case").get_data(as_text=True)
    assert "Money in GBP" in html
    assert re.search(r'data-testid="recovery-spend">[\d,.]+ GBP<', html)
