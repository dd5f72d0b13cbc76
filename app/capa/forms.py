"""Forms for CAPAs, trainings, effectiveness checks and signatures. They parse input; the rules
live in app.capa.services.

The CAPA page holds several forms at once, so each has a prefix (its fields are named e.g.
`training-topic`, `check-due_date`, `result7-evidence`, `closure-password`) and ids never clash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
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

from app.accounts.models import User
from app.capa.models import CapaKind, CapaStatus, CheckMethod, RecoveryDimension
from app.core.forms import select_choices
from app.core.signatures import SignatureMeaning
from app.organisation.models import Category, Process, TQMPrinciple
from app.rca.models import RootCause

NO_CHOICE = ""
KIND_CHOICES = [(kind.value, kind.label) for kind in CapaKind]
DIMENSION_CHOICES = [
    (RecoveryDimension.PROCESS.value, "Process recovery — fix the process"),
    (RecoveryDimension.EMPLOYEE.value, "Employee recovery — prepare staff (training)"),
]
METHOD_CHOICES = [(method.value, method.label) for method in CheckMethod]
RESULT_CHOICES = [("passed", "Passed"), ("failed", "Failed")]
# Signing a CAPA confirms a review, an approval or a verification (authoring is not signed here).
MEANING_CHOICES = [
    (meaning.value, meaning.label)
    for meaning in (
        SignatureMeaning.REVIEWED,
        SignatureMeaning.APPROVED,
        SignatureMeaning.VERIFIED,
    )
]
_REFERENCE_SPLIT = re.compile(r"[\s,;]+")


def optional_id(value: str | None) -> int | None:
    """A select's value as a record id, or None for "— choose —" (the choices were validated)."""
    return int(value) if value and value.isdigit() else None


def split_references(text: str | None) -> list[str]:
    """ "NC-2026-000001, NC-2026-000002" → the references, upper-cased, in order, no repeats."""
    seen: dict[str, None] = {}
    for part in _REFERENCE_SPLIT.split(text or ""):
        if part:
            seen.setdefault(part.upper(), None)
    return list(seen)


def _people_choices(people: Iterable[User], placeholder: str):
    return select_choices(
        [(NO_CHOICE, placeholder)]
        + [
            (str(person.id), person.full_name + ("" if person.active else " (deactivated)"))
            for person in people
        ]
    )


class CapaForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=select_choices(KIND_CHOICES),
        default=CapaKind.CORRECTIVE.value,
        description="Correction fixes this failure; corrective removes its cause; "
        "preventive stops a potential failure.",
    )
    recovery_dimension = SelectField(
        "Recovery",
        choices=select_choices(DIMENSION_CHOICES),
        default=RecoveryDimension.PROCESS.value,
        description="An employee-recovery CAPA is implemented only once its training "
        "assignments are completed.",
    )
    description = TextAreaField("Description", validators=[Length(max=10_000)])
    owner_id = SelectField(
        "Owner", default=NO_CHOICE, validators=[DataRequired("Choose the owner.")]
    )
    due_date = DateField("Due date", validators=[InputRequired("A due date is required.")])
    cost = DecimalField(
        "Estimated cost",
        places=2,
        validators=[Optional(), NumberRange(min=0, message="The cost cannot be negative.")],
        description="Optional.",
    )
    principles = SelectMultipleField("TQM principles", coerce=int)
    nonconformities = StringField(
        "Nonconformities",
        validators=[Length(max=2000)],
        description="References separated by commas, e.g. NC-2026-000001.",
    )
    root_causes = SelectMultipleField("Root causes", coerce=int)
    follow_up_of = HiddenField()

    def set_choices(
        self,
        people: Iterable[User],
        principles: Iterable[TQMPrinciple],
        root_causes: Iterable[RootCause],
    ) -> None:
        self.owner_id.choices = _people_choices(people, "— choose the owner —")
        self.principles.choices = select_choices(
            [(str(principle.id), principle.name) for principle in principles]
        )
        self.root_causes.choices = select_choices(
            [(str(cause.id), cause.statement) for cause in root_causes]
        )


class EditCapaForm(CapaForm):
    follow_up_of = None
    version = HiddenField()


class TransitionForm(FlaskForm):
    transition = HiddenField(validators=[DataRequired("Choose an action.")])
    reason = StringField("Reason (optional)", validators=[Length(max=2000)])


class TrainingForm(FlaskForm):
    staff_id = SelectField(
        "Staff member", default=NO_CHOICE, validators=[DataRequired("Choose the staff member.")]
    )
    topic = StringField("Topic", validators=[DataRequired(), Length(max=200)])
    due_date = DateField("Due date", validators=[InputRequired("A due date is required.")])

    def set_choices(self, people: Iterable[User]) -> None:
        self.staff_id.choices = _people_choices(people, "— choose —")


