"""Forms for management reviews. They parse input; the services hold the rules."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
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
from app.capa.models import CapaKind
from app.core.forms import select_choices
from app.reviews.services import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH

NONE = ""


def _people(users: Iterable[User]) -> list[tuple[str, str]]:
    return [(str(u.id), f"{u.full_name} ({u.role_label.lower()})") for u in users]


class ReviewForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    meeting_date = DateField(
        "Meeting date", validators=[InputRequired(message="The meeting date is required.")]
    )
    period_start = DateField(
        "Period under review from", validators=[InputRequired(message="The start is required.")]
    )
    period_end = DateField(
        "Period under review to", validators=[InputRequired(message="The end is required.")]
    )
    chair_id = SelectField("Chair", validators=[DataRequired(message="Choose the chair.")])
    attendee_ids = SelectMultipleField("Attendees")
    guests = TextAreaField(
        "Guests without an account",
        validators=[Length(max=TEXT_MAX_LENGTH)],
        description="One a line, e.g. “Pat Partner (external auditor)”.",
    )
    agenda = TextAreaField("Agenda", validators=[Length(max=TEXT_MAX_LENGTH)])

    def set_choices(self, people: Iterable[User]) -> None:
        pairs = _people(people)
        self.chair_id.choices = select_choices([(NONE, "— choose —"), *pairs])
        self.attendee_ids.choices = select_choices(pairs)


class MeetingForm(FlaskForm):
    """The meeting record after scheduling, with the inputs no data covers."""

    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    attendee_ids = SelectMultipleField("Attendees")
    guests = TextAreaField("Guests without an account", validators=[Length(max=TEXT_MAX_LENGTH)])
    agenda = TextAreaField("Agenda", validators=[Length(max=TEXT_MAX_LENGTH)])
    external_issues = TextAreaField(
        "Changes in external and internal issues", validators=[Length(max=TEXT_MAX_LENGTH)]
    )
    resources = TextAreaField("Adequacy of resources", validators=[Length(max=TEXT_MAX_LENGTH)])
    risk_actions = TextAreaField(
        "Effectiveness of actions on risks and opportunities",
        validators=[Length(max=TEXT_MAX_LENGTH)],
    )
    improvement_opportunities = TextAreaField(
        "Opportunities for improvement", validators=[Length(max=TEXT_MAX_LENGTH)]
    )
    version = HiddenField()

    def set_choices(self, people: Iterable[User]) -> None:
        self.attendee_ids.choices = select_choices(_people(people))


class VersionForm(FlaskForm):
    version = HiddenField()


class NoteForm(FlaskForm):
    section = HiddenField(validators=[DataRequired()])
    note = TextAreaField("Note", validators=[Length(max=TEXT_MAX_LENGTH)])
    version = HiddenField()


class OutputForm(FlaskForm):
    kind = SelectField(
        "Kind",
        choices=select_choices(
            [(NONE, "— choose —"), ("decision", "Decision"), ("action", "Action")]
        ),
        validators=[DataRequired(message="Choose decision or action.")],
    )
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)])
    owner_id = SelectField("Owner (actions)", validators=[Optional()])
    due_date = DateField("Due (actions)", validators=[Optional()])

    def set_choices(self, people: Iterable[User]) -> None:
        self.owner_id.choices = select_choices([(NONE, "— none —"), *_people(people)])


class CapaFromActionForm(FlaskForm):
    kind = SelectField(
        "CAPA kind",
        choices=select_choices([(k.value, k.label) for k in CapaKind]),
        validators=[DataRequired()],
    )
    principles = SelectMultipleField(
        "TQM principles", coerce=int, validators=[DataRequired(message="Choose a principle.")]
    )


class ApproveForm(FlaskForm):
    password = PasswordField(
        "Your password",
        validators=[DataRequired(message="Re-enter your password to sign."), Length(max=1024)],
        description="Re-enter your password: it is your electronic signature (meaning approved).",
    )
    version = HiddenField()
