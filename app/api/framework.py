"""How an API operation runs: token authentication and scope, per-token rate limit, request
validation against the pydantic schemas, `Idempotency-Key` replay, the audit actor, and errors as
`application/problem+json` (RFC 9457).

Each operation is declared once with `operation(...)`: the declaration registers the Flask route
and is what `app.api.openapi` turns into the OpenAPI document, so routes, validation and the
document cannot drift apart.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import limits
from flask import Blueprint, Flask, Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from app.api import API_PREFIX, is_api_request  # noqa: F401 (re-exported)
from app.api.models import IdempotencyRecord
from app.api.schemas import FieldError, Problem
from app.api.tokens import ApiActor, authenticate
from app.core.audit import acting_as
from app.core.db import utcnow
from app.core.errors import NotFound, ServiceError, StaleRecord
from app.extensions import db

PROBLEM_TYPE = "application/problem+json"
PROBLEM_BASE = "/api#problem-"
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
IDEMPOTENCY_TTL = timedelta(hours=24)
OPERATIONS: list[Operation] = []


class ApiProblem(Exception):
    """Answer the call with a problem document; nothing the call did is kept."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        kind: str | None = None,
        errors: list[FieldError] | None = None,
        reference: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.problem = Problem(
            type=PROBLEM_BASE + (kind or _kind_of(status)),
            title=title,
            status=status,
            detail=detail,
            errors=errors,
            reference=reference,
        )
        self.headers = headers or {}


_KINDS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    500: "server-error",
}


def _kind_of(status: int) -> str:
    return _KINDS.get(status, "error")


