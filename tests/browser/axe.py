"""axe-core in the browser tests: the accessibility engine, run on a page as it is shown.

axe-core is an npm package (pinned in tests/browser/package.json; `make test` installs it into
tests/browser/node_modules). It is evaluated into the page through the DevTools protocol, so
the page's Content-Security-Policy stays as strict as it is for users."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.browser.conftest import browser_unavailable

AXE_SCRIPT = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        browser_unavailable(
            f"axe-core is not installed at {AXE_SCRIPT} (run `make test`, or "
            "`npm install --prefix tests/browser`)"
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


def serious_violations(page: Any, source: str) -> list[str]:
    """axe's serious and critical findings on the page, one readable line per rule and node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    results = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)})); }"
    )
    found = []
    for violation in results:
        if violation["impact"] in BLOCKING_IMPACTS:
            for node in violation["nodes"]:
                found.append(
                    f"{page.url}: {violation['id']} ({violation['impact']}): "
                    f"{violation['help']} at {json.dumps(node)}"
                )
    return found
