"""Forms of the strategy workspace. They parse input; the services hold the rules (so numbers
and periods are plain text here, and the services say what is wrong with them)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import select_choices
from app.metrics.units import Better, MetricCategory, Unit
from app.strategy.models import FactorKind, Impact, Recovery, StakeholderKind

NONE = ""


def _options(items: Iterable, label: str = "title") -> list[tuple[str, str]]:
    return [(str(item.id), getattr(item, label)) for item in items]


class AssessmentRevisionForm(FlaskForm):
    statement = TextAreaField("Statement", validators=[DataRequired(), Length(max=5000)])
    impact = SelectField(
        "Impact",
        choices=select_choices([(i.value, i.label) for i in Impact]),
        validators=[DataRequired()],
    )
    assessed_on = DateField("Assessed on", validators=[Optional()])
    objective_ids = SelectMultipleField("Motivates objectives", validators=[Optional()])
    initiative_ids = SelectMultipleField("Motivates initiatives", validators=[Optional()])
    version = HiddenField()

    def set_choices(self, objectives: Iterable, initiatives: Iterable) -> None:
        self.objective_ids.choices = select_choices(_options(objectives))
        self.initiative_ids.choices = select_choices(_options(initiatives))


class AssessmentEntryForm(AssessmentRevisionForm):
    kind = SelectField(
        "Factor kind",
        choices=select_choices([(k.value, k.label) for k in FactorKind]),
        validators=[DataRequired()],
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    site_id = SelectField("Site", validators=[Optional()])

    def set_sites(self, sites: Iterable) -> None:
        self.site_id.choices = select_choices(
            [(NONE, "The whole organisation"), *_options(sites, "name")]
        )


class AssessmentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    as_of = DateField("As of", validators=[Optional()])
    site_id = SelectField("Site", validators=[Optional()])


class DepartmentForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    head_id = SelectField("Head", validators=[Optional()])
    process_ids = SelectMultipleField("Processes it runs", validators=[Optional()])
    initiative_ids = SelectMultipleField("Initiatives it carries", validators=[Optional()])
    recoveries = SelectMultipleField(
        "Recoveries it owns",
        choices=select_choices([(r.value, f"{r.label} recovery") for r in Recovery]),
        validators=[Optional()],
    )
    version = HiddenField()

    def set_choices(self, heads: Iterable, processes: Iterable, initiatives: Iterable) -> None:
        self.head_id.choices = select_choices(
            [(NONE, "No head yet"), *((str(u.id), u.full_name) for u in heads)]
        )
        self.process_ids.choices = select_choices(_options(processes, "name"))
        self.initiative_ids.choices = select_choices(_options(initiatives))


class CapabilityForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    department_id = SelectField("Held by", validators=[Optional()])

    def set_choices(self, departments: Iterable) -> None:
        self.department_id.choices = select_choices(
            [(NONE, "No department"), *_options(departments, "name")]
        )


class StakeholderForm(CapabilityForm):
    kind = SelectField(
        "Kind",
        choices=select_choices([(k.value, k.label) for k in StakeholderKind]),
        validators=[DataRequired()],
    )
    interest = TextAreaField("Interest in the strategy", validators=[Optional(), Length(max=5000)])


class MeasuredMetricForm(FlaskForm):
    key = StringField("Key", validators=[DataRequired(), Length(max=60)])
    label = StringField("Label", validators=[DataRequired(), Length(max=200)])
    category = SelectField(
        "Category",
        choices=select_choices([(c.value, c.label) for c in MetricCategory]),
        validators=[DataRequired()],
    )
    unit = SelectField(
        "Unit",
        choices=select_choices([(u.value, u.label) for u in Unit]),
        validators=[DataRequired()],
    )
    better = SelectField(
        "Better when",
        choices=select_choices([(b.value, b.value.capitalize()) for b in Better]),
        validators=[DataRequired()],
    )
    description = TextAreaField(
        "Where the values come from", validators=[Optional(), Length(max=5000)]
    )


class MetricValueForm(FlaskForm):
    period = StringField("Month (YYYY-MM)", validators=[DataRequired()])
    value = StringField("Value", validators=[DataRequired()])


class MetricImportForm(FlaskForm):
    file = FileField("CSV or XLSX file with the columns period and value")


class LinkCapaForm(FlaskForm):
    reference = StringField("CAPA reference", validators=[DataRequired(), Length(max=20)])
