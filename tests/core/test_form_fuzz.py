"""Random field values posted to every web form a quality lead can reach: never a 5xx, and a
refused post (4xx) leaves every table as it was (no half-written record).

The forms are found as a person finds them: starting at the dashboard, every page the lead can
open is fetched (links followed, PDFs and CSVs skipped) and every `<form method="post">` on it is
collected with its fields. Hypothesis then fills each field with one of: its own value, one of
its options, an empty string, random text (control characters, Unicode, very long), numbers,
dates in odd formats. LOOP_FORM_FUZZ_EXAMPLES sets the examples per form (the benchmark
`bench_fuzz` runs more)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.db import Base
from app.extensions import db

EXAMPLES = int(os.environ.get("LOOP_FORM_FUZZ_EXAMPLES", "3"))
MAX_PAGES = 150
SKIPPED_PATHS = re.compile(r"(\.pdf|\.csv|/logout|/api/|/static/|/login)")
# Written on purpose even when the request is refused (failed signature attempts count toward the
# lockout; app.core.db.keep_despite_rollback), so not a partial record.
KEPT_DESPITE_ROLLBACK = {"login_attempt"}


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.action, tuple(sorted(self.fields))


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "a" and attributes.get("href"):
            self.links.append(urljoin(self.page, attributes["href"]))
        elif tag == "form" and attributes.get("method", "get").lower() == "post":
            action = urljoin(self.page, attributes.get("action") or self.page)
            self._form = Form(self.page, action)
        elif self._form is not None and tag in {"input", "button"} and attributes.get("name"):
            kind = attributes.get("type", "text" if tag == "input" else "submit").lower()
            name = attributes["name"]
            if kind in {"checkbox", "radio"} and name in self._form.fields:
                self._form.fields[name].options.append(attributes.get("value", "y"))
                return
            self._form.fields[name] = Field(
                name,
                kind,
                attributes.get("value", ""),
                [attributes.get("value", "y")] if kind in {"checkbox", "radio"} else [],
            )
        elif self._form is not None and tag == "select" and attributes.get("name"):
            self._select = Field(attributes["name"], "select")
            self._form.fields[self._select.name] = self._select
        elif self._select is not None and tag == "option":
            self._select.options.append(attributes.get("value", ""))
        elif self._form is not None and tag == "textarea" and attributes.get("name"):
            self._form.fields[attributes["name"]] = Field(attributes["name"], "textarea")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def reachable_forms(client) -> tuple[list[Form], int]:
    """Every POST form on every page the signed-in client can open; (forms, pages visited)."""
    queue, seen, forms = ["/"], {"/"}, {}
    visited = 0
    while queue and visited < MAX_PAGES:
        path = queue.pop(0)
        response = client.get(path)
        visited += 1
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = _FormParser(f"http://localhost{path}")
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            if not SKIPPED_PATHS.search(urlsplit(form.action).path):  # signing out is no test
                forms.setdefault(form.key, form)
        for link in parser.links:
            parts = urlsplit(link)
            if parts.netloc not in {"", "localhost"} or SKIPPED_PATHS.search(parts.path):
                continue
            # One page per listing is enough: drop filters and page numbers.
            target = parts.path
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return list(forms.values()), visited


JUNK_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
ODD_VALUES = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "99999999999999999999",
        "1e308",
        "NaN",
        "3.14",
        "2026-02-30",
        "2026-13-01T25:61",
        "1900-01-01",
        "9999-12-31T23:59",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\x00",
        "x" * 5000,
        "ü" * 300,
    ]
)


def value_strategy(spec: Field) -> st.SearchStrategy[str]:
    choices: list[st.SearchStrategy[str]] = [st.just(spec.value), ODD_VALUES, JUNK_TEXT]
    if spec.options:
        choices.insert(0, st.sampled_from(spec.options))
    choices.append(st.integers(min_value=-(10**6), max_value=10**6).map(str))
    return st.one_of(choices)


def table_counts() -> dict[str, int]:
    tables = [t for t in Base.metadata.sorted_tables if t.name not in KEPT_DESPITE_ROLLBACK]
    row = db.session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    return dict(zip((t.name for t in tables), row, strict=True))


def seed_open_records(lead) -> None:
    """Records in early states, so their pages show their action forms."""
    from app.capa import services as capa_services
    from app.complaints import services as complaint_services
    from app.nonconformities import services as nc_services
    from app.rca import services as rca_services

    complaint = complaint_services.record_complaint(
        user=lead, title="Fuzz complaint", channel="phone", severity="low"
    )
    nc = nc_services.raise_nonconformity(
        title="Fuzz nonconformity",
        source="customer_complaint",
        detected_at=datetime.now(UTC),
        severity=3,
        occurrence=3,
        detection=3,
        owner_id=lead.id,
        complaint_ids=[complaint.id],
        user=lead,
    )
    for method in ("five_whys", "ishikawa", "eight_d"):
        analysis = rca_services.start_analysis(
            nc, method, f"Why parcels go astray ({method})", lead
        )
        rca_services.add_why(analysis, "Why was it late?", "The van left early.", user=lead)
    capa_services.plan_capa(
        kind="corrective",
        recovery_dimension="process",
        title="Fuzz CAPA",
        owner_id=lead.id,
        due_date=capa_services.today_utc() + timedelta(days=30),
        principle_ids=[1],
        nonconformity_ids=[nc.id],
        user=lead,
    )


def test_random_values_in_every_form_never_fail_and_never_half_write(app, client, login):
    from app.accounts.models import User
    from tests.reports.story import build_story

    lead = login("quality_lead")
    with app.app_context():
        build_story()
        seed_open_records(db.session.get(User, lead.id))
        db.session.commit()
    forms, pages = reachable_forms(client)
    actions = {form.action for form in forms}
    assert pages >= 30 and len(forms) >= 25, (pages, sorted(actions))
    outcomes: dict[str, list[int]] = {}
    failures: list[str] = []

    def fuzzer(path: str, fields: list[Field]):
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.fixed_dictionaries({spec.name: value_strategy(spec) for spec in fields}))
        def post_random(values: dict[str, str]) -> None:
            with app.app_context():
                before = table_counts()
            response = client.post(path, data=values)
            status = response.status_code
            outcomes.setdefault(path, []).append(status)
            if status >= 500:
                failures.append(f"{status} from POST {path} with {values!r}"[:500])
                return
            if status >= 400:
                with app.app_context():
                    after = table_counts()
                changed = {name for name in before if before[name] != after[name]}
                if changed:
                    failures.append(f"{status} from POST {path} but {sorted(changed)} changed")

        return post_random

    for form in forms:
        path = urlsplit(form.action).path
        post_random = fuzzer(path, sorted(form.fields.values(), key=lambda spec: spec.name))
        post_random()
        if client.get("/notifications").status_code != 200:  # a cheap page: still signed in
            failures.append(f"the lead's session ended after posts to {path}")
            break
    assert not failures, "\n".join(failures[:10])
    accepted = sum(1 for statuses in outcomes.values() for s in statuses if s < 400)
    assert accepted > 0  # some random posts were valid and went through
    with app.app_context():
        # Every accepted change was audited into a chain that still verifies.
        from app.core.audit import verify_chain

        assert verify_chain(db.session.connection()).ok
