"""Forms for complaints and customer recovery. They parse input; the services hold the rules.

The detail page carries several small forms at once, so each of those has a prefix (its fields
are named e.g. `escalation-level`): ids stay unique on the page and a failed form can be shown
with its own errors while the others stay empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.accounts.models import User
from app.complaints.models import Channel, ComplaintStatus, RecoveryKind, RetentionStatus, Severity
from app.complaints.services import DESCRIPTION_MAX_LENGTH, MAX_ESCALATION_LEVEL, RETENTION_MAX_DAYS
from app.core.forms import (
    QuickCheckboxInput,
    QuickDateInput,
    QuickSelect,
    QuickTextInput,
    select_choices,
)

NO_CHOICE = ""
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

CHANNEL_CHOICES = [(channel.value, channel.label) for channel in Channel]
SEVERITY_CHOICES = [(severity.value, severity.label) for severity in Severity]
STATUS_CHOICES = [(status.value, status.label) for status in ComplaintStatus]
KIND_CHOICES = [(kind.value, kind.label) for kind in RecoveryKind]
ESCALATION_LABELS = {
    level: f"{level} — not escalated"
    if level == 0
    else (f"{level} — highest" if level == MAX_ESCALATION_LEVEL else str(level))
    for level in range(MAX_ESCALATION_LEVEL + 1)
}
CSAT_LABELS = {
    1: "1 — very dissatisfied",
    2: "2 — dissatisfied",
    3: "3 — neutral",
    4: "4 — satisfied",
    5: "5 — very satisfied",
}
RETENTION_LABELS = {
    RetentionStatus.STAYED: "Yes — still a customer",
    RetentionStatus.LEFT: "No — the customer left",
    RetentionStatus.UNKNOWN: "Unknown",
}


def optional_id(value: str | None) -> int | None:
    """A select's value as a record id, or None for "— none —" (the choices were validated)."""
    return int(value) if value and value.isdigit() else None


def as_utc(value: datetime | None) -> datetime | None:
    """A date-time typed into a form, read as UTC (every time in Loop is UTC)."""
    return value.replace(tzinfo=UTC) if value is not None else None


def _user_label(user: User) -> str:
    return user.full_name if user.active else f"{user.full_name} (deactivated)"


def _named_choices(records: Iterable, empty_label: str) -> list:
    return select_choices(
        [
            (NO_CHOICE, empty_label),
            *(
                (str(record.id), record.name if record.active else f"{record.name} (inactive)")
                for record in records
            ),
        ]
    )


def _user_choices(users: Iterable[User], empty_label: str | None) -> list:
    pairs = [(str(user.id), _user_label(user)) for user in users]
    if empty_label is not None:
        pairs.insert(0, (NO_CHOICE, empty_label))
    return select_choices(pairs)


class ComplaintFieldsForm(FlaskForm):
    """What a complaint is about: shared by the new and the edit page."""

    title = StringField(
        "Title",
        validators=[DataRequired(), Length(max=200)],
        description="The complaint in one line, in the customer's terms.",
    )
    channel = SelectField(
        "Channel", choices=select_choices(CHANNEL_CHOICES), validators=[DataRequired()]
    )
    severity = SelectField(
        "Severity",
        choices=select_choices(SEVERITY_CHOICES),
        default=Severity.MEDIUM.value,
        validators=[DataRequired()],
    )
    customer_id = SelectField("Customer", default=NO_CHOICE)
    product_or_service = StringField("Product or service", validators=[Length(max=200)])
    region = StringField(
        "Customer's region",
        validators=[Length(max=60)],
        description="State or region, as the source system gives it (e.g. CA).",
    )
    process_id = SelectField(
        "Process", default=NO_CHOICE, description="The process in which the failure happened."
    )
    category_id = SelectField("Category", default=NO_CHOICE)
    description = TextAreaField(
        "Description",
        validators=[Length(max=DESCRIPTION_MAX_LENGTH)],
        description="What happened, what the customer expected, what they asked for.",
    )

    def set_choices(self, customers: Iterable, processes: Iterable, categories: Iterable) -> None:
        self.customer_id.choices = _named_choices(customers, "— none —")
        self.process_id.choices = _named_choices(processes, "— not known yet —")
        self.category_id.choices = _named_choices(categories, "— not known yet —")


class NewComplaintForm(ComplaintFieldsForm):
    received_at = DateTimeLocalField(
        "Received at (UTC)",
        format=DATETIME_FORMAT,
        validators=[Optional()],
        description="Leave empty for now. It cannot be in the future.",
    )
    assignee_id = SelectField("Assignee", default=NO_CHOICE)

    def set_assignees(self, users: Iterable[User]) -> None:
        self.assignee_id.choices = _user_choices(users, "— unassigned —")


class EditComplaintForm(ComplaintFieldsForm):
    version = HiddenField()


class TransitionForm(FlaskForm):
    """One status button: which transition, and the reason where one is needed (reopen)."""

    transition = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])


UNASSIGNED = "none"


