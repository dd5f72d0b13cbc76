"""PDF reports for auditors, rendered by WeasyPrint: the report layer of Loop QMS.

A report is built in two steps that never mix:

1. *gather*: a module here (`capa`, `eight_d`, `complaint`, `nonconformity_register`,
   `audit_extract`) reads the records through the domains' services and returns a `Report`: plain,
   JSON-ready data (strings, numbers, lists, dicts) and the filters it was gathered with;
2. *render*: `reports.rendering` turns that data into a PDF/A-3b document with a Jinja template of
   `reports/templates/` and the print stylesheet `reports/templates/print.css`, attaches the data
   as canonical JSON and prints that JSON's SHA-256 in every page footer. A long report (the
   register: `Report.parts_of`) is laid out in page-sized parts by worker processes and joined.

`reports.generate.generate_report` runs the render, stamps the report id, the generation time and
who generated it, and writes an `export` event to the audit trail. Templates render only the
gathered data, so the PDF shows exactly what is attached and hashed.

Adding a report (the quality review pack, say) is one module with a `gather_…` function returning
a `Report`, one template extending `report_base.html`, and one route in `app.reports.views`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reports.base import Report, ReportError
    from reports.generate import GeneratedReport, generate_report

__all__ = ["GeneratedReport", "Report", "ReportError", "generate_report"]

# Imported on first use, so that `reports.weasy` (all a rendering worker process needs) does not
# import the app: a worker then starts in about a second instead of three.
_HOMES = {
    "Report": "reports.base",
    "ReportError": "reports.base",
    "GeneratedReport": "reports.generate",
    "generate_report": "reports.generate",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
