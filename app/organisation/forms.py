"""Forms for sites, processes and customers. They parse input; the services hold the rules."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.accounts.models import User
from app.organisation.models import CustomerSegment, Site

NO_CHOICE = ""
SEGMENT_CHOICES = [SelectChoice(segment.value, segment.label) for segment in CustomerSegment]


def optional_id(value: str | None) -> int | None:
    """A select's value as a record id, or None for "— none —" (the choices were validated)."""
    return int(value) if value and value.isdigit() else None


class SiteForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=20)],
        description="A short code such as LON; stored in capitals.",
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    address = TextAreaField("Address", validators=[Length(max=2000)])
    active = BooleanField("Active (can be chosen for processes)", default=True)


class EditSiteForm(SiteForm):
    version = HiddenField()


class ProcessForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    owner_id = SelectField(
        "Owner",
        default=NO_CHOICE,
        description="The person who answers for this process's performance.",
    )
    site_id = SelectField("Site", default=NO_CHOICE)
    active = BooleanField("Active", default=True)

    def set_choices(self, owners: Iterable[User], sites: Iterable[Site]) -> None:
        """Fill the selects; deactivated entries appear only when the record already uses them."""
        self.owner_id.choices = [
            SelectChoice(NO_CHOICE, "— none —"),
            *(
                SelectChoice(
                    str(user.id),
                    user.full_name if user.active else f"{user.full_name} (deactivated)",
                )
                for user in owners
            ),
        ]
        self.site_id.choices = [
            SelectChoice(NO_CHOICE, "— none —"),
            *(
                SelectChoice(str(site.id), site.name if site.active else f"{site.name} (inactive)")
                for site in sites
            ),
        ]


class EditProcessForm(ProcessForm):
    version = HiddenField()


class CustomerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    segment = SelectField("Segment", choices=SEGMENT_CHOICES, validators=[DataRequired()])
    annual_value = DecimalField(
        "Annual value",
        places=2,
        default=Decimal("0.00"),
        validators=[InputRequired()],
        description="What the customer spends with us in a year; 0 or more.",
    )
    customer_since = DateField(
        "Customer since", validators=[Optional()], description="Leave empty if not known."
    )
    active = BooleanField("Active", default=True)


class EditCustomerForm(CustomerForm):
    version = HiddenField()


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(
        "Description",
        validators=[Length(max=2000)],
        description="What belongs in this category, so everyone files failures the same way.",
    )
    active = BooleanField("Active (can be chosen for new records)", default=True)


class EditCategoryForm(CategoryForm):
    version = HiddenField()


class CustomerFilterForm(FlaskForm):
    """The customer list's filters. A GET form: no CSRF token, the filters live in the URL."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("active", "Active"),
            SelectChoice("inactive", "Inactive"),
        ],
        validators=[Optional()],
    )
