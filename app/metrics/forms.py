"""Forms for the dashboard filters, the financial-case assumptions and objectives. They parse
input; the services hold the rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.complaints.models import Channel
from app.core.forms import select_choices
from app.metrics.kpis import period_problem

ANY = ""
PERIOD_CHOICES = [
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("180", "Last 180 days"),
    ("365", "Last 365 days"),
]
DEFAULT_PERIOD = "90"


class DashboardFilterForm(FlaskForm):
    """The dashboard's filters. A GET form: no CSRF token, the filters live in the URL."""

    class Meta:
        csrf = False

    period = SelectField(
        "Period",
        choices=select_choices(PERIOD_CHOICES),
        default=DEFAULT_PERIOD,
        validators=[Optional()],
    )
    # Any from–to range instead of a preset (an imported history, a past quarter): both or none.
    date_from = DateField(
        "From (UTC)",
        validators=[Optional()],
        description="With “To”, any range instead of the period above.",
    )
    date_to = DateField("To (UTC)", validators=[Optional()])
    site_id = SelectField("Site", validators=[Optional()], default=ANY)
    process_id = SelectField("Process", validators=[Optional()], default=ANY)
    channel = SelectField(
        "Channel",
        choices=select_choices([(ANY, "Any"), *((c.value, c.label) for c in Channel)]),
        validators=[Optional()],
        default=ANY,
    )

    def set_choices(self, sites: Iterable, processes: Iterable) -> None:
        self.site_id.choices = select_choices([(ANY, "Any"), *((str(s.id), s.name) for s in sites)])
        self.process_id.choices = select_choices(
            [(ANY, "Any"), *((str(p.id), p.name) for p in processes)]
        )

    def days(self) -> int:
        return int(self.period.data or DEFAULT_PERIOD)

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)
        first, last = self.date_from, self.date_to
        if first.errors or last.errors:
            return False
        if (first.data is None) != (last.data is None):
            missing = last if first.data else first
            missing.errors = [
                *missing.errors,
                "Give both days of the range (or neither, for the period above).",
            ]
            return False
        if first.data and last.data:
            problem = period_problem(first.data, last.data)
            if problem is not None:
                field, message = problem
                self[field].errors = [*self[field].errors, message]
                return False
        return valid

    def date_range(self) -> tuple[date, date] | None:
        """The chosen from–to range (validated), or None for a preset period."""
        if self.date_from.data and self.date_to.data:
            return self.date_from.data, self.date_to.data
        return None

    def id_of(self, field: SelectField) -> int | None:
        return int(field.data) if field.data else None


class AssumptionsForm(FlaskForm):
    """The financial case's editable assumptions (GET, so a case can be bookmarked)."""

    class Meta:
        csrf = False

    annual_value = DecimalField(
        "Annual value of a customer",
        places=2,
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
        description="Revenue per customer and year; empty takes the mean of active customers.",
    )
    margin_percent = DecimalField(
        "Margin (%)",
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        default=30,
    )
    lifetime_years = DecimalField(
        "Customer lifetime (years)",
        places=1,
        validators=[InputRequired(), NumberRange(min=0.1, max=100)],
        default=5,
    )
    acquisition_cost = DecimalField(
        "Cost to acquire a new customer",
        places=2,
        validators=[InputRequired(), NumberRange(min=0, max=10_000_000)],
        default=300,
    )
    period = SelectField(
        "Complaints received in",
        choices=select_choices([*PERIOD_CHOICES[1:], ("730", "Last 2 years")]),
        default="365",
        validators=[Optional()],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ObjectiveForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    owner_id = SelectField("Owner", validators=[DataRequired()])
    principle_ids = MultiCheckboxField("TQM principles served", validators=[Optional()])

    def set_choices(self, owners: Iterable, principles: Iterable) -> None:
        self.owner_id.choices = select_choices(
            [(ANY, "Choose…"), *((str(u.id), u.full_name) for u in owners)]
        )
        self.principle_ids.choices = select_choices([(str(p.id), p.name) for p in principles])


class InitiativeForm(ObjectiveForm):
    start_date = DateField("Start", validators=[Optional()])
    end_date = DateField("End", validators=[Optional()])

    def validate_principle_ids(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Map the initiative to at least one TQM principle.")


class GoalForm(FlaskForm):
    kpi = SelectField("KPI", validators=[DataRequired()])
    baseline_start = DateField("Baseline from", validators=[DataRequired()])
    baseline_end = DateField("Baseline to", validators=[DataRequired()])
    target_kind = SelectField(
        "Target",
        choices=select_choices(
            [("relative", "Relative: improve by a percentage"), ("absolute", "Absolute value")]
        ),
        validators=[DataRequired()],
    )
    target_value = DecimalField(
        "Target value",
        places=4,
        validators=[InputRequired(), NumberRange(min=0)],
        description="For a relative target, the improvement in % (20 = 20 % better than the "
        "baseline); for an absolute one, the value in the KPI's unit (rates as %).",
    )
    deadline = DateField("Deadline", validators=[DataRequired()])
    owner_id = SelectField("Owner", validators=[DataRequired()])
    version = HiddenField()

    def set_choices(self, kpis: Iterable, owners: Iterable) -> None:
        self.kpi.choices = select_choices([(ANY, "Choose…"), *((k.key, k.label) for k in kpis)])
        self.owner_id.choices = select_choices(
            [(ANY, "Choose…"), *((str(u.id), u.full_name) for u in owners)]
        )
