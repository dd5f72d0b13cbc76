"""The import pages' forms. The mapping page's fields depend on the file's columns, so it is read
from the posted form by `definition_from_form` rather than declared as WTForms fields."""

from __future__ import annotations

import json
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.core.errors import ServiceError
from app.core.forms import select_choices
from app.intake.mapping import ENUM_FIELDS, FIELDS
from app.intake.models import ImportMode

# Fields chosen from one column on the mapping page; description takes several.
SINGLE_COLUMN_FIELDS = [name for name in FIELDS if name != "description"]


class UploadForm(FlaskForm):
    file = FileField("CSV or XLSX file")
    saved_mapping = SelectField("Saved mapping (optional)", choices=[], validate_choice=False)


class StartForm(FlaskForm):
    mode = RadioField(
        "If some rows are bad",
        choices=select_choices(
            [
                (
                    ImportMode.SKIP_BAD_ROWS.value,
                    "Skip bad rows: import the good ones, list the rest",
                ),
                (
                    ImportMode.ALL_OR_NOTHING.value,
                    "All or nothing: import only if every row is good",
                ),
            ]
        ),
        default=ImportMode.SKIP_BAD_ROWS.value,
        validators=[InputRequired(message="Choose what happens to bad rows.")],
    )


class MappingPageForm(FlaskForm):
    """CSRF only: the mapping fields are read by `definition_from_form`."""


class MappingFileForm(FlaskForm):
    """Load a mapping file (JSON, as in docs/mappings/) to fill in the mapping page."""

    mapping_file = FileField("Mapping file (JSON)")


class RenameMappingForm(FlaskForm):
    """Rename a saved mapping; `version` refuses a save over someone else's change."""

    name = StringField(
        "Name",
        validators=[DataRequired("Give the mapping a name."), Length(max=120)],
        description="Shown in the upload page's list of saved mappings.",
    )
    version = HiddenField()


class DeleteMappingForm(FlaskForm):
    """Delete a saved mapping: the version the page showed, so a changed mapping is not deleted
    unseen (an empty post is refused)."""

    version = HiddenField(validators=[DataRequired("Reload the page, then delete again.")])


def _value_map(text: str, label: str) -> dict[str, str]:
    mapped: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise ServiceError(
                f"{label} value map, line {number}: write “value in the file = Loop value”.",
                field="mapping",
            )
        source, target = (part.strip() for part in line.rsplit("=", 1))
        mapped[source] = target
    return mapped


def definition_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The mapping definition (docs/import.md) the mapping page's fields describe; the JSON box,
    when filled, is taken as it is."""
    raw_json = (form.get("mapping_json") or "").strip()
    if raw_json:
        try:
            return json.loads(raw_json)
        except json.JSONDecodeError as error:
            raise ServiceError(
                f"The mapping JSON is not valid: {error.msg} (line {error.lineno}).",
                field="mapping",
            ) from None
    fields: dict[str, Any] = {}
    for name in SINGLE_COLUMN_FIELDS:
        column = form.get(f"column-{name}", "")
        spec: dict[str, Any] = {"column": column} if column else {}
        if name in ENUM_FIELDS:
            fixed = form.get(f"fixed-{name}", "")
            if fixed:
                spec["column" if column else "value"] = column or fixed
                if column:
                    spec["default"] = fixed
            values = _value_map(form.get(f"values-{name}", ""), FIELDS[name])
            if values and spec:
                spec["values"] = values
        if name == "received_at" and column and form.get("time-column"):
            spec["time_column"] = form["time-column"]
        if name in ("customer", "process", "category") and column:
            spec["if_missing"] = form.get(f"{name}-if-missing") or "reject"
        if spec:
            fields[name] = spec
    description = [column for column in form.getlist("columns-description") if column]
    if description:
        fields["description"] = {"columns": description, "labelled": True}
    definition: dict[str, Any] = {
        "source_system": form.get("source_system", "").strip(),
        "date_formats": form.getlist("date_formats"),
        "fields": fields,
    }
    if form.get("prefer_date_format"):
        definition["prefer_date_format"] = form["prefer_date_format"]
    nulls = [item.strip() for item in form.get("null_values", "").split(",") if item.strip()]
    if nulls:
        definition["null_values"] = nulls
    filter_values = [line.strip() for line in form.get("filter-values", "").splitlines()]
    filter_values = [value for value in filter_values if value]
    if form.get("filter-column") and filter_values:
        operator = "not_in" if form.get("filter-operator") == "not_in" else "in"
        definition["filter"] = [
            {"column": form["filter-column"], operator: filter_values},
        ]
    if form.get("group_by"):
        definition["group_by"] = {
            "column": form["group_by"],
            "latest_by": form.get("latest_by") or None,
        }
    return definition


def form_state(definition: dict[str, Any] | None) -> dict[str, Any]:
    """What the mapping page's fields show for `definition` (a saved or suggested mapping)."""
    state: dict[str, Any] = {"columns": {}, "fixed": {}, "values": {}, "description": []}
    if not definition:
        return state
    for name, spec in (definition.get("fields") or {}).items():
        if isinstance(spec, str):
            spec = {"column": spec}
        if not isinstance(spec, dict):
            continue
        if name == "description":
            state["description"] = [c for c in (spec.get("columns") or [spec.get("column")]) if c]
            continue
        if spec.get("column"):
            state["columns"][name] = spec["column"]
        if spec.get("value") or spec.get("default"):
            state["fixed"][name] = spec.get("value") or spec.get("default")
        if spec.get("values"):
            state["values"][name] = "\n".join(
                f"{source} = {target}" for source, target in spec["values"].items()
            )
        if name == "received_at" and spec.get("time_column"):
            state["time_column"] = spec["time_column"]
        if name in ("customer", "process", "category"):
            state[f"{name}_if_missing"] = spec.get("if_missing", "reject")
    state["source_system"] = definition.get("source_system", "")
    state["date_formats"] = list(definition.get("date_formats") or [])
    state["prefer_date_format"] = definition.get("prefer_date_format") or ""
    state["null_values"] = ", ".join(definition.get("null_values") or [])
    conditions = definition.get("filter") or []
    conditions = conditions if isinstance(conditions, list) else [conditions]
    first = conditions[0] if conditions and isinstance(conditions[0], dict) else {}
    values = (
        first.get("in") or first.get("not_in") or ([first["equals"]] if "equals" in first else [])
    )
    state["filter_column"] = first.get("column", "")
    state["filter_operator"] = "not_in" if "not_in" in first else "in"
    state["filter_values"] = "\n".join(str(value) for value in values)
    group = definition.get("group_by") or {}
    if isinstance(group, str):
        group = {"column": group}
    state["group_by"] = group.get("column", "")
    state["latest_by"] = group.get("latest_by") or ""
    return state


def needs_json(definition: dict[str, Any] | None) -> bool:
    """Whether `definition` uses what the page's fields cannot show (templates, patterns, joined
    titles): then it is edited in the JSON box."""
    if not definition:
        return False
    for name, spec in (definition.get("fields") or {}).items():
        if isinstance(spec, str):
            continue
        if not isinstance(spec, dict):
            return True
        if spec.get("template") or spec.get("pattern"):
            return True
        if spec.get("columns") and name != "description":
            return True
        if spec.get("value") and name not in ENUM_FIELDS:
            return True
    conditions = definition.get("filter") or []
    # The page's fields show one condition.
    return isinstance(conditions, dict) or len(conditions) > 1
