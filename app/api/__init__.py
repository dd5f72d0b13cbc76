"""The JSON API v1 for other systems (help desks, contact centres, web forms), its OpenAPI
document, and the API tokens that integrations authenticate with."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

API_PREFIX = "/api/v1"


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def is_api_request() -> bool:
    """Whether the current request is for the JSON API (which ignores browser sessions)."""
    return is_api_path(request.path)


class SessionlessApi(SecureCookieSessionInterface):
    """The browser's signed-cookie session everywhere except the JSON API, which neither reads
    the session cookie (a signed-in browser is not authenticated there) nor sets one."""

    def open_session(self, app: Flask, request: Any) -> Any:
        if is_api_path(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)
