from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.core.audit import AuditAction
from app.core.forms import select_choices


class EventFilterForm(FlaskForm):
    """The audit log's filters. A GET form: no CSRF token, the filters live in the URL."""

    class Meta:
        csrf = False

    record_type = SelectField(
        "Record type", choices=select_choices([("", "Any")]), validators=[Optional()]
    )
    actor = StringField("Actor", validators=[Optional(), Length(max=200)])
    action = SelectField(
        "Action",
        choices=select_choices(
            [("", "Any")] + [(a.value, a.value.replace("_", " ")) for a in AuditAction]
        ),
        validators=[Optional()],
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
