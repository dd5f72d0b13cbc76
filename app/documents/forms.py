"""Forms for controlled documents and revisions; they parse input, app.documents.services rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.forms import select_choices
from app.core.permissions import ROLE_LABELS
from app.documents.models import DocumentType, RevisionStatus

TYPE_CHOICES = [(kind.value, kind.label) for kind in DocumentType]
ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class DocumentForm(FlaskForm):
    doc_type = SelectField("Type", choices=select_choices(TYPE_CHOICES), validate_choice=False)
    title = StringField("Title", validators=[Length(max=200)])
    # The services check the owner (an active user) and the type, with messages for each.
    owner_id = SelectField("Owner", choices=[], default="", validate_choice=False)
    process_ids = SelectMultipleField("Processes", choices=[], coerce=str)
    reader_roles = SelectMultipleField(
        "Roles that must read it",
        choices=select_choices(ROLE_CHOICES),
        description="Each effective revision asks these people (and the processes' owners) to "
        "confirm they read and understood it.",
    )
    review_interval_months = IntegerField(
        "Review interval (months)",
        default=12,
        validators=[Optional(), NumberRange(min=1, max=120)],
    )
    version = HiddenField()

    def set_choices(self, owners, processes) -> None:  # type: ignore[no-untyped-def]
        self.owner_id.choices = select_choices(
            [("", "— choose —"), *((str(user.id), user.full_name) for user in owners)]
        )
        self.process_ids.choices = select_choices([(str(p.id), p.name) for p in processes])


class NewDocumentForm(DocumentForm):
    change_reason = TextAreaField(
        "Change reason", default="New document", validators=[Length(max=2000)]
    )
    body_markdown = TextAreaField(
        "Text (Markdown)",
        description="Headings (#), lists, **bold**, tables. Raw HTML is shown as text.",
    )
    file = FileField("…or the document's file (PDF, DOCX, XLSX, …)")


class RevisionStartForm(FlaskForm):
    change_reason = TextAreaField("Why a new revision", validators=[Length(max=2000)])
    capa_reference = StringField("Caused by CAPA (optional)", validators=[Length(max=20)])


class DraftForm(FlaskForm):
    change_reason = TextAreaField("Change reason", validators=[Length(max=2000)])
    capa_reference = StringField("Caused by CAPA (optional)", validators=[Length(max=20)])
    body_markdown = TextAreaField("Text (Markdown)")
    file = FileField("Replace with a file (optional)")
    version = HiddenField()


class SignStepForm(FlaskForm):
    step = HiddenField()
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Re-enter your password to sign."), Length(max=1024)],
        description="Re-enter your password: it is your electronic signature.",
    )


class TransitionForm(FlaskForm):
    action = HiddenField()
    reason = StringField("Reason", validators=[Length(max=500)])


class ListFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    doc_type = SelectField("Type", choices=select_choices([("", "Any"), *TYPE_CHOICES]), default="")
    status = SelectField(
        "Has a revision",
        choices=select_choices([("", "Any"), *((s.value, s.label) for s in RevisionStatus)]),
        default="",
    )
    process_id = SelectField("Process", choices=[], default="")
    review_overdue = BooleanField("Review overdue")


class AsOfForm(FlaskForm):
    class Meta:
        csrf = False

    date = DateField("In force on", validators=[Optional()])
