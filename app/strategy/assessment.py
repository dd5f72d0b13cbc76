"""The organisational assessment: dated entries in the method's four factor kinds (business
needs, organisational drivers, technology drivers, external factors), each with an impact rating
and the objectives and initiatives it motivates.

An entry is never edited in place: a change adds a revision (numbered 1, 2, …, each from its
`assessed_on` day), so `assessment_as_of(day)` answers "what did we believe on that day?". Every
entry and revision is audited on flush (app.core.audit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.db import ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import ServiceError
from app.core.validation import checked_record, checked_records
from app.extensions import db
from app.metrics.models import Initiative, Objective
from app.organisation.models import Site
from app.strategy.models import AssessmentEntry, AssessmentRevision, FactorKind, Impact

TITLE_MAX_LENGTH = 200
STATEMENT_MAX_LENGTH = 5000


def _checked(
    *, statement: str, impact: str, assessed_on: date | None, today: date | None
) -> tuple[str, Impact, date]:
    statement = (statement or "").strip()
    if not statement:
        raise ServiceError("Say what the factor is and why it matters.", field="statement")
    if len(statement) > STATEMENT_MAX_LENGTH:
        raise ServiceError(
            f"Keep the statement within {STATEMENT_MAX_LENGTH} characters.", field="statement"
        )
    try:
        rating = Impact(impact)
    except ValueError:
        raise ServiceError("Choose low, medium or high.", field="impact") from None
    today = today or utcnow().date()
    day = assessed_on or today
    if day > today:
        raise ServiceError("The assessment date cannot be in the future.", field="assessed_on")
    return statement, rating, day


def record_entry(
    *,
    kind: FactorKind | str,
    title: str,
    statement: str,
    impact: str,
    user: User,
    assessed_on: date | None = None,
    site_id: int | str | None = None,
    objective_ids: Iterable = (),
    initiative_ids: Iterable = (),
    today: date | None = None,
) -> AssessmentEntry:
    """Record a new factor with its first revision. Refuses: an unknown kind or impact, an empty
    title or statement, a date in the future, links to records that do not exist."""
    try:
        factor = FactorKind(kind)
    except ValueError:
        raise ServiceError("Choose one of the four factor kinds.", field="kind") from None
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise ServiceError(f"Give a title of at most {TITLE_MAX_LENGTH} characters.", field="title")
    site = checked_record(Site, site_id, "Choose a site from the list.", "site_id")
    text, rating, day = _checked(
        statement=statement, impact=impact, assessed_on=assessed_on, today=today
    )
    entry = AssessmentEntry(kind=factor, title=title, site=site)
    entry.revisions.append(
        AssessmentRevision(
            number=1,
            assessed_on=day,
            statement=text,
            impact=rating,
            recorded_by=user,
            objectives=checked_records(Objective, objective_ids, "objective_ids"),
            initiatives=checked_records(Initiative, initiative_ids, "initiative_ids"),
        )
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def revise_entry(
    entry: AssessmentEntry,
    *,
    expected_version: object,
    statement: str,
    impact: str,
    user: User,
    assessed_on: date | None = None,
    objective_ids: Iterable = (),
    initiative_ids: Iterable = (),
    today: date | None = None,
) -> AssessmentRevision:
    """Add the next revision of `entry` (the earlier ones stay as they were). Refuses a stale
    form and a date before the latest revision's."""
    ensure_current_version(entry, expected_version, "The assessment entry")
    text, rating, day = _checked(
        statement=statement, impact=impact, assessed_on=assessed_on, today=today
    )
    latest = entry.revisions[-1]
    if day < latest.assessed_on:
        raise ServiceError(
            f"Revision {latest.number} is dated {latest.assessed_on.isoformat()}; a new "
            "revision cannot be dated earlier.",
            field="assessed_on",
        )
    revision = AssessmentRevision(
        number=latest.number + 1,
        assessed_on=day,
        statement=text,
        impact=rating,
        recorded_by=user,
        objectives=checked_records(Objective, objective_ids, "objective_ids"),
        initiatives=checked_records(Initiative, initiative_ids, "initiative_ids"),
    )
    entry.revisions.append(revision)
    # A revision moves the entry's version on, so a second form opened on the same revision is
    # refused as stale rather than numbering a clashing revision.
    entry.updated_at = utcnow()
    flush_or_refuse_stale(db.session, "The assessment entry")
    return revision


@dataclass(frozen=True)
class AssessedFactor:
    entry: AssessmentEntry
    revision: AssessmentRevision

    @property
    def superseded(self) -> bool:
        """Whether a later revision exists than the one in force on the day asked about."""
        return self.revision.number < self.entry.revisions[-1].number


def assessment_as_of(
    day: date | None = None, site_id: int | None = None
) -> dict[FactorKind, list[AssessedFactor]]:
    """The assessment as it stood on `day` (today by default): for each entry the latest
    revision dated on or before it, grouped by kind, highest impact first. Entries not yet
    assessed by then are left out. `site_id` keeps organisation-wide entries and that site's."""
    day = day or utcnow().date()
    statement = (
        select(AssessmentEntry)
        .options(
            selectinload(AssessmentEntry.site),
            selectinload(AssessmentEntry.revisions).selectinload(AssessmentRevision.objectives),
            selectinload(AssessmentEntry.revisions).selectinload(AssessmentRevision.initiatives),
            selectinload(AssessmentEntry.revisions).selectinload(AssessmentRevision.recorded_by),
        )
        .order_by(AssessmentEntry.title, AssessmentEntry.id)
    )
    if site_id is not None:
        statement = statement.where(
            (AssessmentEntry.site_id.is_(None)) | (AssessmentEntry.site_id == site_id)
        )
    grouped: dict[FactorKind, list[AssessedFactor]] = {kind: [] for kind in FactorKind}
    for entry in db.session.scalars(statement):
        in_force = [revision for revision in entry.revisions if revision.assessed_on <= day]
        if in_force:
            grouped[entry.kind].append(AssessedFactor(entry, in_force[-1]))
    for factors in grouped.values():
        factors.sort(key=lambda factor: -factor.revision.impact.weight)
    return grouped
