"""The OpenAPI document as plain rows for the readable API page (`/api`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_EMPHASIS = re.compile(r"\*([^*]+)\*")


def inline_markdown(text: str) -> Markup:
    """The few Markdown marks the document's descriptions use (`code`, **strong**, *emphasis*),
    as HTML; everything else is escaped."""
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _STRONG.sub(r"<strong>\1</strong>", html)
    html = _EMPHASIS.sub(r"<em>\1</em>", html)
    return Markup(html)


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class OperationRow:
    method: str
    path: str
    summary: str
    description: str
    scope: str | None
    parameters: list[FieldRow]
    body: str | None
    success: str
    result: str | None
    errors: list[str]


def type_text(schema: dict[str, Any]) -> str:
    """A schema as words: 'string (date-time)', 'Channel', 'list of ComplaintOut', 'x or null'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_text(part) for part in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "list of " + type_text(schema.get("items", {}))
    limits = []
    if "format" in schema:
        limits.append(schema["format"])
    if "pattern" in schema:
        limits.append(f"pattern {schema['pattern']}")
    if "maxLength" in schema:
        limits.append(f"≤ {schema['maxLength']} characters")
    if "minimum" in schema and "maximum" in schema:
        limits.append(f"{schema['minimum']}–{schema['maximum']}")
    return f"{kind} ({', '.join(limits)})" if limits else str(kind)


def schema_fields(schema: dict[str, Any]) -> list[FieldRow]:
    required = set(schema.get("required", []))
    return [
        FieldRow(name, type_text(prop), name in required, prop.get("description", ""))
        for name, prop in schema.get("properties", {}).items()
    ]


def operations(doc: dict[str, Any]) -> dict[str, list[OperationRow]]:
    """The operations grouped by tag, in document order."""
    grouped: dict[str, list[OperationRow]] = {}
    for path, methods in doc["paths"].items():
        for method, item in methods.items():
            responses = item["responses"]
            success = next(code for code in responses if code.startswith("2"))
            content = responses[success].get("content", {}).get("application/json")
            body = item.get("requestBody", {}).get("content", {}).get("application/json")
            security = item.get("security") or []
            grouped.setdefault(item["tags"][0], []).append(
                OperationRow(
                    method=method.upper(),
                    path=doc["servers"][0]["url"] + path,
                    summary=item["summary"],
                    description=item.get("description", ""),
                    scope=security[0]["token"][0] if security else None,
                    parameters=[
                        FieldRow(
                            f"{p['name']} ({p['in']})",
                            type_text(p["schema"]),
                            p.get("required", False),
                            p.get("description", ""),
                        )
                        for p in item.get("parameters", [])
                    ],
                    body=type_text(body["schema"]) if body else None,
                    success=success,
                    result=type_text(content["schema"]) if content else None,
                    errors=[code for code in responses if not code.startswith("2")],
                )
            )
    return grouped


def schemas(doc: dict[str, Any]) -> list[tuple[str, str, list[FieldRow]]]:
    """Every named schema: name, description, fields."""
    return [
        (name, schema.get("description", ""), schema_fields(schema))
        for name, schema in sorted(doc["components"]["schemas"].items())
        if "properties" in schema
    ]
