"""Each KPI against the hand-worked dataset in tests/metrics/dataset.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.capa import services as capa_services
from app.capa.models import CapaStatus
from app.extensions import db
from app.metrics import kpis, rollup
from app.metrics.kpis import Scope, percentile_ranks
from tests.metrics import dataset
from tests.metrics.dataset import PERIOD


@pytest.fixture()
def loop(session):
    return dataset.build()


def test_the_previous_period_has_the_same_length_just_before() -> None:
    previous = PERIOD.previous()
    assert previous.start == datetime(2026, 2, 19, tzinfo=UTC)
    assert previous.end == datetime(2026, 3, 1, tzinfo=UTC)
    assert PERIOD.days == previous.days == 10


def test_complaint_kpis_over_the_whole_period(loop) -> None:
    figures = kpis.complaint_figures(PERIOD)
    assert figures.complaints == 5  # c1–c5; c6 is before, c7 after
    assert figures.responded == 4
    assert figures.response_mean_hours == pytest.approx((2 + 4 + 6 + 12) / 4)  # 6.0
    assert figures.response_median_hours == pytest.approx((4 + 6) / 2)  # even n: mean of middle
    assert figures.resolved == 3
    assert figures.resolution_mean_days == pytest.approx((1 + 3 + 0.25) / 3)
    assert figures.resolution_median_days == pytest.approx(1.0)
    assert figures.resolution_p90_days == pytest.approx(3.0)  # rank ⌈0.9·3⌉ = 3
    assert figures.first_contact_resolution_rate == pytest.approx(1 / 3)  # c3 of 3 resolved
    assert figures.escalation_rate == pytest.approx(2 / 5)  # c2, c4
    assert figures.csat_mean == pytest.approx((5 + 2 + 4) / 3)
    assert figures.retention_rate("all") == pytest.approx(2 / 4)  # c1, c3 stayed; c2, c4 left
    assert figures.retention_rate("recovered") == pytest.approx(1.0)  # c1, c3
    assert figures.retention_rate("not_recovered") == pytest.approx(0.0)  # c2, c4 (c5 unknown)


def test_complaint_kpis_filtered_by_process_site_and_channel(loop) -> None:
    billing = kpis.complaint_figures(
        Scope.between(date(2026, 3, 1), date(2026, 3, 10), process_id=loop.p1.id)
    )
    assert billing.complaints == 3  # c1, c2, c5
    assert billing.response_median_hours == pytest.approx(3.0)  # 2 h and 4 h
    assert billing.resolution_mean_days == pytest.approx(2.0)  # 1 and 3 days
    assert billing.resolution_p90_days == pytest.approx(3.0)  # rank ⌈1.8⌉ = 2
    site_two = kpis.complaint_figures(
        Scope.between(date(2026, 3, 1), date(2026, 3, 10), site_id=loop.s2.id)
    )
    assert site_two.complaints == 2  # c3, c4 (Repairs is at site two)
    assert site_two.escalation_rate == pytest.approx(1 / 2)
    phone = kpis.complaint_figures(
        Scope.between(date(2026, 3, 1), date(2026, 3, 10), channel="phone")
    )
    assert phone.complaints == 3  # c1, c3, c4
    assert phone.response_median_hours == pytest.approx(6.0)  # 2, 6, 12 h: the middle one


def test_the_previous_period_and_an_empty_one(loop) -> None:
    previous = kpis.complaint_figures(PERIOD.previous())
    assert previous.complaints == 1
    assert previous.resolution_mean_days == pytest.approx(5.0)
    assert previous.resolution_median_days == pytest.approx(5.0)
    empty = kpis.complaint_figures(Scope.between(date(2025, 1, 1), date(2025, 1, 31)))
    assert empty.complaints == 0
    assert empty.response_median_hours is None
    assert empty.resolution_p90_days is None
    assert empty.escalation_rate is None  # no complaints: no rate, not 0 %
    assert empty.retention_rate("recovered") is None


def test_cost_of_poor_quality(loop) -> None:
    costs = kpis.cost_of_poor_quality(PERIOD)
    assert costs.recovery == Decimal("50.50")  # 20.00 + 30.50; c6's refund is in February
    assert costs.capa == Decimal("1500.00")  # X 1000 + Y 500; Z has no cost
    assert costs.total == Decimal("1550.50")
    billing = kpis.cost_of_poor_quality(
        Scope.between(date(2026, 3, 1), date(2026, 3, 10), process_id=loop.p1.id)
    )
    assert (billing.recovery, billing.capa) == (Decimal("50.50"), Decimal("1000.00"))
    phone = kpis.cost_of_poor_quality(
        Scope.between(date(2026, 3, 1), date(2026, 3, 10), channel="phone")
    )
    # The channel filters recovery costs (c1's refund only), never CAPA costs.
    assert (phone.recovery, phone.capa) == (Decimal("20.00"), Decimal("1500.00"))


def test_nonconformities_by_risk_priority_band(loop) -> None:
    assert kpis.nonconformities_by_rpn_band(PERIOD) == {"low": 1, "medium": 1, "high": 1}
    billing = Scope.between(date(2026, 3, 1), date(2026, 3, 10), process_id=loop.p1.id)
    assert kpis.nonconformities_by_rpn_band(billing) == {"low": 1, "medium": 1, "high": 0}


def test_capa_on_time_effectiveness_and_recurrence(loop) -> None:
    figures = kpis.capa_figures(PERIOD)
    # X implemented 03-06 by its due date 03-20; Y implemented 03-05 after its due date 03-03.
    assert (figures.closed_with_due_date, figures.closed_on_time) == (2, 1)
    assert figures.on_time_closure_rate == pytest.approx(0.5)
    # Checks decided in the period: X passed, Y failed, Z passed.
    assert figures.effectiveness_rate == pytest.approx(2 / 3)
    # X (P1/A) and Z (P1/B) were verified; c7 (P1/A, 03-11) is a recurrence of X only.
    assert (figures.verified_effective, figures.recurred) == (2, 1)
    assert figures.recurrence_rate == pytest.approx(0.5)
    repairs = kpis.capa_figures(
        Scope.between(date(2026, 3, 1), date(2026, 3, 10), process_id=loop.p2.id)
    )
    assert (repairs.closed_with_due_date, repairs.closed_on_time) == (1, 0)
    assert repairs.effectiveness_rate == pytest.approx(0.0)
    assert repairs.recurrence_rate is None  # nothing verified effective


def test_capa_ageing_counts_open_capas_now(loop) -> None:
    ageing = kpis.capa_ageing(PERIOD, now=datetime(2026, 3, 15, tzinfo=UTC))
    # Only Z is open (effective, not yet closed), planned 13 days before. It is due 03-10, but
    # an effective CAPA awaits only its closure signature: not overdue, as on the CAPA list.
    assert ageing.buckets == [
        ("0–30 days", 1),
        ("31–60 days", 0),
        ("61–90 days", 0),
        ("over 90 days", 0),
    ]
    assert ageing.overdue == 0
    later = kpis.capa_ageing(PERIOD, now=datetime(2026, 5, 5, tzinfo=UTC))  # 64 days on
    assert later.buckets[2] == ("61–90 days", 1)


@pytest.mark.parametrize(
    ("status", "overdue"),
    [("in_progress", 1), ("verifying", 1), ("ineffective", 1), ("effective", 0)],
)
def test_capa_ageing_counts_overdue_by_the_capa_list_rule(loop, status, overdue) -> None:
    z = loop.capas["Z"]
    z.status = CapaStatus(status)
    db.session.flush()
    now = datetime(2026, 3, 15, tzinfo=UTC)
    ageing = kpis.capa_ageing(PERIOD, now=now)
    assert sum(count for _, count in ageing.buckets) == 1  # Z is open in every one of these
    assert ageing.overdue == overdue == int(capa_services.is_overdue(z, now.date()))


def test_weekly_counts_and_category_counts(loop) -> None:
    assert kpis.weekly_complaint_counts(PERIOD) == [(date(2026, 3, 1), 5), (date(2026, 3, 8), 0)]
    assert sorted(kpis.complaint_category_counts(PERIOD)) == sorted(
        [(loop.a.id, 4), (loop.b.id, 1)]
    )
    assert sorted(kpis.root_cause_category_counts(PERIOD)) == [
        ("equipment", 1),
        ("method", 3),
        ("people", 1),
    ]


@pytest.mark.parametrize(
    ("fraction", "n", "ranks"),
    [
        (0.5, 1, (1,)),
        (0.5, 4, (2, 3)),
        (0.5, 5, (3,)),
        (0.9, 3, (3,)),
        (0.9, 10, (9,)),
        (0.9, 11, (10,)),
        (0.5, 0, ()),
    ],
)
def test_percentile_ranks(fraction: float, n: int, ranks: tuple[int, ...]) -> None:
    assert percentile_ranks(fraction, n) == ranks


def test_figures_are_reused_only_until_a_record_changes(app, loop) -> None:
    from app.metrics import services
    from app.metrics.cache import FigureCache

    app.config["METRICS_CACHE_SECONDS"] = 300
    app.extensions["metrics_cache"] = FigureCache()
    try:
        first = services.figures(PERIOD)
        assert services.figures(PERIOD).complaints is first.complaints  # nothing changed: reused
        loop.complaints["c5"].escalation_level = 3
        db.session.flush()  # an audited change bumps the data version
        assert services.figures(PERIOD).complaints.escalated == 3  # c2, c4 and now c5
    finally:
        app.config["METRICS_CACHE_SECONDS"] = 0
        app.extensions.pop("metrics_cache", None)


def _exact(values: list[int], fraction: float) -> float | None:
    """The percentile by definition (docs/metrics.md): sort everything, take the ranks."""
    ordered = sorted(values)
    ranks = percentile_ranks(fraction, len(ordered))
    return sum(ordered[rank - 1] for rank in ranks) / len(ranks) if ranks else None


@pytest.mark.parametrize(
    "shape",
    ["lognormal", "ties", "one value", "heavy tail", "single", "two"],
)
def test_percentiles_through_the_histogram_equal_sorting_every_value(session, shape) -> None:
    """The medians and the 90th percentile found bucket by bucket equal the ones found by sorting
    all the durations, on random data of several shapes (many equal values, one value, a heavy
    tail, one or two complaints), for the whole period and for one channel."""
    import random

    from sqlalchemy import insert

    from app.complaints.models import Complaint

    rng = random.Random(shape)
    count = {"single": 1, "two": 2}.get(shape, 1_500)

    def duration() -> int:
        if shape == "ties":
            return rng.choice([60, 3600, 3600, 7200, 86400])
        if shape == "one value":
            return 900
        if shape == "heavy tail":
            return int(rng.paretovariate(0.8) * 60)
        return int(rng.lognormvariate(9, 1.5))

    start = datetime(2026, 6, 1, tzinfo=UTC)
    rows = []
    for number in range(count):
        response = duration() if rng.random() < 0.9 else None
        resolution = response + duration() if response is not None and rng.random() < 0.8 else None
        rows.append(
            {
                "reference": f"CMP-2026-9{number:05d}",
                "title": "Random",
                "description": "",
                "received_at": start + timedelta(seconds=rng.randrange(30 * 86400)),
                "channel": rng.choice(["email", "phone"]),
                "severity": "low",
                "status": "resolved" if resolution is not None else "received",
                "product_or_service": "",
                "escalation_level": 0,
                "first_contact_resolution": False,
                "csat_comment": "",
                "retention_status": "unknown",
                "first_response_seconds": response,
                "resolution_seconds": resolution,
                "created_at": start,
                "updated_at": start,
                "version": 1,
            }
        )
    if count == 1:
        rows[0]["first_response_seconds"], rows[0]["resolution_seconds"] = 120, 5000
    db.session.execute(insert(Complaint.__table__), rows)
    rollup.rebuild(db.session.connection())  # the insert bypassed the ORM
    for channel in (None, "phone"):
        scope = Scope.between(date(2026, 6, 1), date(2026, 6, 30), channel=channel)
        chosen = [row for row in rows if channel is None or row["channel"] == channel]
        resolutions = [
            r["resolution_seconds"] for r in chosen if r["resolution_seconds"] is not None
        ]
        responses = [
            r["first_response_seconds"] for r in chosen if r["first_response_seconds"] is not None
        ]
        figures = kpis.complaint_figures(scope)
        expected_response = _exact(responses, 0.5)
        assert figures.response_median_hours == (
            None if expected_response is None else pytest.approx(expected_response / 3600)
        )
        for fraction, found in (
            (0.5, figures.resolution_median_days),
            (0.9, figures.resolution_p90_days),
        ):
            expected = _exact(resolutions, fraction)
            assert found == (None if expected is None else pytest.approx(expected / 86400))


def test_the_weeks_not_over_or_cut_short_are_partial() -> None:
    first_partial_week = kpis.first_partial_week
    ten_days = Scope.between(date(2026, 3, 1), date(2026, 3, 10))  # a week and three days
    assert first_partial_week(ten_days, now=datetime(2026, 4, 1, tzinfo=UTC)) == 1
    two_weeks = Scope.between(date(2026, 3, 1), date(2026, 3, 14))
    assert first_partial_week(two_weeks, now=datetime(2026, 4, 1, tzinfo=UTC)) == 2
    # Nine days into the same two weeks, the second is still running.
    assert first_partial_week(two_weeks, now=datetime(2026, 3, 10, 12, tzinfo=UTC)) == 1
