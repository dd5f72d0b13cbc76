"""Browser-test fixtures: the real app served over HTTP, driven by Debian's Chromium via Playwright.

The live server has a database of its own (made by `databases.new_migrated_app()`), so its writes
really commit; tests create the users they need with `live_server.create_user(...)`. CSRF is on, so
the forms are exercised with their real tokens.

Without Chromium or Playwright the browser tests are skipped, unless LOOP_REQUIRE_BROWSER=1 is set
(CI sets it): then they fail, so a broken browser set-up can never pass silently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.accounts.models import User
from app.extensions import db
from tests import factories
from tests.conftest import DatabaseFactory

CHROMIUM = os.environ.get("LOOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a hung page fails the test quickly.
TIMEOUT_MS = 15_000


def browser_unavailable(reason: str) -> NoReturn:
    if os.environ.get("LOOP_REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"LOOP_REQUIRE_BROWSER=1 but the browser is unavailable: {reason}", pytrace=False
        )
    pytest.skip(f"browser unavailable: {reason}")


@dataclass
class LiveServer:
    url: str
    app: Flask

    def create_user(self, role: str = "quality_lead", **fields: Any) -> User:
        """A committed user of `role` (password TEST_PASSWORD unless given), detached from the
        session so its attributes stay readable."""
        with self.app.app_context():
            user = factories.create_user(role=role, **fields)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """Serve `app` over HTTP on a free port (with its background tasks run as a scheduler would
    run them) until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    # The background tasks pages queue (imports, big reports) run as a scheduler would run them.
    stop_tasks = threading.Event()
    tasks = threading.Thread(target=_run_tasks, args=(app, stop_tasks), daemon=True)
    tasks.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        stop_tasks.set()
        tasks.join(timeout=30)
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            app.extensions["loop_db"].engine.dispose()


@pytest.fixture(scope="session")
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    with serving(databases.new_migrated_app(WTF_CSRF_ENABLED=True)) as server:
        yield server


def _run_tasks(app: Flask, stop: threading.Event) -> None:
    from app.tasks.services import run_due_tasks

    while not stop.wait(0.2):
        with app.app_context():
            run_due_tasks()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        browser_unavailable(f"Playwright is not installed ({error})")
    if not os.access(CHROMIUM, os.X_OK):
        browser_unavailable(f"no Chromium executable at {CHROMIUM}")
    try:
        playwright = sync_playwright().start()
    except Exception as error:  # the driver Playwright ships may be missing or broken
        browser_unavailable(f"Playwright did not start: {error}")
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as error:
            browser_unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


def is_policy_violation(text: str) -> bool:
    """Chromium's console wording when the Content-Security-Policy blocks something."""
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@contextmanager
def browsing(browser: Any, url: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose pages are addressed relative to `url`; a script
    error or a Content-Security-Policy violation on any page it opens fails the test."""
    context = browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda message: (
            problems.append(f"{message.type}: {message.text}")
            if is_policy_violation(message.text)
            else None
        ),
    )
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    try:
        yield tab
    finally:
        context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture()
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test, its pages addressed relative to the server.

    A script error or a Content-Security-Policy violation on any page the test opens fails it.
    """
    with browsing(browser, live_server.url) as tab:
        yield tab


@pytest.fixture(scope="session")
def site_server(databases: DatabaseFactory) -> Iterator[tuple[LiveServer, Any]]:
    """A server of its own with every page's records behind it (tests/browser/site_map.py), for
    the tests that walk all pages: its records never show up in the other tests' lists and
    figures, whatever order the tests run in."""
    from tests.browser.site_map import seed_site

    with serving(databases.new_migrated_app(WTF_CSRF_ENABLED=True)) as server:
        yield server, seed_site(server)


@pytest.fixture()
def site(site_server: tuple[LiveServer, Any]) -> Any:
    return site_server[1]


@pytest.fixture()
def site_page(browser: Any, site_server: tuple[LiveServer, Any]) -> Iterator[Any]:
    """Like `page`, on the site server."""
    with browsing(browser, site_server[0].url) as tab:
        yield tab