def problem_response(problem: ApiProblem) -> Response:
    body = problem.problem.model_dump_json(exclude_none=True)
    response = Response(body, status=problem.problem.status, mimetype=PROBLEM_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def http_problem(error: HTTPException) -> Response:
    """An HTTP error raised outside an operation (unknown URL, wrong method) as a problem."""
    code = error.code or 500
    detail = {
        404: "There is no such API resource; see /api/v1/openapi.json.",
        405: f"{request.method} is not allowed here.",
    }.get(code, error.description)
    problem = ApiProblem(code, error.name, detail)
    response = problem_response(problem)
    if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def server_problem() -> Response:
    return problem_response(
        ApiProblem(500, "Internal Server Error", "Something went wrong; nothing was saved.")
    )


# --- declaring operations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    path: str  # OpenAPI style: /complaints/{reference}
    method: str
    operation_id: str
    summary: str
    description: str
    tag: str
    scope: str | None
    response_model: type[BaseModel] | None
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    # Other success statuses with the same body (PUT answers 201 when it creates).
    also: tuple[int, ...] = ()

    @property
    def idempotent(self) -> bool:
        return self.method == "POST"


def operation(
    blueprint: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    scope: str | None,
    response_model: type[BaseModel] | None,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    path_params: dict[str, dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (),
    also: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API operation. The decorated function receives `actor` (None for public
    operations), `body` and `query` (validated models, when declared) and the path parameters,
    and returns a response model, or `(model, status, headers)`."""

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        declared_errors = set(errors) | {429, 500} if scope else set(errors) | {500}
        if scope:
            declared_errors |= {401, 403}
        if body is not None:
            declared_errors |= {400, 413, 415, 422}
        if scope:
            declared_errors |= {422}  # query parameters it does not know
        if path_params:
            declared_errors |= {404}
        if method == "POST":
            declared_errors |= {409, 422}
        item = Operation(
            path=path,
            method=method,
            operation_id=handler.__name__,
            summary=summary,
            description=(handler.__doc__ or "").strip(),
            tag=tag,
            scope=scope,
            response_model=response_model,
            status=status,
            body=body,
            query=query,
            path_params=path_params or {},
            errors=tuple(sorted(declared_errors)),
            also=also,
        )
        OPERATIONS.append(item)

        @functools.wraps(handler)
        def view(**path_values: Any) -> Response:
            try:
                return _run(item, handler, path_values)
            except ApiProblem as problem:
                return problem_response(problem)
            except ServiceError as error:
                return problem_response(service_problem(error))
            except IntegrityError:
                # A unique value saved by another request between our check and our write (the
                # same ticket pushed twice at once); the request rolls back.
                return problem_response(
                    ApiProblem(
                        409,
                        "Conflict",
                        "Another request saved the same record at the same moment; send this "
                        "one again to see the result.",
                        kind="conflict",
                    )
                )

        rule = re.sub(r"\{(\w+)\}", r"<\1>", path)
        # Guarded by token scopes, not by roles or browser sessions (see _authenticate).
        view.required_permission = None  # type: ignore[attr-defined]
        view.required_scope = scope  # type: ignore[attr-defined]
        blueprint.add_url_rule(rule, endpoint=handler.__name__, view_func=view, methods=[method])
        return handler

    return decorator


# --- running one ---------------------------------------------------------------------------------


def _run(item: Operation, handler: Callable[..., Any], path_values: dict[str, Any]) -> Response:
    if any("\x00" in str(value) for value in path_values.values()):
        # No reference or external id holds a NUL character (PostgreSQL text cannot).
        raise ApiProblem(404, "Not found", "No record is named with a NUL character.")
    actor = _authenticate(item.scope) if item.scope else None
    if actor is not None:
        _check_rate_limit(actor)
    kwargs: dict[str, Any] = dict(path_values)
    if item.query is not None:
        kwargs["query"] = _parse_query(item.query)
    elif request.args:
        _refuse_nul(
            [(name, value) for name, values in request.args.lists() for value in [name, *values]],
            "Invalid query parameters",
        )
        raise ApiProblem(
            422,
            "Invalid query parameters",
            "This operation takes no query parameters.",
            kind="validation",
            errors=[FieldError(field=name, message="Unknown parameter.") for name in request.args],
        )
    raw_body = b""
    if item.body is not None:
        raw_body = _read_body()
        kwargs["body"] = _parse_body(item.body, raw_body)
    if actor is None:
        return _respond(item, handler(actor=None, **kwargs))
    g.api_actor = actor
    key = request.headers.get("Idempotency-Key") if item.idempotent else None
    with acting_as(actor.actor):
        if key is None:
            return _respond(item, handler(actor=actor, **kwargs))
        return _idempotent(item, actor, key, raw_body, lambda: handler(actor=actor, **kwargs))


def _authenticate(scope: str) -> ApiActor:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="Loop QMS API"'}
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(
            401,
            "Authentication required",
            "Send an API token as 'Authorization: Bearer <token>'. Browser sessions do not "
            "authenticate API calls.",
            headers=challenge,
        )
    token = authenticate(secret.strip())
    if token is None:
        raise ApiProblem(
            401, "Invalid token", "The API token is unknown or was revoked.", headers=challenge
        )
    if scope not in token.scope_set:
        raise ApiProblem(
            403,
            "Scope missing",
            f"This call needs the '{scope}' scope; the token for {token.name} has "
            f"{', '.join(sorted(token.scope_set))}.",
        )
    return ApiActor(token_id=token.id, name=token.name, scopes=token.scope_set)


def _limiter(app: Flask) -> tuple[limits.strategies.RateLimiter, limits.RateLimitItem]:
    state = app.extensions.get("loop_api_limiter")
    if state is None:
        storage = limits.storage.storage_from_string(app.config["API_RATE_LIMIT_STORAGE"])
        state = (
            # Sliding-window counters: O(1) per call, and no burst of twice the limit at a
            # window's edge as fixed windows allow.
            limits.strategies.SlidingWindowCounterRateLimiter(storage),
            limits.parse(app.config["API_RATE_LIMIT"]),
        )
        app.extensions["loop_api_limiter"] = state
    return state


def _check_rate_limit(actor: ApiActor) -> None:
    limiter, item = _limiter(current_app)
    if limiter.hit(item, "loop-api", str(actor.token_id)):
        return
    stats = limiter.get_window_stats(item, "loop-api", str(actor.token_id))
    wait = max(1, math.ceil(stats.reset_time - time.time()))
    raise ApiProblem(
        429,
        "Too many requests",
        f"The token for {actor.name} may make {item} calls; try again in {wait} s.",
        headers={"Retry-After": str(wait)},
    )


def _field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    found = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "Unknown field."
        found.append(FieldError(field=prefix + location, message=message))
    return found


def _parse_query(model: type[BaseModel]) -> BaseModel:
    _refuse_nul(
        [(name, value) for name, values in request.args.lists() for value in [name, *values]],
        "Invalid query parameters",
    )
    values: dict[str, Any] = {}
    for name in request.args:
        info = model.model_fields.get(name)
        is_list = info is not None and getattr(info.annotation, "__origin__", None) is list
        values[name] = request.args.getlist(name) if is_list else request.args.get(name)
    try:
        return model.model_validate(values)
    except ValidationError as error:
        errors = [
            FieldError(field=item.field, message="Unknown parameter.")
            if item.message == "Unknown field."
            else item
            for item in _field_errors(error)
        ]
        raise ApiProblem(
            422,
            "Invalid query parameters",
            "Correct the parameters listed in errors.",
            kind="validation",
            errors=errors,
        ) from None


def _read_body() -> bytes:
    limit = int(current_app.config["API_MAX_BODY_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        raise ApiProblem(413, "Request too large", f"Send at most {limit:,} bytes.")
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiProblem(
            415, "Unsupported media type", "Send the body as JSON (Content-Type: application/json)."
        )
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise ApiProblem(413, "Request too large", f"Send at most {limit:,} bytes.")
    return data


def _parse_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(400, "Malformed JSON", "The body is not valid JSON.") from None
    _refuse_nul(list(_strings(parsed)), "Invalid request body")
    if not isinstance(parsed, dict):
        raise ApiProblem(
            422,
            "Invalid request body",
            "The body must be a JSON object.",
            kind="validation",
            errors=[FieldError(field="body", message="Input should be an object.")],
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise ApiProblem(
            422,
            "Invalid request body",
            "Correct the fields listed in errors.",
            kind="validation",
            errors=_field_errors(error),
        ) from None


def _strings(value: Any, path: str = "") -> Any:
    """(field path, text) of every string in a parsed JSON document, keys included."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, key
            yield from _strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def _refuse_nul(texts: list[tuple[str, str]], title: str) -> None:
    """Refuse text with NUL characters: no field may hold one (PostgreSQL text cannot)."""
    at_fault = sorted({field for field, text in texts if "\x00" in text})
    if at_fault:
        raise ApiProblem(
            422,
            title,
            "Text may not contain NUL characters.",
            kind="validation",
            errors=[
                FieldError(field=field.replace("\x00", "\\0"), message="Contains a NUL character.")
                for field in at_fault
            ],
        )


def _respond(item: Operation, result: Any) -> Response:
    status, headers = item.status, {}
    if isinstance(result, tuple):
        result, status, headers = result
    body = result.model_dump_json() if result is not None else ""
    response = Response(body, status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    return response


def service_problem(error: ServiceError) -> ApiProblem:
    """A refusal by a domain service, as the problem the API answers with."""
    from app.complaints.services import DuplicateComplaint, EditNotAllowed

    if isinstance(error, DuplicateComplaint):
        return ApiProblem(
            409,
            "Duplicate complaint",
            error.message,
            kind="duplicate",
            reference=error.existing.reference,
            headers={"Location": f"{API_PREFIX}/complaints/{error.existing.reference}"},
        )
    if isinstance(error, NotFound):
        return ApiProblem(404, "Not found", error.message)
    if isinstance(error, StaleRecord):
        return ApiProblem(409, "Changed meanwhile", error.message)
    if isinstance(error, EditNotAllowed):
        return ApiProblem(403, "Not allowed", error.message)
    errors = [FieldError(field=error.field, message=error.message)] if error.field else None
    return ApiProblem(422, "Refused", error.message, kind="refused", errors=errors)


# --- Idempotency-Key -----------------------------------------------------------------------------


def _request_hash(raw_body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(raw_body), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        canonical = raw_body.decode("utf-8", "replace")
    text = f"{request.method} {request.path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _idempotent(
    item: Operation,
    actor: ApiActor,
    key: str,
    raw_body: bytes,
    call: Callable[[], Any],
) -> Response:
    """Run `call` once per (token, key): a retry with the same request gets the first answer back
    (marked `Idempotent-Replayed: true`); the same key with another request is refused (422).
    Only successful answers are kept (24 hours): a refused request may be retried as it is."""
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise ApiProblem(
            422,
            "Invalid Idempotency-Key",
            "An Idempotency-Key is 1 to 200 visible ASCII characters, such as a UUID.",
            kind="validation",
            errors=[FieldError(field="Idempotency-Key", message="1 to 200 visible characters.")],
        )
    request_hash = _request_hash(raw_body)
    cutoff = utcnow() - IDEMPOTENCY_TTL
    stored = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == actor.token_id,
            IdempotencyRecord.key == key,
        )
    )
    if stored is not None and stored.created_at < cutoff:
        db.session.delete(stored)
        db.session.flush()
        stored = None
    if stored is not None:
        if stored.request_hash != request_hash:
            raise ApiProblem(
                422,
                "Idempotency-Key reused",
                "This Idempotency-Key was used for a different request; use a new key for a "
                "new request.",
                kind="idempotency-key-reused",
            )
        response = Response(stored.response_body, status=stored.status_code)
        response.mimetype = "application/json"
        response.headers["Idempotent-Replayed"] = "true"
        if stored.location:
            response.headers["Location"] = stored.location
        return response
    response = _respond(item, call())
    record = IdempotencyRecord(
        token_id=actor.token_id,
        key=key,
        request_hash=request_hash,
        status_code=response.status_code,
        response_body=response.get_data(as_text=True),
        location=response.headers.get("Location"),
    )
    db.session.add(record)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ApiProblem(
            409,
            "Request in progress",
            "Another request with this Idempotency-Key was being handled at the same moment; "
            "retry it to get its answer.",
            kind="conflict",
        ) from None
    # Every token's expired answers go, not only this one's: they hold complaint data, and a token
    # that is idle or revoked would otherwise keep them for ever (created_at is indexed).
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return response
