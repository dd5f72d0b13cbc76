"""Glue between services and WTForms that every domain's views share."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from app.core.errors import NotPermitted, ServiceError
from app.extensions import db


def refuse_if_not_permitted(error: ServiceError, *also: type[ServiceError]) -> None:
    """Answer 403 with the refusal's message (after undoing the change) when the user may not act
    at all: a `NotPermitted`, or one of the domain's own classes named in `also`."""
    if isinstance(error, (NotPermitted, *also)):
        db.session.rollback()
        abort(403, description=error.message)


def apply_service_error(form: FlaskForm, error: ServiceError) -> None:
    """Undo the refused change and show the service's message on its field (or above the form).

    The rollback means the page re-renders from the stored record, never from half-applied edits.
    """
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def select_choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def form_status(form: FlaskForm) -> int:
    """200 for a fresh form; 422 when a submitted form comes back with errors."""
    return 422 if form.is_submitted() else 200


class QuickSelect(Select):
    """WTForms' select widget, writing each plain option directly: the very same HTML
    (`<option [selected ]value="…">label</option>`), without formatting every attribute
    through `Markup.format`, which made the options most of a filter form's rendering."""

    @classmethod
    def render_option(cls, choice: SelectChoice, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')
