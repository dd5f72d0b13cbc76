"""Forms for root-cause analyses. They parse input; the services hold the rules.

Every form that changes an analysis carries its `version`, so a page left open while someone else
worked on the same analysis cannot overwrite their change.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.forms import select_choices
from app.rca.models import EIGHT_D_DISCIPLINES, AnalysisMethod
from app.rca.services import (
    CATEGORY_MAX_LENGTH,
    SECTION_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    STEP_MAX_LENGTH,
)

METHOD_CHOICES = [(method.value, method.label) for method in AnalysisMethod]
CATEGORY_HELP = (
    "One of the six Ms (people, method, equipment, materials, measurement, environment) "
)
CATEGORY_HELP += "or a name of your own."


class StartAnalysisForm(FlaskForm):
    method = SelectField(
        "Method", choices=select_choices(METHOD_CHOICES), validators=[DataRequired()]
    )
    problem_statement = TextAreaField(
        "Problem statement",
        validators=[
            DataRequired(message="Describe the problem the analysis explains."),
            Length(max=STATEMENT_MAX_LENGTH),
        ],
        description="The effect being explained: the head of an Ishikawa diagram.",
    )


class _AnalysisChange(FlaskForm):
    version = HiddenField()


class WhyForm(_AnalysisChange):
    why = TextAreaField(
        "Why?",
        validators=[DataRequired(message="Ask the question."), Length(max=STEP_MAX_LENGTH)],
    )
    because = TextAreaField(
        "Because…",
        validators=[DataRequired(message="Give the answer."), Length(max=STEP_MAX_LENGTH)],
    )


class VersionOnlyForm(_AnalysisChange):
    """Remove and verify buttons: nothing to fill in but the version the page showed."""


class IshikawaCauseForm(_AnalysisChange):
    category = StringField(
        "Category",
        validators=[
            DataRequired(message="Choose a category."),
            Length(max=CATEGORY_MAX_LENGTH),
        ],
        description=CATEGORY_HELP,
    )
    cause = TextAreaField(
        "Cause",
        validators=[DataRequired(message="Describe the cause."), Length(max=STATEMENT_MAX_LENGTH)],
    )


class EightDForm(_AnalysisChange):
    discipline = SelectField(
        "Discipline",
        choices=select_choices(list(EIGHT_D_DISCIPLINES.items())),
        validators=[DataRequired()],
    )
    content = TextAreaField("Content", validators=[Length(max=SECTION_MAX_LENGTH)])


class RootCauseForm(_AnalysisChange):
    statement = TextAreaField(
        "Root-cause statement",
        validators=[
            DataRequired(message="State the root cause."),
            Length(max=STATEMENT_MAX_LENGTH),
        ],
    )
    cause_category = StringField(
        "Cause category",
        validators=[
            DataRequired(message="Choose a cause category."),
            Length(max=CATEGORY_MAX_LENGTH),
        ],
        description=CATEGORY_HELP + " Root-cause Pareto charts count by this category.",
    )
