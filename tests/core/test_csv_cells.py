"""CSV cells: formulas neutralised, numbers left as numbers (app.core.listing.csv_lines, the one
helper every CSV download goes through)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from app.core.listing import csv_lines


def cells(values: list[object]) -> list[str]:
    text = "".join(csv_lines(["value"] * len(values), [values], list)).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))[1]


def test_numbers_are_written_as_numbers_and_formulas_are_neutralised() -> None:
    assert cells([-0.125, "-0.1250", "+3", "-12", "1e-05", "-.5", Decimal("-4.20"), 7]) == [
        "-0.125",
        "-0.1250",
        "+3",
        "-12",
        "1e-05",
        "-.5",
        "-4.20",
        "7",
    ]
    assert cells(["=SUM(A1:A3)", "+44 20 7946 0000", "-5 days late", "@cmd", "-", "\tx"]) == [
        "'=SUM(A1:A3)",
        "'+44 20 7946 0000",
        "'-5 days late",
        "'@cmd",
        "'-",
        "'\tx",
    ]
    assert cells([None, "–", "plain"]) == ["", "–", "plain"]


def test_the_kpi_csv_writes_a_negative_change_without_an_apostrophe(
    client, login, committed
) -> None:
    """One complaint in the last 30 days, two in the 30 before: the change is −50 %."""
    from datetime import timedelta

    from app.complaints.models import Complaint
    from app.core.db import utcnow
    from app.extensions import db

    def add() -> None:
        for number, days_ago in enumerate((3, 33, 40)):
            db.session.add(
                Complaint(
                    reference=f"CMP-T-CSV{number}",
                    title="Charged twice",
                    received_at=utcnow() - timedelta(days=days_ago),
                    channel="email",
                    severity="medium",
                )
            )

    committed(add)
    login("auditor")
    lines = client.get("/dashboard/kpis.csv?period=30").get_data(as_text=True).splitlines()
    assert "complaints,Complaints,count,1,2,-0.5000" in lines
