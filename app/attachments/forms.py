from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField
from wtforms.validators import Length


class UploadForm(FlaskForm):
    files = MultipleFileField("Files")


class RemoveForm(FlaskForm):
    reason = StringField("Reason for removal", validators=[Length(max=500)])
