"""Forms of the Reports page. GET forms: no CSRF token, the choices live in the URL."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

REFERENCE_MAX_LENGTH = 40


class RecordReportForm(FlaskForm):
    """Pick a complaint, nonconformity or CAPA by reference and a report of it."""

    class Meta:
        csrf = False

    record = StringField(
        "Reference",
        validators=[Length(max=REFERENCE_MAX_LENGTH)],
        description="CMP-… (recovery report), NC-… (8D report) or CAPA-… (CAPA report)",
    )


class AuditExtractForm(FlaskForm):
    """One record (by reference, or by record type and id as the audit log shows them) and/or a
    period of whole UTC days."""

    class Meta:
        csrf = False

    reference = StringField(
        "Record reference",
        validators=[Optional(), Length(max=REFERENCE_MAX_LENGTH)],
        description="A complaint, nonconformity or CAPA; leave empty for every record.",
    )
    record_type = StringField("Record type", validators=[Optional(), Length(max=80)])
    record_id = StringField("Record id", validators=[Optional(), Length(max=80)])
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


class QualityReviewForm(FlaskForm):
    """The period of a quality review pack: whole UTC days, both included."""

    class Meta:
        csrf = False

    # Own ids: the audit-trail extract's form on the same page has fields of the same names.
    date_from = DateField(
        "From (UTC)",
        validators=[InputRequired(message="Give the first day of the period.")],
        id="review_date_from",
    )
    date_to = DateField(
        "To (UTC)",
        validators=[InputRequired(message="Give the last day of the period.")],
        id="review_date_to",
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


def described_filters(form: FlaskForm, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The filled-in fields of a validated filter form as (label, value) in words, for the
    report's "Filters used": a select shows its option's label, a checkbox "yes"."""
    described = []
    field: Field
    for field in form:
        if field.name in skip or field.data in (None, "", False):
            continue
        if isinstance(field, SelectField):
            labels = {str(choice[0]): str(choice[1]) for choice in field.iter_choices()}
            value = labels.get(str(field.data), str(field.data))
        elif isinstance(field, BooleanField):
            value = "yes"
        elif isinstance(field, DateField):
            value = field.data.isoformat()
        else:
            value = str(field.data).strip()
        described.append((str(field.label.text), value))
    return described
