"""Without a browser the browser tests skip, except where LOOP_REQUIRE_BROWSER=1 (CI): there they
fail, so CI can never pass with its browser tests silently skipped. Needs no browser itself."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser_unavailable


def test_a_missing_browser_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOP_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        browser_unavailable("no Chromium at /nowhere")


def test_a_missing_browser_fails_when_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOP_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="LOOP_REQUIRE_BROWSER=1"):
        browser_unavailable("no Chromium at /nowhere")
