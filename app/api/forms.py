from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from app.api.tokens import SCOPES


class NewTokenForm(FlaskForm):
    name = StringField(
        "Integration",
        validators=[DataRequired(), Length(max=80)],
        description="The system that will use the token, such as Zendesk or Web form. It is the "
        "actor in the audit trail (api:<name>).",
    )
    scope_read = BooleanField("read", description=SCOPES["read"])
    scope_intake = BooleanField("intake", description=SCOPES["intake"])
    scope_write = BooleanField("write", description=SCOPES["write"])
    scope_metrics = BooleanField("metrics", description=SCOPES["metrics"])

    def chosen_scopes(self) -> list[str]:
        return [name for name in SCOPES if getattr(self, f"scope_{name}").data]
