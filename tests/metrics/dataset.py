"""A small quality-loop dataset whose KPIs are worked out by hand in the tests.

The period under test is 1–10 March 2026 (ten whole UTC days); the previous period is
19–28 February. Times are UTC.

  id  received     proc chan   cat  response  resolved   FCR esc CSAT retention cust
  c1  03-01 08:00  P1   phone  A    2 h       1 day      no  0   5    stayed    cust1
  c2  03-02 08:00  P1   email  A    4 h       3 days     no  1   2    left      cust2
  c3  03-03 08:00  P2   phone  B    6 h       0.25 day   yes 0   4    stayed    –
  c4  03-04 08:00  P2   phone  A    12 h      –          no  2   –    left      –
  c5  03-05 08:00  P1   chat   A    –         –          no  0   –    unknown   –
  c6  02-25 08:00  P1   phone  A    1 h       5 days     no  0   3    stayed    –  (before)
  c7  03-11 08:00  P1   phone  A    –         –          no  0   –    unknown   –  (after)

"Resolved" is the time from receipt to resolution.
P1 is at site S1, P2 at site S2. Customers cust3 (active) and cust4 (inactive) never complained.
Recovery actions with money: c1 refund 20.00 on 03-01, c2 compensation 30.50 on 03-05, c6 refund
100.00 on 02-26; c1 also got an apology (no amount).

Nonconformities: NC1 P1/A detected 03-02, RPN 5·5·5 = 125 (medium); NC2 P2/B 03-03, 10·10·3 =
300 (high); NC3 P1/B 03-04, 2·2·2 = 8 (low); NC4 P2/A 02-20, 10·10·10 (high, previous period).

CAPAs: X (NC1, P1) planned 03-02, cost 1000, due 03-20, implemented 03-06, closed 03-08, check
passed 03-07; Y (NC2, P2) planned 03-03, cost 500, due 03-03, implemented 03-05, closed 03-09,
check failed 03-08; Z (NC3, P1) planned 03-02, no cost, due 03-10, status effective, check
passed 03-09. X's failure (P1/A) recurs with c7 on 03-11; Z's (P1/B) does not.

Root causes recorded in the period: method ×3, equipment ×1, people ×1.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.capa.models import Capa, CheckMethod, CheckResult, EffectivenessCheck
from app.complaints.models import Complaint, RecoveryAction
from app.extensions import db
from app.metrics.kpis import Scope
from app.nonconformities.models import Nonconformity
from app.organisation.models import Category, Customer, CustomerSegment, Process, Site
from app.rca.models import RootCause, RootCauseAnalysis

PERIOD = Scope.between(date(2026, 3, 1), date(2026, 3, 10))
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 8) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class Loop:
    s1: Site
    s2: Site
    p1: Process
    p2: Process
    a: Category
    b: Category
    complaints: dict[str, Complaint]
    capas: dict[str, Capa]


def complaint(
    name,
    received,
    process,
    channel,
    category,
    *,
    response=None,
    resolve=None,
    fcr=False,
    esc=0,
    csat=None,
    retention="unknown",
    customer=None,
) -> Complaint:
    first = received + timedelta(hours=response) if response is not None else None
    resolved = received + timedelta(days=resolve) if resolve is not None else None
    return Complaint(
        reference=f"CMP-T-{next(_numbers):06d}",
        title=f"Complaint {name}",
        received_at=received,
        channel=channel,
        severity="medium",
        status="resolved" if resolved else ("acknowledged" if first else "received"),
        process=process,
        category=category,
        customer=customer,
        first_response_at=first,
        resolved_at=resolved,
        first_contact_resolution=fcr,
        escalation_level=esc,
        csat_score=csat,
        retention_status=retention,
    )


def build(shift: timedelta = timedelta(0)) -> Loop:
    """Insert the dataset (flushes; the test's transaction rolls it back). `shift` moves every
    date, so pages that show "the last N days" can be tested against the same numbers."""

    def t(month: int, day: int, hour: int = 8) -> datetime:
        return at(month, day, hour) + shift

    session = db.session
    s1, s2 = Site(code="S1", name="Site one"), Site(code="S2", name="Site two")
    p1, p2 = Process(name="Billing", site=s1), Process(name="Repairs", site=s2)
    a, b = Category(name="Cat A"), Category(name="Cat B")
    customers = [
        Customer(
            name=f"cust{i}",
            segment=CustomerSegment.CONSUMER,
            annual_value=Decimal(1000),
            active=i != 4,
        )
        for i in range(1, 5)
    ]
    session.add_all([s1, s2, p1, p2, a, b, *customers])
    complaints = {
        "c1": complaint(
            "c1",
            t(3, 1),
            p1,
            "phone",
            a,
            response=2,
            resolve=1,
            csat=5,
            retention="stayed",
            customer=customers[0],
        ),
        "c2": complaint(
            "c2",
            t(3, 2),
            p1,
            "email",
            a,
            response=4,
            resolve=3,
            esc=1,
            csat=2,
            retention="left",
            customer=customers[1],
        ),
        "c3": complaint(
            "c3",
            t(3, 3),
            p2,
            "phone",
            b,
            response=6,
            resolve=0.25,
            fcr=True,
            csat=4,
            retention="stayed",
        ),
        "c4": complaint("c4", t(3, 4), p2, "phone", a, response=12, esc=2, retention="left"),
        "c5": complaint("c5", t(3, 5), p1, "chat", a),
        "c6": complaint(
            "c6", t(2, 25), p1, "phone", a, response=1, resolve=5, csat=3, retention="stayed"
        ),
        "c7": complaint("c7", t(3, 11), p1, "phone", a),
    }
    session.add_all(complaints.values())
    session.add_all(
        [
            RecoveryAction(
                complaint=complaints["c1"],
                kind="refund",
                amount=Decimal("20.00"),
                currency="EUR",
                done_at=t(3, 1, 12),
            ),
            RecoveryAction(complaint=complaints["c1"], kind="apology", done_at=t(3, 1, 12)),
            RecoveryAction(
                complaint=complaints["c2"],
                kind="compensation",
                amount=Decimal("30.50"),
                currency="EUR",
                done_at=t(3, 5),
            ),
            RecoveryAction(
                complaint=complaints["c6"],
                kind="refund",
                amount=Decimal("100.00"),
                currency="EUR",
                done_at=t(2, 26),
            ),
        ]
    )

    def nc(name, process, category, detected, s, o, d) -> Nonconformity:
        return Nonconformity(
            reference=f"NC-T-{next(_numbers):06d}",
            title=name,
            source="customer_complaint",
            process=process,
            category=category,
            detected_at=detected,
            severity=s,
            occurrence=o,
            detection=d,
        )

    nc1 = nc("NC1", p1, a, t(3, 2), 5, 5, 5)
    nc2 = nc("NC2", p2, b, t(3, 3), 10, 10, 3)
    nc3 = nc("NC3", p1, b, t(3, 4), 2, 2, 2)
    nc4 = nc("NC4", p2, a, t(2, 20), 10, 10, 10)
    session.add_all([nc1, nc2, nc3, nc4])

    def capa(name, ncs, planned, *, cost, due, implemented, closed, status) -> Capa:
        return Capa(
            reference=f"CAPA-T-{next(_numbers):06d}",
            title=name,
            kind="corrective",
            recovery_dimension="process",
            status=status,
            cost=cost,
            due_date=due,
            implemented_at=implemented,
            closed_at=closed,
            nonconformities=ncs,
            created_at=planned,
        )

    x = capa(
        "X",
        [nc1],
        t(3, 2),
        cost=Decimal(1000),
        due=t(3, 20).date(),
        implemented=t(3, 6),
        closed=t(3, 8),
        status="closed",
    )
    y = capa(
        "Y",
        [nc2],
        t(3, 3),
        cost=Decimal(500),
        due=t(3, 3).date(),
        implemented=t(3, 5),
        closed=t(3, 9),
        status="closed",
    )
    z = capa(
        "Z",
        [nc3],
        t(3, 2),
        cost=None,
        due=t(3, 10).date(),
        implemented=t(3, 6),
        closed=None,
        status="effective",
    )
    session.add_all([x, y, z])

    def check(capa_, result, checked) -> EffectivenessCheck:
        return EffectivenessCheck(
            capa=capa_,
            criterion="No recurrence",
            method=CheckMethod.MANUAL_REVIEW,
            due_date=checked.date(),
            result=result,
            checked_at=checked,
        )

    session.add_all(
        [
            check(x, CheckResult.PASSED, t(3, 7)),
            check(y, CheckResult.FAILED, t(3, 8)),
            check(z, CheckResult.PASSED, t(3, 9)),
        ]
    )
    analysis = RootCauseAnalysis(nonconformity=nc1, method="five_whys")
    session.add(analysis)
    session.add_all(
        RootCause(
            analysis=analysis, statement=f"Cause {i}", cause_category=category, created_at=t(3, 3)
        )
        for i, category in enumerate(["method", "method", "method", "equipment", "people"])
    )
    session.flush()
    return Loop(s1, s2, p1, p2, a, b, complaints, {"X": x, "Y": y, "Z": z})
