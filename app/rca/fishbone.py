"""The Ishikawa (fishbone) diagram of an analysis: laid out here, drawn as SVG by the template
macro `rca/_fishbone.html`, for the analysis page and the 8D report alike."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from flask import get_template_attribute

from app.rca.models import IshikawaCause, RootCauseAnalysis
from app.rca.services import ishikawa_groups

# Laid out here and drawn by the template as SVG (presentation attributes only: the CSP forbids
# inline styles). Bones alternate above and below the spine, left to right in category order;
# each cause hangs off its bone with its text to the left, wrapped to fit between two bones.

COLUMN_WIDTH = 250
SLANT = 50
MARGIN = 30
LINE_HEIGHT = 15
CAUSE_WRAP = 30
HEAD_WRAP = 28
HEAD_WIDTH = 230
LABEL_SPACE = 26


@dataclass
class CauseMark:
    tick: tuple[float, float, float, float]
    text_x: float
    lines: list[tuple[float, str]]


@dataclass
class Bone:
    label: str
    line: tuple[float, float, float, float]
    label_x: float
    label_y: float
    causes: list[CauseMark] = field(default_factory=list)


@dataclass
class Fishbone:
    width: float
    height: float
    spine: tuple[float, float, float, float]
    arrow: str
    head_box: tuple[float, float, float, float]
    head_lines: list[tuple[float, str]]
    head_text_x: float
    bones: list[Bone]


def _r(value: float) -> float:
    return round(value, 1)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width) or [""]


def _block_height(causes: list[IshikawaCause]) -> float:
    return sum(len(_wrap(item.cause, CAUSE_WRAP)) * LINE_HEIGHT + 8 for item in causes)


def fishbone(problem: str, groups: dict[str, list[IshikawaCause]]) -> Fishbone:
    """Coordinates for an Ishikawa diagram of `groups` (category → causes) explaining `problem`."""
    categories = list(groups)
    top, bottom = categories[0::2], categories[1::2]
    columns = max(len(top), len(bottom), 1)

    def side_length(side: list[str]) -> float:
        return max([70.0] + [_block_height(groups[c]) + 24 for c in side])

    top_length, bottom_length = side_length(top), side_length(bottom)
    head_lines = _wrap(problem, HEAD_WRAP)
    head_height = len(head_lines) * LINE_HEIGHT + 20
    spine_y = max(LABEL_SPACE + top_length + 10, head_height / 2 + 10)
    height = max(spine_y + bottom_length + LABEL_SPACE + 10, spine_y + head_height / 2 + 10)
    head_x = MARGIN + columns * COLUMN_WIDTH + 20
    width = head_x + HEAD_WIDTH + 10

    bones = []
    for side, categories_on_side, length in ((-1, top, top_length), (1, bottom, bottom_length)):
        for column, category in enumerate(categories_on_side):
            spine_x = MARGIN + (column + 1) * COLUMN_WIDTH
            outer_x, outer_y = spine_x - SLANT, spine_y + side * length
            label_y = outer_y - 9 if side < 0 else outer_y + 19
            bone = Bone(
                category.capitalize(),
                (_r(spine_x), _r(spine_y), _r(outer_x), _r(outer_y)),
                _r(outer_x),
                _r(label_y),
            )
            y = (outer_y if side < 0 else spine_y) + 22
            for item in groups[category]:
                x = spine_x + (outer_x - spine_x) * (y - 4 - spine_y) / (outer_y - spine_y)
                lines = _wrap(item.cause, CAUSE_WRAP)
                bone.causes.append(
                    CauseMark(
                        tick=(_r(x - 12), _r(y - 4), _r(x), _r(y - 4)),
                        text_x=_r(x - 16),
                        lines=[(_r(y + i * LINE_HEIGHT), line) for i, line in enumerate(lines)],
                    )
                )
                y += len(lines) * LINE_HEIGHT + 8
            bones.append(bone)

    head_top = spine_y - head_height / 2
    spine_y = _r(spine_y)
    return Fishbone(
        width=_r(width),
        height=_r(height),
        spine=(MARGIN / 2, spine_y, head_x, spine_y),
        arrow=f"{head_x},{spine_y} {head_x - 12},{spine_y - 6} {head_x - 12},{spine_y + 6}",
        head_box=(head_x, _r(head_top), HEAD_WIDTH, head_height),
        head_lines=[
            (_r(head_top + 22 + i * LINE_HEIGHT), line) for i, line in enumerate(head_lines)
        ],
        head_text_x=head_x + 12,
        bones=bones,
    )


def fishbone_svg(analysis: RootCauseAnalysis) -> str:
    """The analysis's fishbone as standalone SVG markup (as the analysis page draws it)."""
    draw = get_template_attribute("rca/_fishbone.html", "fishbone_svg")
    layout = fishbone(analysis.problem_statement, ishikawa_groups(analysis))
    return str(draw(layout, analysis.problem_statement))
