"""Playwright's page type and `expect` for the browser tests, importable without Playwright: the
`browser` fixture then skips, or fails under LOOP_REQUIRE_BROWSER=1, with the reason."""

from __future__ import annotations

try:
    from playwright.sync_api import Page, expect
except ImportError:
    Page = object  # type: ignore[assignment,misc]
    expect = None  # type: ignore[assignment]

__all__ = ["Page", "expect"]