class CompleteTrainingForm(FlaskForm):
    # Where to go back to: the CAPA page or "my work" (a fixed list, never a URL).
    return_to = HiddenField()


class CheckPlanForm(FlaskForm):
    method = SelectField(
        "Method", choices=select_choices(METHOD_CHOICES), default=CheckMethod.MANUAL_REVIEW.value
    )
    criterion = TextAreaField(
        "Criterion",
        validators=[Length(max=10_000)],
        description="What must be true for the CAPA to count as effective. An automatic check "
        "fills this in when left empty.",
    )
    window_days = IntegerField(
        "Window (days)",
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description="Automatic checks only: how many days after implementation to watch.",
    )
    due_date = DateField("Due date", validators=[InputRequired("A due date is required.")])


class CheckResultForm(FlaskForm):
    result = SelectField("Result", choices=select_choices(RESULT_CHOICES))
    evidence = TextAreaField(
        "Evidence",
        validators=[DataRequired("Evidence is required."), Length(max=10_000)],
    )


class EvaluateForm(FlaskForm):
    """The "Evaluate now" button: no fields, only the CSRF token."""


class SignForm(FlaskForm):
    # Meaning first, then the password: the order of every signing form (macro signature_fields).
    meaning = SelectField(
        "Meaning of your signature",
        choices=select_choices([(NO_CHOICE, "— choose —"), *MEANING_CHOICES]),
        default=NO_CHOICE,
        validators=[DataRequired("Choose what the signature means.")],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Re-enter your password to sign."), Length(max=1024)],
        description="Re-enter your password: it is your electronic signature.",
    )


STATUS_FILTER_CHOICES = [(NO_CHOICE, "Any")] + [(s.value, s.label) for s in CapaStatus]
SORT_CHOICES = [
    ("due_date", "Due date, soonest first"),
    ("-due_date", "Due date, latest first"),
    ("reference", "Reference, oldest first"),
    ("-reference", "Reference, newest first"),
    ("status", "Status, A–Z"),
    ("-status", "Status, Z–A"),
]


class CapaFilterForm(FlaskForm):
    """The CAPA list's filters. A GET form: no CSRF token, the filters live in the URL."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=select_choices(STATUS_FILTER_CHOICES),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    owner_id = SelectField(
        "Owner",
        choices=select_choices([(NO_CHOICE, "Anyone")]),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    kind = SelectField(
        "Kind",
        choices=select_choices([(NO_CHOICE, "Any"), *KIND_CHOICES]),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    recovery = SelectField(
        "Recovery",
        choices=select_choices(
            [(NO_CHOICE, "Any")] + [(d.value, d.label) for d in RecoveryDimension]
        ),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    principle_id = SelectField(
        "TQM principle",
        choices=select_choices([(NO_CHOICE, "Any")]),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    process_id = SelectField(
        "Process",
        choices=select_choices([(NO_CHOICE, "Any")]),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    category_id = SelectField(
        "Category",
        choices=select_choices([(NO_CHOICE, "Any")]),
        default=NO_CHOICE,
        validators=[Optional()],
    )
    due_from = DateField("Due from", validators=[Optional()])
    due_to = DateField("Due to", validators=[Optional()])
    overdue = BooleanField("Overdue only")
    # Not validated: an unknown sort key falls back to the default (see apply_sort).
    sort = SelectField(
        "Sort", choices=select_choices(SORT_CHOICES), default="due_date", validate_choice=False
    )

    def set_choices(
        self,
        owners: Iterable[User],
        principles: Iterable[TQMPrinciple],
        processes: Iterable[Process],
        categories: Iterable[Category],
    ) -> None:
        self.owner_id.choices = select_choices(
            [(NO_CHOICE, "Anyone")] + [(str(user.id), user.full_name) for user in owners]
        )
        self.principle_id.choices = select_choices(
            [(NO_CHOICE, "Any")] + [(str(p.id), f"{p.id}. {p.name}") for p in principles]
        )
        self.process_id.choices = select_choices(
            [(NO_CHOICE, "Any")] + [(str(p.id), p.name) for p in processes]
        )
        self.category_id.choices = select_choices(
            [(NO_CHOICE, "Any")] + [(str(c.id), c.name) for c in categories]
        )

    def validate_due_to(self, field: DateField) -> None:
        if field.data and self.due_from.data and field.data < self.due_from.data:
            raise ValidationError("The end date is before the start date.")
