"""Column mappings: which file columns fill which complaint fields, how values translate, and how
dates are read. The JSON format is documented in docs/import.md; `parse_mapping` checks a
definition against a file's columns and `RowReader` turns one file row into complaint values.

Dates are read row by row: every accepted format is tried on each value, and a value that exactly
one format reads (or that all formats read the same way) is taken. A value two formats read
differently (03/04/2015: March or April?) is ambiguous: the preferred format decides when one is
chosen, otherwise the row is rejected with both readings named. ISO 8601 (2015-04-08 or
2015-04-08T15:53:50, which is how XLSX date cells arrive) is always accepted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.complaints.models import Channel, ComplaintStatus, Severity
from app.core.errors import ServiceError

# The complaint fields a mapping may fill, in the order the mapping page shows them.
FIELDS: dict[str, str] = {
    "external_id": "External id (ticket number)",
    "title": "Title",
    "description": "Description",
    "received_at": "Received at",
    "channel": "Channel",
    "severity": "Severity",
    "status": "Status",
    "customer": "Customer",
    "process": "Process",
    "category": "Category",
    "product_or_service": "Product or service",
    "first_response_at": "First response at",
    "resolved_at": "Resolved at",
    "closed_at": "Closed at",
    "timely_response": "Timely response (yes/no)",
    "disputed": "Disputed by the customer (yes/no)",
    "public_response": "Company's public response",
    "region": "Customer's region (state)",
    "tags": "Tags (the source's labels)",
    "company_response": "Company's response to the customer",
}
REQUIRED_FIELDS = ("title", "channel", "severity")
DATE_FIELDS = ("received_at", "first_response_at", "resolved_at", "closed_at")
ENUM_FIELDS: dict[str, Any] = {
    "channel": Channel,
    "severity": Severity,
    "status": ComplaintStatus,
}
LOOKUP_FIELDS = ("customer", "process", "category")
# Yes/no outcomes: a value reads as "yes", "no" or "unknown" (stored NULL); any other value is a row
# error unless the mapping's value map translates it.
FLAG_FIELDS = ("timely_response", "disputed")
FLAG_VALUES = ("yes", "no", "unknown")
_FLAG_WORDS = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "1": "yes",
    "disputed": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "0": "no",
    "not disputed": "no",
    "unknown": "unknown",
    "n/a": "unknown",
    "na": "unknown",
}
IF_MISSING = ("reject", "leave_empty", "create")
# Row filter operators: a row is imported only when every condition holds (matched ignoring case
# and surrounding spaces, like value maps).
FILTER_OPERATORS = ("equals", "in", "not_in")
SOURCE_KEYS = ("column", "columns", "template", "value")

# Formats the date detection tries, most common first (the order breaks ties).
CANDIDATE_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%y",
    "%m-%d-%Y",
    "%m-%d-%y",
    "%y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y-%m-%d %H:%M:%S %z",
)
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I:%M:%S%p", "%I:%M%p")
_ISO = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?)?")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class RowError(Exception):
    """A row cannot become a complaint; the message says why in the user's terms."""


def describe_format(pattern: str) -> str:
    """A strftime pattern as people write it: %d-%m-%y → DD-MM-YY."""
    words = {
        "%d": "DD",
        "%m": "MM",
        "%Y": "YYYY",
        "%y": "YY",
        "%H": "hh",
        "%I": "hh",
        "%M": "mm",
        "%S": "ss",
        "%b": "Mon",
        "%p": "AM/PM",
    }
    for code, word in words.items():
        pattern = pattern.replace(code, word)
    return pattern


