from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.forms import select_choices
from app.scheduler.registry import JobDefinition


class RunNowForm(FlaskForm):
    confirm = HiddenField(validators=[DataRequired("Press “Run now” to run the job.")])


class HistoryReviewForm(FlaskForm):
    """Review a history: as of one day, or as of every week's end over a range."""

    review_from = DateField(
        "From (UTC)",
        validators=[Optional()],
        description="Leave empty to review as of one day only.",
    )
    review_to = DateField(
        "As of / to (UTC)",
        validators=[InputRequired("Give the day to review as of.")],
    )


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
