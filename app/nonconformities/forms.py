"""Forms for nonconformities. They parse input; the services hold the rules."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
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

from app.accounts.models import User
from app.core.forms import select_choices
from app.core.signatures import SignatureMeaning
from app.nonconformities.models import NonconformitySource, NonconformityStatus
from app.nonconformities.services import (
    CONTAINMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    OVERDUE_AFTER_DAYS,
    REASON_MAX_LENGTH,
    RPN_BAND_LABELS,
    SEARCH_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    NonconformityFilters,
)
from app.organisation.models import Category, Process

NONE = ""
SOURCE_CHOICES = [(source.value, source.label) for source in NonconformitySource]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
# What a closure signature may mean (authored is for records one wrote, not for closing them).
CLOSURE_MEANINGS = [
    SignatureMeaning.REVIEWED,
    SignatureMeaning.APPROVED,
    SignatureMeaning.VERIFIED,
]
SORT_CHOICES = [
    ("-detected_at", "Newest detected first"),
    ("detected_at", "Oldest detected first"),
    ("-rpn", "Highest RPN first"),
    ("rpn", "Lowest RPN first"),
    ("reference", "Reference"),
    ("status", "Status"),
]


def optional_id(value: str | None) -> int | None:
    """A select's value as a record id, or None for "— none —" (the choices were validated)."""
    return int(value) if value and value.isdigit() else None


def _rating_field(label: str, description: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(message="A whole number from 1 to 10 is required."),
            NumberRange(min=1, max=10, message="Use a whole number from 1 to 10."),
        ],
        description=description,
        render_kw={"min": 1, "max": 10, "inputmode": "numeric"},
    )


class _RecordChoices:
    """Process, category and owner selects, each with a "— none —" option."""

    process_id: SelectField
    category_id: SelectField
    owner_id: SelectField

    def set_choices(
        self, processes: Iterable[Process], categories: Iterable[Category], owners: Iterable[User]
    ) -> None:
        self.process_id.choices = select_choices(
            [(NONE, "— none —")] + [(str(p.id), p.name) for p in processes]
        )
        self.category_id.choices = select_choices(
            [(NONE, "— none —")] + [(str(c.id), c.name) for c in categories]
        )
        self.owner_id.choices = select_choices(
            [(NONE, "— nobody yet —")]
            + [(str(u.id), f"{u.full_name} ({u.role_label.lower()})") for u in owners]
        )


class _NonconformityFields(FlaskForm, _RecordChoices):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    description = TextAreaField(
        "Description",
        validators=[Length(max=DESCRIPTION_MAX_LENGTH)],
        description="What was found, where, and how it departs from the requirement.",
    )
    process_id = SelectField("Process", choices=select_choices([(NONE, "— none —")]))
    category_id = SelectField("Category", choices=select_choices([(NONE, "— none —")]))
    owner_id = SelectField(
        "Owner",
        choices=select_choices([(NONE, "— nobody yet —")]),
        description="Who works this nonconformity. Contributors change only the ones they own.",
    )
    severity = _rating_field("Severity (1–10)", "How bad the effect is: 10 is the worst.")
    occurrence = _rating_field("Occurrence (1–10)", "How often it happens: 10 is the most often.")
    detection = _rating_field(
        "Detection (1–10)", "How hard it is to detect before it reaches the customer: 10 hardest."
    )
    containment_action = TextAreaField(
        "Containment action",
        validators=[Length(max=CONTAINMENT_MAX_LENGTH)],
        description="What stops the damage now, before the root cause is fixed. "
        "Needed before the nonconformity can be marked contained.",
    )


class NonconformityForm(_NonconformityFields):
    source = SelectField(
        "Source", choices=select_choices(SOURCE_CHOICES), validators=[DataRequired()]
    )
    detected_at = DateTimeLocalField(
        "Detected at (UTC)",
        format=DATETIME_FORMATS,
        validators=[InputRequired(message="The detection date and time are required.")],
        description="When the nonconformity was found; not in the future.",
    )
    # The complaint being raised from (its reference), carried from the pre-filled form.
    complaint = HiddenField()


