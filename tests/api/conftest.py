"""API test helpers: tokens of given scopes, and validation of every response against the
OpenAPI document the app serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.api import API_PREFIX
from app.api.openapi import openapi_document
from app.api.tokens import create_token
from app.extensions import db

DOCUMENT_URI = "urn:loop-openapi"


@pytest.fixture(scope="session")
def openapi() -> dict[str, Any]:
    return openapi_document()


@pytest.fixture(scope="session")
def registry(openapi: dict[str, Any]) -> Registry:
    resource = Resource.from_contents(openapi, default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


@pytest.fixture()
def conforms(openapi: dict[str, Any], registry: Registry) -> Callable[..., Any]:
    """Assert that `response` to `method path` is what the document promises (status listed,
    content type, body valid against the schema); returns the JSON body."""

    def check(response: Any, method: str, path: str) -> Any:
        template = path.removeprefix(API_PREFIX)
        operation = openapi["paths"][template][method.lower()]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, (
            f"{method} {path} answered {response.status_code}, which the document does not list"
        )
        if "content" not in documented:
            return None
        [(media_type, content)] = documented["content"].items()
        assert response.mimetype == media_type, response.get_data(as_text=True)
        body = response.get_json(force=True)
        schema = {"$ref": DOCUMENT_URI + content["schema"]["$ref"]}
        errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(body), key=str)
        assert errors == [], [error.message for error in errors]
        return body

    return check


@pytest.fixture()
def make_token(app: Flask, db_connection: None) -> Callable[..., dict[str, str]]:
    """A new token (committed into the test's transaction); returns the Authorization header."""
    counter = iter(range(1, 1000))

    def make(scopes: str = "read,intake,write", name: str | None = None) -> dict[str, str]:
        with app.app_context():
            _, secret = create_token(name=name or f"helpdesk-{next(counter)}", scopes=scopes)
            db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture()
def auth(make_token: Callable[..., dict[str, str]]) -> dict[str, str]:
    """A token with every scope, named helpdesk."""
    return make_token("read,intake,write", name="helpdesk")
