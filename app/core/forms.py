"""Glue between services and WTForms that every domain's views share."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, DateInput, Select, TextInput
from wtforms.widgets.core import clean_key

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


def quick_html_params(**kwargs: Any) -> Markup:
    """`wtforms.widgets.html_params`, to the character (keys sorted, `True` as a bare
    attribute, `False` left out, values escaped and `"` as `&quot;`), without formatting each
    attribute through `Markup.format`: that made most of a filter form's rendering time."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = str(escape(clean_key(key)))
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


class QuickTextInput(TextInput):
    """WTForms' text input with `quick_html_params`: the same HTML, cheaper."""

    html_params = staticmethod(quick_html_params)


class QuickDateInput(DateInput):
    """WTForms' date input with `quick_html_params`: the same HTML, cheaper."""

    html_params = staticmethod(quick_html_params)


class QuickCheckboxInput(CheckboxInput):
    """WTForms' checkbox with `quick_html_params`: the same HTML, cheaper."""

    html_params = staticmethod(quick_html_params)


class QuickSelect(Select):
    """WTForms' select widget, writing each plain option directly: the very same HTML
    (`<option [selected ]value="…">label</option>`), without formatting every attribute
    through `Markup.format`, which made the options most of a filter form's rendering; the
    `<select>` tag's own attributes by `quick_html_params`."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for key in dir(flags):
            if key in self.validation_attrs and key not in kwargs:
                kwargs[key] = getattr(flags, key)
        html = [f"<select {quick_html_params(name=field.name, **kwargs)}>"]
        html.extend(self.render_option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return Markup("".join(html))

    @classmethod
    def render_option(cls, choice: SelectChoice, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')
