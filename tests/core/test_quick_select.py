"""The Quick* widgets write the very same HTML as WTForms' own widgets, attribute by attribute."""

from __future__ import annotations

from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, Form, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, html_params

from app.core.forms import (
    QuickCheckboxInput,
    QuickDateInput,
    QuickSelect,
    QuickTextInput,
    quick_html_params,
    select_choices,
)

CHOICES = [
    ("", "Any"),
    ("1", "Billing & invoices"),
    ("2", 'The "quoted" <process>'),
    ("3", ""),  # no label: the value is shown
    ('a&b"c', "Odd value"),
]


class Plain(Form):
    choice = SelectField("Process", choices=select_choices(CHOICES))


class Quick(Form):
    choice = SelectField("Process", choices=select_choices(CHOICES), widget=QuickSelect())


def test_the_options_are_written_exactly_as_wtforms_writes_them() -> None:
    for data in ({}, {"choice": "2"}, {"choice": ""}, {"choice": "3"}):
        plain, quick = Plain(MultiDict(data)), Quick(MultiDict(data))
        rendered = quick.choice(class_="form-select", aria_describedby="choice-help")
        assert rendered == plain.choice(class_="form-select", aria_describedby="choice-help")
        if "choice" in data:
            assert f'<option selected value="{data["choice"]}">' in rendered
    assert "&lt;process&gt;" in Quick().choice() and "&#34;quoted&#34;" in Quick().choice()


STATUS = select_choices([("a", "A <b>"), ('q"', "Q")])


class PlainFields(Form):
    q = StringField("Search")
    day = DateField("Received from")
    overdue = BooleanField("Overdue only")
    status = SelectMultipleField("Status", choices=STATUS, option_widget=CheckboxInput())


class QuickFields(Form):
    q = StringField("Search", widget=QuickTextInput())
    day = DateField("Received from", widget=QuickDateInput())
    overdue = BooleanField("Overdue only", widget=QuickCheckboxInput())
    status = SelectMultipleField("Status", choices=STATUS, option_widget=QuickCheckboxInput())


def test_the_quick_inputs_are_written_exactly_as_wtforms_writes_them() -> None:
    odd = 'a "quoted" <value> & more'
    for data in (
        {},
        {"q": odd, "day": "2026-12-04", "overdue": "y", "status": ["a", 'q"']},
        {"q": "", "day": "not a date"},
    ):
        plain, quick = PlainFields(MultiDict(data)), QuickFields(MultiDict(data))
        plain.validate()
        quick.validate()
        for name in ("q", "day", "overdue"):
            options = {"class_": "form-control", "aria_describedby": f"{name}-help"}
            assert quick[name](**options) == plain[name](**options)
            assert quick[name](placeholder=odd, required=True, disabled=False) == plain[name](
                placeholder=odd, required=True, disabled=False
            )
        assert [str(option(class_="form-check-input")) for option in quick.status] == [
            str(option(class_="form-check-input")) for option in plain.status
        ]
    assert quick_html_params(data_x=Markup('say "hi"'), for_="x") == html_params(
        data_x=Markup('say "hi"'), for_="x"
    )
