from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.core.forms import select_choices
from app.core.permissions import Role

ROLE_CHOICES = select_choices([(role.value, role.label) for role in Role])


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class NewUserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=12, max=128)],
        description="12 to 128 characters. Hand it over in person; the user can change it later.",
    )

    def validate_email(self, field: EmailField) -> None:
        # The same check the service makes, so a bad address is flagged with the other fields.
        from app.accounts.services import normalise_email
        from app.core.errors import ServiceError

        try:
            normalise_email(field.data or "")
        except ServiceError as error:
            raise ValidationError(error.message) from None


class EditUserForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    active = BooleanField("Active (may sign in)")
    version = HiddenField()
