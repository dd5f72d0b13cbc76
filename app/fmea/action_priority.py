"""The AIAG-VDA action priority (AP) table for process FMEA, held as data.

Source: AIAG & VDA FMEA Handbook, 1st edition (2019), "Action Priority (AP) for DFMEA and PFMEA"
(the same table serves both). The handbook prints it as rows of severity band × occurrence band,
each with four detection bands; the rows below follow the handbook's order. They were transcribed
from the handbook's table as it is widely restated and cross-checked cell by cell against an
independent restatement in public code; check them against a licensed copy of the handbook when
one is at hand (tests/fmea/test_action_priority.py pins every band boundary).

Bands: severity 9–10, 7–8, 4–6, 2–3, 1; occurrence 8–10, 6–7, 4–5, 2–3, 1; detection 7–10, 5–6,
2–4, 1. Reading: H = high (the team must act or justify in writing why the current controls
suffice), M = medium (should act), L = low (could act).
"""

from __future__ import annotations

import enum

SCALE = range(1, 11)


class ActionPriority(enum.StrEnum):
    HIGH = "H"
    MEDIUM = "M"
    LOW = "L"

    @property
    def label(self) -> str:
        return {"H": "High", "M": "Medium", "L": "Low"}[self.value]


# (low, high) bounds of each band, highest band first, as the handbook's table heads them.
SEVERITY_BANDS: tuple[tuple[int, int], ...] = ((9, 10), (7, 8), (4, 6), (2, 3), (1, 1))
OCCURRENCE_BANDS: tuple[tuple[int, int], ...] = ((8, 10), (6, 7), (4, 5), (2, 3), (1, 1))
DETECTION_BANDS: tuple[tuple[int, int], ...] = ((7, 10), (5, 6), (2, 4), (1, 1))

# One row per (severity band, occurrence band): the AP for detection 7–10, 5–6, 2–4, 1.
AP_TABLE: tuple[tuple[tuple[int, int], tuple[int, int], str], ...] = (
    # Severity 9–10: product or plant safety, regulatory noncompliance.
    ((9, 10), (8, 10), "HHHH"),
    ((9, 10), (6, 7), "HHHH"),
    ((9, 10), (4, 5), "HHHM"),
    ((9, 10), (2, 3), "HMLL"),
    ((9, 10), (1, 1), "LLLL"),
    # Severity 7–8: loss or degradation of a primary function.
    ((7, 8), (8, 10), "HHHH"),
    ((7, 8), (6, 7), "HHHM"),
    ((7, 8), (4, 5), "HMMM"),
    ((7, 8), (2, 3), "MMLL"),
    ((7, 8), (1, 1), "LLLL"),
    # Severity 4–6: loss or degradation of a secondary function, moderate rework.
    ((4, 6), (8, 10), "HHMM"),
    ((4, 6), (6, 7), "MMML"),
    ((4, 6), (4, 5), "MLLL"),
    ((4, 6), (2, 3), "LLLL"),
    ((4, 6), (1, 1), "LLLL"),
    # Severity 2–3: appearance, minor annoyance.
    ((2, 3), (8, 10), "MMLL"),
    ((2, 3), (6, 7), "LLLL"),
    ((2, 3), (4, 5), "LLLL"),
    ((2, 3), (2, 3), "LLLL"),
    ((2, 3), (1, 1), "LLLL"),
    # Severity 1: no discernible effect.
    ((1, 1), (8, 10), "LLLL"),
    ((1, 1), (6, 7), "LLLL"),
    ((1, 1), (4, 5), "LLLL"),
    ((1, 1), (2, 3), "LLLL"),
    ((1, 1), (1, 1), "LLLL"),
)


def _band(value: int, bands: tuple[tuple[int, int], ...], name: str) -> tuple[int, int]:
    for band in bands:
        if band[0] <= value <= band[1]:
            return band
    raise ValueError(f"{name} must be a whole number from 1 to 10, not {value!r}.")


def _lookup() -> dict[tuple[int, int, int], ActionPriority]:
    table: dict[tuple[int, int, int], ActionPriority] = {}
    for severity_band, occurrence_band, letters in AP_TABLE:
        for detection_band, letter in zip(DETECTION_BANDS, letters, strict=True):
            for s in range(severity_band[0], severity_band[1] + 1):
                for o in range(occurrence_band[0], occurrence_band[1] + 1):
                    for d in range(detection_band[0], detection_band[1] + 1):
                        table[(s, o, d)] = ActionPriority(letter)
    return table


_AP = _lookup()
assert len(_AP) == 1000, "the AP table must cover every S × O × D combination once"


def action_priority(severity: int, occurrence: int, detection: int) -> ActionPriority:
    """The handbook's AP for these ratings (each a whole number 1–10; ValueError otherwise)."""
    _band(severity, SEVERITY_BANDS, "Severity")
    _band(occurrence, OCCURRENCE_BANDS, "Occurrence")
    _band(detection, DETECTION_BANDS, "Detection")
    return _AP[(severity, occurrence, detection)]


def risk_priority_number(severity: int, occurrence: int, detection: int) -> int:
    """RPN = S × O × D (1–1000), shown beside the AP as many customers still ask for it."""
    return severity * occurrence * detection
