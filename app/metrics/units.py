"""The vocabulary every metric is described in: its unit, which direction is better, and which of
the four business categories of the service-recovery method it belongs to."""

from __future__ import annotations

from enum import StrEnum


class Better(StrEnum):
    LOWER = "lower"
    HIGHER = "higher"


class Unit(StrEnum):
    COUNT = "count"
    HOURS = "hours"
    DAYS = "days"
    RATE = "rate"  # 0..1, shown as a percentage
    SCORE = "score"  # CSAT 1..5
    MONEY = "money"

    @property
    def label(self) -> str:
        return {
            "count": "Count",
            "hours": "Hours",
            "days": "Days",
            "rate": "Rate (%)",
            "score": "Score",
            "money": "Money",
        }[self.value]


class MetricCategory(StrEnum):
    """The four categories the method measures a service-recovery strategy in."""

    MARKETING = "marketing"
    SALES = "sales"
    CUSTOMER_SERVICE = "customer_service"
    IT = "it"

    @property
    def label(self) -> str:
        return {
            "marketing": "Marketing",
            "sales": "Sales",
            "customer_service": "Customer service",
            "it": "IT",
        }[self.value]