class EditNonconformityForm(_NonconformityFields):
    version = HiddenField()


class TransitionForm(FlaskForm):
    transition = HiddenField(validators=[DataRequired(message="Choose an action.")])
    reason = TextAreaField("Reason", validators=[Length(max=REASON_MAX_LENGTH)])
    version = HiddenField()


class CloseForm(FlaskForm):
    meaning = SelectField(
        "Meaning of your signature",
        choices=select_choices([(m.value, m.label) for m in CLOSURE_MEANINGS]),
        validators=[DataRequired()],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired(message="Re-enter your password to sign."), Length(max=1024)],
        description="Re-enter your password: it is your electronic signature.",
    )
    version = HiddenField()


class LinkComplaintForm(FlaskForm):
    complaint_reference = StringField(
        "Complaint reference",
        validators=[DataRequired(message="Enter a complaint reference."), Length(max=20)],
        description="For example CMP-2026-000123.",
    )


class NonconformityFilterForm(FlaskForm):
    """The list's filters. A GET form: no CSRF token, the filters live in the URL."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])
    status = SelectField(
        "Status",
        choices=select_choices([(NONE, "Any")] + [(s.value, s.label) for s in NonconformityStatus]),
        validators=[Optional()],
    )
    source = SelectField(
        "Source", choices=select_choices([(NONE, "Any"), *SOURCE_CHOICES]), validators=[Optional()]
    )
    process_id = SelectField(
        "Process", choices=select_choices([(NONE, "Any")]), validators=[Optional()]
    )
    category_id = SelectField(
        "Category", choices=select_choices([(NONE, "Any")]), validators=[Optional()]
    )
    owner_id = SelectField(
        "Owner", choices=select_choices([(NONE, "Anyone")]), validators=[Optional()]
    )
    detected_from = DateField("Detected from", validators=[Optional()])
    detected_to = DateField("Detected to", validators=[Optional()])
    rpn_band = SelectField(
        "RPN band",
        choices=select_choices([(NONE, "Any"), *RPN_BAND_LABELS.items()]),
        validators=[Optional()],
    )
    overdue = BooleanField(
        "Overdue only",
        description=f"Overdue: not closed or cancelled, and detected more than "
        f"{OVERDUE_AFTER_DAYS} days ago.",
    )
    sort = SelectField("Sort", choices=select_choices(SORT_CHOICES), validators=[Optional()])

    def set_choices(
        self, processes: Iterable[Process], categories: Iterable[Category], owners: Iterable[User]
    ) -> None:
        self.process_id.choices = select_choices(
            [(NONE, "Any")] + [(str(p.id), p.name) for p in processes]
        )
        self.category_id.choices = select_choices(
            [(NONE, "Any")] + [(str(c.id), c.name) for c in categories]
        )
        self.owner_id.choices = select_choices(
            [(NONE, "Anyone")] + [(str(u.id), u.full_name) for u in owners]
        )

    def validate_detected_to(self, field: DateField) -> None:
        if field.data and self.detected_from.data and field.data < self.detected_from.data:
            raise ValidationError("The end date is before the start date.")

    def filters(self) -> NonconformityFilters:
        """The validated filters, as the list query (and the register report) take them."""
        return NonconformityFilters(
            status=NonconformityStatus(self.status.data) if self.status.data else None,
            process_id=optional_id(self.process_id.data),
            category_id=optional_id(self.category_id.data),
            owner_id=optional_id(self.owner_id.data),
            source=NonconformitySource(self.source.data) if self.source.data else None,
            detected_from=self.detected_from.data,
            detected_to=self.detected_to.data,
            overdue=bool(self.overdue.data),
            rpn_band=self.rpn_band.data or None,
            search=self.q.data or None,
            sort=self.sort.data or None,
        )
