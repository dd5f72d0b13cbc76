"""Forms for the supplier register, SCARs and the supplier's response page. They parse input;
the services hold the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.core.forms import select_choices
from app.suppliers.models import SupplierStatus
from app.suppliers.scar import ANSWER_MAX_LENGTH, PROBLEM_MAX_LENGTH
from app.suppliers.services import NAME_MAX_LENGTH, REASON_MAX_LENGTH, TEXT_MAX_LENGTH


class SupplierForm(FlaskForm):
    version = HiddenField()
    name = StringField(
        "Name",
        validators=[InputRequired(message="The name is required."), Length(max=NAME_MAX_LENGTH)],
    )
    contact_name = StringField("Contact name", validators=[Length(max=NAME_MAX_LENGTH)])
    contact_email = StringField(
        "Contact e-mail",
        validators=[Length(max=254)],
        description="Corrective action requests are sent here.",
    )
    supplies = TextAreaField(
        "What they supply", validators=[Length(max=TEXT_MAX_LENGTH)], render_kw={"rows": 3}
    )
    process_ids = SelectMultipleField("Processes they supply", coerce=int, validate_choice=False)
    status = SelectField(
        "Approval status",
        choices=select_choices([(status.value, status.label) for status in SupplierStatus]),
        default=SupplierStatus.APPROVED.value,
    )
    status_reason = TextAreaField(
        "Reason for the status",
        validators=[Length(max=REASON_MAX_LENGTH)],
        description="Required unless approved.",
        render_kw={"rows": 2},
    )


class StatusForm(FlaskForm):
    version = HiddenField()
    transition = HiddenField(validators=[InputRequired(message="Choose a status.")])
    reason = TextAreaField(
        "Reason",
        validators=[InputRequired(message="A reason is required."), Length(max=REASON_MAX_LENGTH)],
        render_kw={"rows": 2},
    )


class AttributionForm(FlaskForm):
    kind = SelectField(
        "Record",
        choices=select_choices([("nonconformity", "Nonconformity"), ("complaint", "Complaint")]),
    )
    reference = StringField(
        "Reference",
        validators=[InputRequired(message="A reference is required."), Length(max=20)],
        render_kw={"placeholder": "NC-2026-000001"},
    )


class RemoveAttributionForm(FlaskForm):
    kind = HiddenField(validators=[InputRequired()])
    reference = HiddenField(validators=[InputRequired()])


class ScarForm(FlaskForm):
    nonconformity = SelectField("Nonconformity", validate_choice=False)
    problem = TextAreaField(
        "The problem, as the supplier will read it",
        validators=[
            InputRequired(message="The problem description is required."),
            Length(max=PROBLEM_MAX_LENGTH),
        ],
        description="The supplier sees this and nothing else of our records.",
        render_kw={"rows": 5},
    )
    due_date = DateField(
        "Answer due", validators=[InputRequired(message="The response due date is required.")]
    )
    owner_id = SelectField("Owner", coerce=int, validate_choice=False)


class ReviewForm(FlaskForm):
    version = HiddenField()
    decision = SelectField(
        "Decision",
        choices=select_choices(
            [("accept", "Accept the answer"), ("return", "Return to the supplier")]
        ),
    )
    comments = TextAreaField(
        "Comments for the supplier",
        validators=[Length(max=ANSWER_MAX_LENGTH)],
        description="Required when you return the answer.",
        render_kw={"rows": 3},
    )
    capa_due_date = DateField("CAPA due", validators=[Optional()])
    principle_ids = SelectMultipleField("TQM principles", coerce=int, validate_choice=False)
    due_date = DateField(
        "New answer due date (when returned)",
        validators=[Optional()],
        description="Leave empty to keep the due date.",
    )


class LinkForm(FlaskForm):
    action = SelectField(
        "Link", choices=select_choices([("resend", "Send a new link"), ("revoke", "Revoke")])
    )


class CancelForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(
        "Reason",
        validators=[InputRequired(message="A reason is required."), Length(max=REASON_MAX_LENGTH)],
        render_kw={"rows": 2},
    )


def _answer_field(label: str, help_text: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            InputRequired(message=f"{label} is required."),
            Length(max=ANSWER_MAX_LENGTH),
        ],
        description=help_text,
        render_kw={"rows": 4},
    )


class SupplierAnswerForm(FlaskForm):
    answered_by = StringField(
        "Your name",
        validators=[InputRequired(message="Your name is required."), Length(max=200)],
    )
    containment = _answer_field(
        "Containment", "D3: what you did at once to protect us from the problem."
    )
    root_cause = _answer_field("Root cause", "D4: why it happened, and why it was not detected.")
    corrective_action = _answer_field(
        "Corrective action", "D5–D6: what you change so that it cannot happen again, and when."
    )
    verification = _answer_field("Verification", "D6–D7: how you checked that the action works.")
    files = MultipleFileField(
        "Evidence (optional)",
        description="Photos, test reports, a revised control plan: PDF, images, office files.",
    )
