"""Reading rendered pages the way a user sees them."""

from __future__ import annotations

import re
from html import unescape


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def field_tag(page: str, field_id: str) -> str:
    """The opening tag of the input, select or textarea with this id."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{field_id}"[^>]*>', page)
    assert match, f"no field with id {field_id!r} on the page"
    return match[0]


def is_marked_invalid(page: str, field_id: str) -> bool:
    return "is-invalid" in field_tag(page, field_id)


def options_of(page: str, select_name: str) -> list[str]:
    """The visible labels of a <select>'s options, in order."""
    match = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select named {select_name}"
    return [label.strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", match[1])]