class AssignForm(FlaskForm):
    # "Unassigned" is an explicit choice, so a post that lacks the field is refused, not taken
    # as "take it away from the assignee".
    assignee_id = SelectField("Assignee", validators=[DataRequired()])

    def set_assignees(self, users: Iterable[User]) -> None:
        self.assignee_id.choices = select_choices(
            [(UNASSIGNED, "— unassigned —"), *((str(u.id), _user_label(u)) for u in users)]
        )


class EscalationForm(FlaskForm):
    level = SelectField(
        "Escalation level",
        choices=select_choices([(str(level), label) for level, label in ESCALATION_LABELS.items()]),
        validators=[DataRequired()],
    )
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(), Length(max=2000)],
        description="Why the level changes; it is kept in the audit trail.",
    )


class RecoveryActionForm(FlaskForm):
    kind = SelectField("Kind", choices=select_choices(KIND_CHOICES), validators=[DataRequired()])
    description = TextAreaField(
        "What was done",
        validators=[Length(max=5000)],
        description="Required for “Other”.",
    )
    amount = DecimalField(
        "Amount",
        places=2,
        validators=[Optional()],
        description="Required for refund, compensation and goodwill; optional otherwise.",
    )
    currency = StringField(
        "Currency",
        validators=[Optional(), Length(min=3, max=3)],
        description="ISO code of three letters, such as EUR.",
    )
    done_at = DateTimeLocalField(
        "Done at (UTC)",
        format=DATETIME_FORMAT,
        validators=[Optional()],
        description="Leave empty for now.",
    )
    done_by_id = SelectField("Done by", default=NO_CHOICE)

    def set_people(self, users: Iterable[User]) -> None:
        # The empty choice means the person recording it.
        self.done_by_id.choices = _user_choices(users, "— you —")


class SatisfactionForm(FlaskForm):
    score = SelectField(
        "Satisfaction (CSAT)",
        choices=select_choices(
            [(NO_CHOICE, "— choose —")]
            + [(str(score), label) for score, label in CSAT_LABELS.items()]
        ),
        validators=[DataRequired(message="Choose a score from 1 to 5.")],
    )
    comment = TextAreaField("Customer's comment", validators=[Length(max=5000)])


class RetentionForm(FlaskForm):
    status = SelectField(
        "Customer still active?",
        choices=select_choices(
            [(NO_CHOICE, "— choose —")]
            + [(status.value, label) for status, label in RETENTION_LABELS.items()]
        ),
        validators=[DataRequired(message="Choose whether the customer stayed.")],
    )
    follow_up_days = IntegerField(
        "After how many days",
        default=90,
        validators=[
            DataRequired(message="Give the number of days."),
            NumberRange(min=1, max=RETENTION_MAX_DAYS),
        ],
        description="Days since the resolution at which the customer was checked.",
    )


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ComplaintFilterForm(FlaskForm):
    """The complaint list's filters. A GET form: no CSRF token, the filters live in the URL."""

    class Meta:
        csrf = False

    # Quick* widgets: WTForms' HTML to the character, at a fraction of the cost per request.
    q = StringField("Search", validators=[Optional(), Length(max=200)], widget=QuickTextInput())
    status = MultiCheckboxField(
        "Status",
        choices=select_choices(STATUS_CHOICES),
        validators=[Optional()],
        option_widget=QuickCheckboxInput(),
    )
    process_id = SelectField("Process", validators=[Optional()], widget=QuickSelect())
    category_id = SelectField("Category", validators=[Optional()], widget=QuickSelect())
    assignee_id = SelectField("Assignee", validators=[Optional()], widget=QuickSelect())
    channel = SelectField(
        "Channel",
        choices=select_choices([(NO_CHOICE, "Any"), *CHANNEL_CHOICES]),
        validators=[Optional()],
        widget=QuickSelect(),
    )
    severity = SelectField(
        "Severity",
        choices=select_choices([(NO_CHOICE, "Any"), *SEVERITY_CHOICES]),
        validators=[Optional()],
        widget=QuickSelect(),
    )
    received_from = DateField("Received from", validators=[Optional()], widget=QuickDateInput())
    received_to = DateField("Received to", validators=[Optional()], widget=QuickDateInput())
    overdue = BooleanField("Overdue only", widget=QuickCheckboxInput())

    def set_choices(self, processes: Iterable, categories: Iterable, users: Iterable) -> None:
        """Processes and categories with `id` and `name`, users with `id` and `full_name`."""
        self.process_id.choices = select_choices(
            [(NO_CHOICE, "Any"), *((str(p.id), p.name) for p in processes)]
        )
        self.category_id.choices = select_choices(
            [(NO_CHOICE, "Any"), *((str(c.id), c.name) for c in categories)]
        )
        self.assignee_id.choices = select_choices(
            [(NO_CHOICE, "Anyone"), *((str(u.id), u.full_name) for u in users)]
        )

    def validate_received_to(self, field: DateField) -> None:
        if field.data and self.received_from.data and field.data < self.received_from.data:
            raise ValidationError("The end date is before the start date.")
