"""The AP table against the published AIAG-VDA 2019 table, at every band boundary."""

from __future__ import annotations

import itertools

import pytest

from app.fmea.action_priority import (
    ActionPriority,
    action_priority,
    risk_priority_number,
)

# The handbook's table as it is printed: severity band, occurrence band, then the AP for
# detection 7-10, 5-6, 2-4 and 1 (transcribed separately from the module's data).
PUBLISHED = """
9-10 8-10 H H H H
9-10 6-7  H H H H
9-10 4-5  H H H M
9-10 2-3  H M L L
9-10 1    L L L L
7-8  8-10 H H H H
7-8  6-7  H H H M
7-8  4-5  H M M M
7-8  2-3  M M L L
7-8  1    L L L L
4-6  8-10 H H M M
4-6  6-7  M M M L
4-6  4-5  M L L L
4-6  2-3  L L L L
4-6  1    L L L L
2-3  8-10 M M L L
2-3  6-7  L L L L
2-3  4-5  L L L L
2-3  2-3  L L L L
2-3  1    L L L L
1    8-10 L L L L
1    6-7  L L L L
1    4-5  L L L L
1    2-3  L L L L
1    1    L L L L
"""
DETECTION_BANDS = ("7-10", "5-6", "2-4", "1")


def _bounds(band: str) -> tuple[int, int]:
    low, _, high = band.partition("-")
    return int(low), int(high or low)


def _boundary_cases() -> list[tuple[int, int, int, str]]:
    cases = []
    for line in PUBLISHED.strip().splitlines():
        severity, occurrence, *letters = line.split()
        for detection, letter in zip(DETECTION_BANDS, letters, strict=True):
            # Both ends of every band of the cell: the values where a neighbour cell begins.
            for s, o, d in itertools.product(
                set(_bounds(severity)), set(_bounds(occurrence)), set(_bounds(detection))
            ):
                cases.append((s, o, d, letter))
    return cases


BOUNDARY_CASES = _boundary_cases()


def test_the_published_table_has_every_cell():
    assert len(PUBLISHED.strip().splitlines()) == 25
    assert len(BOUNDARY_CASES) > 300


@pytest.mark.parametrize(("s", "o", "d", "expected"), BOUNDARY_CASES)
def test_action_priority_at_every_band_boundary(s, o, d, expected):
    assert action_priority(s, o, d) == ActionPriority(expected)


@pytest.mark.parametrize(
    ("s", "o", "d", "expected"),
    [
        # Crossing a severity boundary at the same O and D changes the priority.
        (9, 4, 1, "M"),
        (8, 4, 1, "M"),
        (9, 2, 5, "M"),
        (8, 2, 5, "M"),
        (7, 4, 7, "H"),
        (6, 4, 7, "M"),
        (4, 8, 7, "H"),
        (3, 8, 7, "M"),
        (2, 8, 5, "M"),
        (1, 8, 5, "L"),
        # Crossing an occurrence boundary.
        (9, 5, 1, "M"),
        (9, 6, 1, "H"),
        (7, 7, 1, "M"),
        (7, 8, 1, "H"),
        (5, 3, 10, "L"),
        (5, 4, 10, "M"),
        # Crossing a detection boundary.
        (9, 3, 7, "H"),
        (9, 3, 6, "M"),
        (9, 3, 4, "L"),
        (6, 7, 2, "M"),
        (6, 7, 1, "L"),
        # Occurrence 1 is low whatever the severity.
        (10, 1, 10, "L"),
    ],
)
def test_neighbouring_cells_across_each_boundary(s, o, d, expected):
    assert action_priority(s, o, d).value == expected


def test_every_combination_matches_the_published_cell_it_falls_in():
    expected = {}
    for line in PUBLISHED.strip().splitlines():
        severity, occurrence, *letters = line.split()
        for detection, letter in zip(DETECTION_BANDS, letters, strict=True):
            for s, o, d in itertools.product(
                range(_bounds(severity)[0], _bounds(severity)[1] + 1),
                range(_bounds(occurrence)[0], _bounds(occurrence)[1] + 1),
                range(_bounds(detection)[0], _bounds(detection)[1] + 1),
            ):
                assert (s, o, d) not in expected, "the published bands must not overlap"
                expected[(s, o, d)] = letter
    assert len(expected) == 1000
    assert {combo: action_priority(*combo).value for combo in expected} == expected


@pytest.mark.parametrize(
    "bad", [(0, 5, 5), (11, 5, 5), (5, 0, 5), (5, 11, 5), (5, 5, 0), (5, 5, 11)]
)
def test_ratings_off_the_scale_are_refused(bad):
    with pytest.raises(ValueError, match="from 1 to 10"):
        action_priority(*bad)


def test_rpn_is_the_product():
    assert risk_priority_number(1, 1, 1) == 1
    assert risk_priority_number(10, 10, 10) == 1000
    assert risk_priority_number(7, 4, 3) == 84