@dataclass(frozen=True)
class FieldSpec:
    """Where one complaint field's text comes from, and how it is translated."""

    name: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    separator: str = " / "
    labelled: bool = False
    template: str | None = None
    value: str | None = None
    default: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    pattern: str | None = None
    time_column: str | None = None
    if_missing: str = "reject"

    def used_columns(self) -> set[str]:
        used = set(self.columns)
        if self.column:
            used.add(self.column)
        if self.time_column:
            used.add(self.time_column)
        if self.template:
            used.update(_PLACEHOLDER.findall(self.template))
        return used

    def as_json(self) -> dict[str, Any] | str:
        if self.column and not any(
            [self.default, self.values, self.pattern, self.time_column, self.if_missing != "reject"]
        ):
            return self.column
        data: dict[str, Any] = {}
        for key in ("column", "template", "value", "default", "pattern", "time_column"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.columns:
            data["columns"] = list(self.columns)
            if self.separator != " / ":
                data["separator"] = self.separator
            if self.labelled:
                data["labelled"] = True
        if self.values:
            data["values"] = dict(self.values)
        if self.if_missing != "reject":
            data["if_missing"] = self.if_missing
        return data


@dataclass(frozen=True)
class GroupBy:
    column: str
    latest_by: str | None = None


@dataclass(frozen=True)
class RowFilter:
    """One condition of a row filter: `column` equals one of `values` (`in`, `equals`) or none
    of them (`not_in`), ignoring case and surrounding spaces; an empty cell is the empty text."""

    column: str
    operator: str
    values: tuple[str, ...]

    def keeps(self, row: dict[str, str], nulls: frozenset[str] = frozenset()) -> bool:
        cell = (row.get(self.column) or "").strip()
        if cell in nulls:
            cell = ""
        hit = cell.casefold() in {value.strip().casefold() for value in self.values}
        return not hit if self.operator == "not_in" else hit

    def as_json(self) -> dict[str, Any]:
        if self.operator == "equals":
            return {"column": self.column, "equals": self.values[0]}
        return {"column": self.column, self.operator: list(self.values)}

    def describe(self) -> str:
        shown = ", ".join(f"“{value}”" for value in self.values)
        if self.operator == "not_in":
            return f"{self.column} is none of {shown}"
        if len(self.values) == 1:
            return f"{self.column} is {shown}"
        return f"{self.column} is one of {shown}"


def _row_filters(raw: Any) -> tuple[RowFilter, ...]:
    if raw in (None, [], {}):
        return ()
    conditions = raw if isinstance(raw, list) else [raw]
    filters = []
    for condition in conditions:
        if not isinstance(condition, dict) or not isinstance(condition.get("column"), str):
            raise _problem(
                "“filter” needs a “column” and one of equals, in, not_in "
                '(e.g. {"column": "airline_sentiment", "equals": "negative"}).'
            )
        operators = [key for key in FILTER_OPERATORS if key in condition]
        unknown = set(condition) - {"column", *FILTER_OPERATORS}
        if unknown or len(operators) != 1:
            raise _problem(
                f"the filter on “{condition['column']}” needs exactly one of "
                f"{', '.join(FILTER_OPERATORS)}."
            )
        operator = operators[0]
        values = condition[operator]
        if operator == "equals":
            values = [values]
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(value, str | int | float) for value in values)
        ):
            raise _problem(f"the filter on “{condition['column']}” needs values to compare with.")
        filters.append(RowFilter(condition["column"], operator, tuple(str(v) for v in values)))
    return tuple(filters)


@dataclass(frozen=True)
class Mapping:
    fields: dict[str, FieldSpec]
    source_system: str | None = None
    null_values: frozenset[str] = frozenset()
    date_formats: tuple[str, ...] = ()
    prefer_date_format: str | None = None
    timezone: str = "UTC"
    group_by: GroupBy | None = None
    name: str = ""
    filters: tuple[RowFilter, ...] = ()

    def keeps(self, row: dict[str, str]) -> bool:
        """Whether the row passes every condition of the mapping's row filter."""
        return all(condition.keeps(row, self.null_values) for condition in self.filters)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.name:
            data["name"] = self.name
        if self.source_system:
            data["source_system"] = self.source_system
        if self.null_values:
            data["null_values"] = sorted(self.null_values)
        if self.date_formats:
            data["date_formats"] = list(self.date_formats)
        if self.prefer_date_format:
            data["prefer_date_format"] = self.prefer_date_format
        if self.timezone != "UTC":
            data["timezone"] = self.timezone
        if self.group_by:
            data["group_by"] = {"column": self.group_by.column}
            if self.group_by.latest_by:
                data["group_by"]["latest_by"] = self.group_by.latest_by
        if self.filters:
            data["filter"] = [condition.as_json() for condition in self.filters]
        data["fields"] = {name: spec.as_json() for name, spec in self.fields.items()}
        return data


