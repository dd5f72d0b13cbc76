"""QuickSelect writes the very same select as WTForms' own widget, option by option."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField

from app.core.forms import QuickSelect, select_choices

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
