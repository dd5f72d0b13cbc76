from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.core.forms import select_choices
from app.scheduler.registry import JobDefinition


class RunNowForm(FlaskForm):
    confirm = HiddenField(validators=[DataRequired("Press “Run now” to run the job.")])


def job_form_class(definition: JobDefinition) -> type[FlaskForm]:
    """A form for this job's schedule, switch and settings (one field per setting)."""

    class JobForm(FlaskForm):
        cron = StringField(
            "Schedule (cron, UTC)",
            validators=[DataRequired("Enter a schedule."), Length(max=120)],
        )
        enabled = BooleanField("On")

    for setting in definition.settings:
        field: Any
        if setting.choices:
            field = SelectField(
                setting.label,
                choices=select_choices(list(setting.choices)),
                description=setting.help,
            )
        else:
            field = IntegerField(
                setting.label,
                validators=[InputRequired(f"Enter {setting.label.lower()}.")],
                description=setting.help,
            )
        setattr(JobForm, setting.name, field)
    return JobForm
