"""The shared input checks: text and money, with the messages people see beside the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.errors import ServiceError
from app.core.validation import checked_money, checked_text


def test_text_is_stripped_and_keeps_lf_line_breaks() -> None:
    assert checked_text("  a\r\nb\rc  ", "Notes", "notes", 100) == "a\nb\nc"


@pytest.mark.parametrize(
    ("value", "required", "message"),
    [
        ("   ", True, "Notes is required."),
        ("x" * 1001, False, "Notes may have at most 1,000 characters."),
    ],
)
def test_text_refusals_name_the_field(value: str, required: bool, message: str) -> None:
    with pytest.raises(ServiceError) as refused:
        checked_text(value, "Notes", "notes", 1000, required=required)
    assert refused.value.message == message and refused.value.field == "notes"


def test_optional_text_may_be_empty() -> None:
    assert checked_text(None, "Notes", "notes", 10, required=False) == ""


def test_money_is_rounded_to_cents_and_empty_is_none() -> None:
    assert checked_money("12.5", "The cost", "cost", below=Decimal(100)) == Decimal("12.50")
    assert checked_money(" ", "The cost", "cost", below=Decimal(100)) is None
    assert checked_money(0, "The cost", "cost", below=Decimal(100)) == Decimal("0.00")


@pytest.mark.parametrize(
    ("value", "positive", "message"),
    [
        ("ten", False, "The cost must be a number."),
        ("NaN", False, "The cost must be a number."),
        ("-1", False, "The cost cannot be negative."),
        ("0", True, "The cost must be more than 0."),
        ("1.005", False, "The cost may have at most two decimal places."),
        ("100", False, "The cost must be below 100."),
    ],
)
def test_money_refusals(value: str, positive: bool, message: str) -> None:
    with pytest.raises(ServiceError) as refused:
        checked_money(value, "The cost", "cost", below=Decimal(100), positive=positive)
    assert refused.value.message == message and refused.value.field == "cost"
