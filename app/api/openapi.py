"""The OpenAPI 3.1 document, built from the declared operations (`app.api.framework.operation`)
and their pydantic schemas, whose JSON Schema (2020-12) OpenAPI 3.1 takes as it is."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import API_PREFIX
from app.api.framework import IDEMPOTENCY_TTL, OPERATIONS, PROBLEM_TYPE, Operation
from app.api.schemas import Problem
from app.api.tokens import SCOPES

API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Malformed request (the body is not JSON).",
    401: "No token, or an unknown or revoked one.",
    403: "The token lacks the scope, or the action is not allowed on this record.",
    404: "No such record.",
    409: "A duplicate (the complaint was taken in before), or the record changed meanwhile.",
    413: "The body is too large.",
    415: "The body is not JSON.",
    422: "The request was refused for its content; `errors` lists the fields.",
    429: "Too many calls with this token; wait `Retry-After` seconds.",
    500: "An unexpected error; nothing was saved.",
}

_SCOPE_TEXT = "; ".join(f"`{name}`: {text.rstrip('.')}" for name, text in SCOPES.items())

DESCRIPTION = f"""\
Loop QMS takes complaints in from help desks, contact centres and web forms, and lets those systems
read back what happened: status, customer recovery actions and satisfaction.

**Authentication.** Every call except this document needs an API token, sent as
`Authorization: Bearer <token>`. Administrators create tokens on the *API tokens* page
(`/admin/tokens`, or `flask --app wsgi tokens create --name N --scopes intake,read`).
Browser sessions never authenticate API calls. Scopes: {_SCOPE_TEXT}.

**Idempotency.** Every POST accepts an `Idempotency-Key` header (1–200 visible ASCII characters,
such as a UUID). Sending the same request again with the same key returns the first answer
(with `Idempotent-Replayed: true`) instead of acting twice; the same key with a different request
is refused with 422. Successful answers are kept for {int(IDEMPOTENCY_TTL.total_seconds() // 3600)}
hours per token.

**Duplicates.** A complaint with `source_system` and `external_id` is taken in once: sending the
same pair again answers 409 with the existing complaint's `reference` and a `Location` header.

**Pagination.** Lists return `data` and `next_cursor`, newest first; pass `cursor=<next_cursor>`
for the next page until `next_cursor` is null.

**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail` and,
for refused content, `errors` (a list of `field` and `message`).
"""


def _schemas_of(operations: list[Operation]) -> tuple[dict[tuple[type[BaseModel], str], Any], dict]:
    models: dict[type[BaseModel], None] = {Problem: None}
    for item in operations:
        if item.response_model is not None:
            models[item.response_model] = None
        if item.body is not None:
            models[item.body] = None
    keys = [
        (model, "validation" if _is_input(model, operations) else "serialization")
        for model in models
    ]
    refs, definitions = models_json_schema(keys, ref_template=REF_TEMPLATE)
    return refs, definitions.get("$defs", {})


def _is_input(model: type[BaseModel], operations: list[Operation]) -> bool:
    return any(item.body is model for item in operations)


def _parameters(item: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in item.path_params.items()
    ]
    if item.query is not None:
        schema = item.query.model_json_schema(ref_template=REF_TEMPLATE)
        definitions = schema.get("$defs", {})
        for name, prop in schema["properties"].items():
            prop = _without_null(_inline(prop, definitions))
            description = prop.pop("description", None)
            prop.pop("title", None)
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", []),
                "schema": prop,
            }
            if description:
                parameter["description"] = description
            if prop.get("type") == "array":
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
    if item.idempotent and item.scope:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key and request return the first "
                "answer.",
                "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"},
            }
        )
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: drop the `null` that `X | None` brings."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    """Replace local $refs of a query model (enums) by their definitions: parameters stand alone."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            merged = {
                **definitions.get(name, {}),
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            merged.pop("title", None)
            return _inline(merged, definitions)
        return {key: _inline(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline(value, definitions) for value in schema]
    return schema


def _operation_object(item: Operation, refs: dict[tuple[type[BaseModel], str], Any]) -> dict:
    def ref(model: type[BaseModel]) -> Any:
        for (candidate, _mode), value in refs.items():
            if candidate is model:
                return value
        raise KeyError(model)

    responses: dict[str, Any] = {}
    for status in sorted({item.status, *item.also}):
        success: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
        if item.response_model is not None:
            success["content"] = {"application/json": {"schema": ref(item.response_model)}}
        if status == 201:
            success["headers"] = {
                "Location": {"description": "The new record.", "schema": {"type": "string"}}
            }
        responses[str(status)] = success
    for status in item.errors:
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {PROBLEM_TYPE: {"schema": ref(Problem)}},
        }
    result: dict[str, Any] = {
        "operationId": item.operation_id,
        "summary": item.summary,
        "tags": [item.tag],
        "parameters": _parameters(item),
        "responses": responses,
    }
    if item.description:
        result["description"] = item.description
    if item.scope:
        result["security"] = [{"token": [item.scope]}]
        result["description"] = (
            result.get("description", "") + f"\n\nNeeds the `{item.scope}` scope."
        ).strip()
    else:
        result["security"] = []
    if item.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(item.body)}},
        }
    return result


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process: operations are fixed at import)."""
    importlib.import_module("app.api.views")  # declares the operations
    refs, definitions = _schemas_of(OPERATIONS)
    paths: dict[str, dict[str, Any]] = {}
    for item in OPERATIONS:
        paths.setdefault(item.path, {})[item.method.lower()] = _operation_object(item, refs)
    tags = sorted({item.tag for item in OPERATIONS})
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Loop QMS API",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "Open source"},
        },
        "servers": [{"url": API_PREFIX}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token created by an administrator. Scopes: "
                    + ", ".join(SCOPES),
                }
            },
        },
    }