def _problem(message: str) -> ServiceError:
    return ServiceError(f"The mapping is not usable: {message}", field="mapping")


def _text_or_none(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _problem(f"{where} must be text.")
    return str(value)


def _field_spec(name: str, raw: Any) -> FieldSpec:
    label = FIELDS[name]
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise _problem(f"{label}: give a column name or an object (see docs/import.md).")
    unknown = set(raw) - {
        "column",
        "columns",
        "separator",
        "labelled",
        "template",
        "value",
        "default",
        "values",
        "pattern",
        "time_column",
        "if_missing",
    }
    if unknown:
        raise _problem(f"{label}: unknown key(s) {', '.join(sorted(unknown))}.")
    sources = [key for key in SOURCE_KEYS if raw.get(key) not in (None, "", [])]
    if len(sources) > 1:
        raise _problem(f"{label}: use only one of {', '.join(sources)}.")
    if not sources and raw.get("default") in (None, ""):
        raise _problem(f"{label}: name a column (or columns, a template or a fixed value).")
    columns = raw.get("columns") or []
    if not isinstance(columns, list) or not all(isinstance(item, str) for item in columns):
        raise _problem(f"{label}: “columns” must be a list of column names.")
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        raise _problem(f"{label}: “values” must map file values to Loop values.")
    if name in ENUM_FIELDS:
        allowed = {member.value for member in ENUM_FIELDS[name]}
        for source, target in values.items():
            if str(target) not in allowed:
                raise _problem(
                    f"{label}: “{source}” maps to “{target}”, which is not one of "
                    f"{', '.join(sorted(allowed))}."
                )
        for key in ("value", "default"):
            fixed = raw.get(key)
            if fixed not in (None, "") and _enum_value(ENUM_FIELDS[name], str(fixed)) is None:
                raise _problem(f"{label}: the {key} “{fixed}” is not one of {', '.join(allowed)}.")
    if name in FLAG_FIELDS:
        for source, target in values.items():
            if flag_value(str(target)) is None:
                raise _problem(
                    f"{label}: “{source}” maps to “{target}”, which is not one of "
                    f"{', '.join(FLAG_VALUES)}."
                )
    pattern = _text_or_none(raw.get("pattern"), f"{label} pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise _problem(
                f"{label}: the pattern is not a valid regular expression ({error})."
            ) from None
    if_missing = raw.get("if_missing", "reject")
    if if_missing not in IF_MISSING or (if_missing != "reject" and name not in LOOKUP_FIELDS):
        raise _problem(
            f"{label}: “if_missing” applies to customer, process and category, and is one of "
            f"{', '.join(IF_MISSING)}."
        )
    if raw.get("time_column") and name not in DATE_FIELDS:
        raise _problem(f"{label}: “time_column” applies to date fields only.")
    return FieldSpec(
        name=name,
        column=_text_or_none(raw.get("column"), f"{label} column") or None,
        columns=tuple(columns),
        separator=str(raw.get("separator", " / ")),
        labelled=bool(raw.get("labelled", False)),
        template=_text_or_none(raw.get("template"), f"{label} template") or None,
        value=_text_or_none(raw.get("value"), f"{label} value") or None,
        default=_text_or_none(raw.get("default"), f"{label} default") or None,
        values={str(key).strip(): str(target) for key, target in values.items()},
        pattern=pattern,
        time_column=_text_or_none(raw.get("time_column"), f"{label} time column") or None,
        if_missing=if_missing,
    )


def parse_mapping(definition: Any, columns: Iterable[str] | None = None) -> Mapping:
    """A checked `Mapping` from its JSON definition; with `columns`, every column it names must
    be in the file. Raises ServiceError (field "mapping") naming the first problem."""
    if not isinstance(definition, dict):
        raise _problem("it must be a JSON object with a “fields” object.")
    raw_fields = definition.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise _problem("it has no “fields”.")
    unknown = set(raw_fields) - set(FIELDS)
    if unknown:
        raise _problem(
            f"unknown field(s) {', '.join(sorted(unknown))}; the fields are {', '.join(FIELDS)}."
        )
    fields = {name: _field_spec(name, raw) for name, raw in raw_fields.items() if raw}
    missing = [FIELDS[name] for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        raise _problem(f"map {', '.join(missing)} (a column or a fixed value).")
    source_system = _text_or_none(definition.get("source_system"), "source_system")
    source_system = (source_system or "").strip() or None
    if "external_id" in fields and not source_system:
        raise _problem("an external id needs a “source_system” naming where the rows come from.")
    if source_system and len(source_system) > 60:
        raise _problem("“source_system” may have at most 60 characters.")
    formats = definition.get("date_formats") or []
    if not isinstance(formats, list) or not all(isinstance(item, str) for item in formats):
        raise _problem("“date_formats” must be a list of formats such as %d-%m-%y.")
    for pattern in formats:
        if "%" not in pattern:
            raise _problem(f"the date format “{pattern}” has no % codes (e.g. %d-%m-%Y).")
    prefer = _text_or_none(definition.get("prefer_date_format"), "prefer_date_format") or None
    if prefer and prefer not in formats:
        formats = [prefer, *formats]
    timezone = str(definition.get("timezone") or "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _problem(
            f"unknown time zone “{timezone}” (use a name such as Europe/Berlin)."
        ) from None
    group_by = None
    raw_group = definition.get("group_by")
    if raw_group:
        if isinstance(raw_group, str):
            raw_group = {"column": raw_group}
        if not isinstance(raw_group, dict) or not raw_group.get("column"):
            raise _problem("“group_by” needs a “column” (e.g. the incident number).")
        group_by = GroupBy(str(raw_group["column"]), raw_group.get("latest_by") or None)
    null_values = definition.get("null_values") or []
    if not isinstance(null_values, list):
        raise _problem('“null_values” must be a list such as ["?", "N/A"].')
    mapping = Mapping(
        fields=fields,
        source_system=source_system,
        null_values=frozenset(str(item).strip() for item in null_values),
        date_formats=tuple(formats),
        prefer_date_format=prefer,
        timezone=timezone,
        group_by=group_by,
        name=str(definition.get("name") or "")[:120],
        filters=_row_filters(definition.get("filter")),
    )
    if columns is not None:
        known = set(columns)
        used = set().union(*(spec.used_columns() for spec in fields.values()))
        if group_by:
            used.add(group_by.column)
            if group_by.latest_by:
                used.add(group_by.latest_by)
        used.update(condition.column for condition in mapping.filters)
        absent = sorted(used - known)
        if absent:
            raise _problem(f"the file has no column {', '.join(f'“{c}”' for c in absent)}.")
    return mapping


def _enum_value(enum_class: Any, text: str) -> Any:
    key = text.strip().casefold()
    for member in enum_class:
        if key in (member.value, member.label.casefold(), member.value.replace("_", " ")):
            return member
    return None


def flag_value(text: str) -> str | None:
    """ "yes", "no" or "unknown" for a yes/no outcome as files write it (Yes, N, TRUE, N/A,
    Disputed …); None when the text is none of them."""
    return _FLAG_WORDS.get(text.strip().casefold())


# --- reading rows ------------------------------------------------------------------------------


def parse_datetime(
    text: str, formats: Iterable[str], prefer: str | None, zone: ZoneInfo | None = None
) -> datetime:
    """Read `text` with every format; raise RowError when none or (without `prefer`) several
    formats read it, differently."""
    text = text.strip()
    readings: dict[str, datetime] = {}
    if _ISO.fullmatch(text):
        with contextlib.suppress(ValueError):
            readings["ISO 8601"] = datetime.fromisoformat(text)
    for pattern in formats:
        try:
            readings[pattern] = datetime.strptime(text, pattern)
        except ValueError:
            continue
    distinct = set(readings.values())
    if not distinct:
        accepted = ", ".join(describe_format(p) for p in formats) or "ISO 8601 only"
        raise RowError(f"“{text}” is not a date in the accepted formats ({accepted}).")
    if len(distinct) > 1:
        if prefer and prefer in readings:
            value = readings[prefer]
        else:
            options = " or ".join(
                f"{value:%Y-%m-%d %H:%M} ({describe_format(pattern)})"
                for pattern, value in readings.items()
            )
            raise RowError(f"“{text}” is ambiguous: {options}; choose the date format to prefer.")
    else:
        value = distinct.pop()
    if value.tzinfo is not None:  # the value names its own offset (2015-02-24 11:35:52 -0800)
        return value.astimezone(UTC)
    return value.replace(tzinfo=zone or UTC).astimezone(UTC)


def _apply_time(value: datetime, text: str, zone: ZoneInfo) -> datetime:
    text = text.strip()
    if not text:
        return value
    for pattern in TIME_FORMATS:
        try:
            parsed = datetime.strptime(text.upper(), pattern).time()
        except ValueError:
            continue
        local = value.astimezone(zone).replace(
            hour=parsed.hour, minute=parsed.minute, second=parsed.second
        )
        return local.astimezone(UTC)
    raise RowError(f"“{text}” is not a time of day (such as 15:53, 15:53:50 or 3:53:50 PM).")


@dataclass
class RowValues:
    """One row translated to complaint values (not yet checked against the database)."""

    number: int
    text: dict[str, str]
    dates: dict[str, datetime]


class RowReader:
    """Turns file rows into complaint values with one mapping."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.zone = ZoneInfo(mapping.timezone)
        # Value maps match ignoring case and surrounding spaces.
        self.value_maps = {
            name: {source.casefold(): target for source, target in spec.values.items()}
            for name, spec in mapping.fields.items()
        }
        self.patterns = {
            name: re.compile(spec.pattern)
            for name, spec in mapping.fields.items()
            if spec.pattern is not None
        }

    def clean(self, row: dict[str, str]) -> dict[str, str]:
        nulls = self.mapping.null_values
        return {key: ("" if value.strip() in nulls else value) for key, value in row.items()}

    def raw(self, spec: FieldSpec, row: dict[str, str]) -> str:
        if spec.value is not None:
            text = spec.value
        elif spec.column is not None:
            text = row.get(spec.column, "")
        elif spec.columns:
            parts = [(column, row.get(column, "").strip()) for column in spec.columns]
            if spec.labelled:
                text = "\n".join(f"{column}: {value}" for column, value in parts if value)
            else:
                text = spec.separator.join(value for _, value in parts if value)
        elif spec.template is not None:
            text = _PLACEHOLDER.sub(lambda match: row.get(match.group(1), ""), spec.template)
            # An empty last placeholder leaves its separator dangling: "Category 9 / Sub 3:".
            text = text.strip().rstrip(":/-,;").strip()
        else:
            text = ""
        text = text.strip()
        if not text and spec.default is not None:
            text = spec.default
        if spec.values and text:
            text = self.value_maps[spec.name].get(text.casefold(), text)
        return text

    def read(self, number: int, row: dict[str, str]) -> RowValues:
        row = self.clean(row)
        text: dict[str, str] = {}
        dates: dict[str, datetime] = {}
        for name, spec in self.mapping.fields.items():
            value = self.raw(spec, row)
            label = FIELDS[name]
            if name in self.patterns and value and not self.patterns[name].fullmatch(value):
                raise RowError(f"{label} “{value}” does not match the pattern {spec.pattern}.")
            if name in DATE_FIELDS:
                if value:
                    try:
                        moment = parse_datetime(
                            value,
                            self.mapping.date_formats,
                            self.mapping.prefer_date_format,
                            self.zone,
                        )
                        if spec.time_column:
                            moment = _apply_time(moment, row.get(spec.time_column, ""), self.zone)
                    except RowError as error:
                        raise RowError(f"{label}: {error}") from None
                    dates[name] = moment
                continue
            if name in ENUM_FIELDS and value:
                member = _enum_value(ENUM_FIELDS[name], value)
                if member is None:
                    options = ", ".join(member.value for member in ENUM_FIELDS[name])
                    raise RowError(
                        f"{label} “{value}” is not known; map it to one of {options} "
                        "in the mapping's value map."
                    )
                value = member.value
            if name in FLAG_FIELDS and value:
                flag = flag_value(value)
                if flag is None:
                    raise RowError(
                        f"{label} “{value}” is not known; it must read yes, no or unknown "
                        "(or map it to one of those in the mapping's value map)."
                    )
                value = "" if flag == "unknown" else flag
            text[name] = value
        return RowValues(number, text, dates)


# --- detection (suggestions for the mapping page) -----------------------------------------------


@dataclass(frozen=True)
class FormatCandidate:
    pattern: str
    matches: int

    @property
    def description(self) -> str:
        return describe_format(self.pattern)


def detect_date_formats(values: Iterable[str]) -> tuple[list[FormatCandidate], list[str]]:
    """The candidate formats that read at least one of `values` (with how many each reads) and a
    suggested set: the fewest formats that together read the most values."""
    sample = [value.strip() for value in values if value and value.strip()]
    readers: dict[str, set[int]] = {}
    for pattern in CANDIDATE_DATE_FORMATS:
        hits = set()
        for index, value in enumerate(sample):
            try:
                datetime.strptime(value, pattern)
            except ValueError:
                continue
            hits.add(index)
        if hits:
            readers[pattern] = hits
    candidates = sorted(
        (FormatCandidate(pattern, len(hits)) for pattern, hits in readers.items()),
        key=lambda item: (-item.matches, CANDIDATE_DATE_FORMATS.index(item.pattern)),
    )
    suggested: list[str] = []
    left = set(range(len(sample)))
    while left:
        best = max(
            readers.items(),
            key=lambda item: (len(item[1] & left), -CANDIDATE_DATE_FORMATS.index(item[0])),
            default=None,
        )
        if best is None or not best[1] & left:
            break
        suggested.append(best[0])
        left -= best[1]
    return candidates, suggested


def _names_word(column: str, word: str) -> bool:
    """Whether `word` is a whole word of the column name: "id" is in "Complaint ID" and
    "caller_id" but not in "Consumer consent provided?"."""
    pattern = rf"(?<![0-9a-z]){re.escape(word)}(?![0-9a-z])"
    return re.search(pattern, column.casefold()) is not None


def suggest_fields(columns: Iterable[str]) -> dict[str, str]:
    """A first guess at which column fills which field, from the column names.

    A hint matches a whole column name or whole words of it, never letters inside a word ("id"
    is not in "provided"). Narratives are descriptions, never titles; a column named "State"
    is the customer's region, never the status (only "incident_state" and the like are)."""
    columns = list(columns)
    # The outcome columns of consumer-finance exports ("Timely response?", "Consumer disputed?",
    # "Company public response", "Company response to consumer", "Tags", "State") are claimed
    # first; a region is only ever an exact name (so "incident_state" stays the status) and is
    # claimed before the status guesses.
    exact = {
        "region": ("state", "region", "province", "county"),
        "tags": ("tags", "tag", "labels"),
    }
    hints = {
        "timely_response": ("timely response?", "timely response", "timely"),
        "disputed": ("consumer disputed?", "consumer disputed", "disputed"),
        "public_response": ("company public response", "public response"),
        "company_response": ("company response to consumer", "company response"),
        "external_id": ("ticket", "number", "complaint id", "tweet_id", "id", "incident", "case"),
        "description": ("narrative", "description", "details", "text", "comment"),
        "title": ("title", "subject", "complaint", "summary", "short_description", "issue"),
        "channel": ("channel", "received via", "submitted via", "contact_type", "source", "via"),
        "received_at": (
            "received_at",
            "opened_at",
            "date received",
            "date",
            "created",
            "opened",
            "received",
        ),
        "severity": ("severity", "priority"),
        "status": ("status", "incident_state"),
        "customer": ("customer", "caller", "client"),
        "category": ("category",),
        "process": ("process",),
        "product_or_service": ("product", "service"),
        "resolved_at": ("resolved_at", "resolved"),
        "closed_at": ("closed_at", "closed"),
    }
    suggestion: dict[str, str] = {}
    used: set[str] = set()
    for name, words in exact.items():
        free = [column for column in columns if column not in used]
        match = next((c for c in free if c.strip().casefold() in words), None)
        if match:
            suggestion[name] = match
            used.add(match)
    for name, words in hints.items():
        free = [column for column in columns if column not in used]
        if name == "title":  # a narrative is the description's, even when it says "complaint"
            free = [column for column in free if not _names_word(column, "narrative")]
        for word in words:
            match = next((c for c in free if c.strip().casefold() == word), None) or next(
                (c for c in free if _names_word(c, word)), None
            )
            if match:
                suggestion[name] = match
                used.add(match)
                break
    return suggestion
