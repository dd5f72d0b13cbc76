"""The API fixtures (tokens, checking answers against the OpenAPI document) for the measured
metrics' endpoint tests."""

from tests.api.conftest import conforms, make_token, openapi, registry

__all__ = ["conforms", "make_token", "openapi", "registry"]
