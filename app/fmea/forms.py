"""Forms for process FMEAs. They parse input; the services hold the rules (scales included)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.accounts.models import User
from app.core.forms import select_choices
from app.fmea.services import (
    FAILURE_MODE_MAX_LENGTH,
    STEP_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from app.organisation.models import Category, Process, TQMPrinciple

NONE = ""
SCALE_HELP = "1–10"


def _people(users: Iterable[User]) -> list[tuple[str, str]]:
    return [(str(u.id), f"{u.full_name} ({u.role_label.lower()})") for u in users]


class FmeaForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    process_id = SelectField("Process", validators=[DataRequired(message="Choose the process.")])
    process_step = StringField(
        "Process step (optional)",
        validators=[Length(max=STEP_MAX_LENGTH)],
        description="Leave empty when the FMEA covers the whole process.",
    )
    team = TextAreaField(
        "Team", validators=[Length(max=TEXT_MAX_LENGTH)], description="Names and roles."
    )
    scope = TextAreaField("Scope", validators=[Length(max=TEXT_MAX_LENGTH)])
    owner_id = SelectField("Owner", validators=[Optional()])
    prepared_on = DateField(
        "Prepared on", validators=[InputRequired(message="The date prepared is required.")]
    )
    next_review_on = DateField("Next review", validators=[Optional()])
    version = HiddenField()

    def set_choices(self, processes: Iterable[Process], people: Iterable[User]) -> None:
        self.process_id.choices = select_choices(
            [(NONE, "— choose —"), *((str(p.id), p.name) for p in processes)]
        )
        self.owner_id.choices = select_choices([(NONE, "— none —"), *_people(people)])


class RowForm(FlaskForm):
    process_step = StringField("Process step / function", validators=[Length(max=STEP_MAX_LENGTH)])
    failure_mode = StringField(
        "Failure mode", validators=[DataRequired(), Length(max=FAILURE_MODE_MAX_LENGTH)]
    )
    effect = TextAreaField("Failure effect", validators=[Length(max=TEXT_MAX_LENGTH)])
    severity = StringField("Severity (S)", description=SCALE_HELP)
    cause = TextAreaField("Failure cause", validators=[Length(max=TEXT_MAX_LENGTH)])
    prevention_controls = TextAreaField(
        "Current prevention controls", validators=[Length(max=TEXT_MAX_LENGTH)]
    )
    occurrence = StringField("Occurrence (O)", description=SCALE_HELP)
    detection_controls = TextAreaField(
        "Current detection controls", validators=[Length(max=TEXT_MAX_LENGTH)]
    )
    detection = StringField("Detection (D)", description=SCALE_HELP)
    recommended_action = TextAreaField(
        "Recommended action", validators=[Length(max=TEXT_MAX_LENGTH)]
    )
    category_ids = SelectMultipleField(
        "Failure categories",
        description="Link the categories complaints and nonconformities of this failure carry.",
    )
    version = HiddenField()

    def set_choices(self, categories: Iterable[Category]) -> None:
        self.category_ids.choices = select_choices([(str(c.id), c.name) for c in categories])

    def row_values(self) -> dict[str, object]:
        return {
            name: getattr(self, name).data
            for name in (
                "process_step",
                "failure_mode",
                "effect",
                "cause",
                "prevention_controls",
                "detection_controls",
                "recommended_action",
                "severity",
                "occurrence",
                "detection",
            )
        }


class CapaForm(FlaskForm):
    title = StringField("CAPA title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    owner_id = SelectField("Owner", validators=[DataRequired(message="Choose the owner.")])
    due_date = DateField("Due", validators=[InputRequired(message="The due date is required.")])
    principles = SelectMultipleField(
        "TQM principles", coerce=int, validators=[DataRequired(message="Choose a principle.")]
    )

    def set_choices(self, people: Iterable[User], principles: Iterable[TQMPrinciple]) -> None:
        self.owner_id.choices = select_choices([(NONE, "— choose —"), *_people(people)])
        self.principles.choices = [(p.id, p.name) for p in principles]


class RevisedForm(FlaskForm):
    severity = StringField("Revised severity (S)", description=SCALE_HELP)
    occurrence = StringField("Revised occurrence (O)", description=SCALE_HELP)
    detection = StringField("Revised detection (D)", description=SCALE_HELP)
    version = HiddenField()


class ApproveForm(FlaskForm):
    change_note = TextAreaField(
        "What changed in this revision",
        validators=[DataRequired(message="Say what changed."), Length(max=TEXT_MAX_LENGTH)],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired(message="Re-enter your password to sign."), Length(max=1024)],
        description="Re-enter your password: it is your electronic signature (meaning approved).",
    )
    version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField("XLSX file", description="The PFMEA column layout of the export.")


class VersionForm(FlaskForm):
    version = HiddenField()
