"""Root-cause analysis on a nonconformity: 5 Whys, Ishikawa and 8D, and root-cause statements.

Only a quality lead or the nonconformity's owner may start or change an analysis, and only while
the nonconformity is neither closed nor cancelled; only a quality lead verifies a root cause.
Every change also bumps the analysis's version, so a form carrying an older `expected_version`
is refused (StaleRecord) instead of overwriting someone else's work. The audit trail captures
every change by itself.

As in app.nonconformities.services, `user=None` means a trusted system caller; views always pass
the signed-in user.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from sqlalchemy import and_, or_, select

from app.accounts.models import User
from app.audit.services import history_of
from app.core.audit import AuditEvent, record_type_of
from app.core.db import ensure_current_version, utcnow
from app.core.errors import ServiceError
from app.core.permissions import Permission, role_can
from app.core.validation import checked_text
from app.extensions import db
from app.nonconformities.models import Nonconformity
from app.nonconformities.services import FINISHED_STATUSES, NotPermitted, may_edit
from app.rca.models import (
    EIGHT_D_DISCIPLINES,
    ISHIKAWA_CATEGORIES,
    AnalysisMethod,
    EightDSection,
    IshikawaCause,
    RootCause,
    RootCauseAnalysis,
    WhyStep,
)

CATEGORY_MAX_LENGTH = 60
STATEMENT_MAX_LENGTH = 2_000
STEP_MAX_LENGTH = 2_000
SECTION_MAX_LENGTH = 20_000


# --- checks ----------------------------------------------------------------------------------


def normalise_category(value: str | None, field: str = "category") -> str:
    """A cause category as stored: trimmed, inner spaces collapsed, lower case, at most 60
    characters. One of ISHIKAWA_CATEGORIES (the six Ms) or a free name."""
    category = re.sub(r"\s+", " ", (value or "").strip()).lower()
    if not category:
        raise ServiceError(
            "Choose a category: one of the six Ms or a name of your own.", field=field
        )
    if len(category) > CATEGORY_MAX_LENGTH:
        raise ServiceError(
            f"A category name may have at most {CATEGORY_MAX_LENGTH} characters.", field=field
        )
    return category


def _require_open(nc: Nonconformity) -> None:
    if nc.status in FINISHED_STATUSES:
        raise ServiceError(
            f"The nonconformity {nc.reference} is {nc.status.label.lower()}; "
            "its analyses can no longer change unless it is reopened (with a reason)."
        )


def _require_may_work(user: User | None, nc: Nonconformity) -> None:
    if user is not None and not may_edit(user, nc):
        raise NotPermitted(
            f"Only a quality lead or the owner of {nc.reference} may work on its analyses."
        )


def _before_change(
    analysis: RootCauseAnalysis, user: User | None, expected_version: object
) -> None:
    """The checks every change of an analysis makes, in the order a user should hear them."""
    _require_may_work(user, analysis.nonconformity)
    if expected_version is not None:
        ensure_current_version(analysis, expected_version, "The analysis")
    _require_open(analysis.nonconformity)


def _touch(analysis: RootCauseAnalysis) -> None:
    """Mark the analysis changed, so its version moves on and older forms become stale."""
    analysis.updated_at = utcnow()
    db.session.flush()


# --- starting --------------------------------------------------------------------------------


def start_analysis(
    nc: Nonconformity,
    method: AnalysisMethod | str,
    problem_statement: str,
    user: User,
) -> RootCauseAnalysis:
    """Start a root-cause analysis of `nc` with `method` (five_whys, ishikawa, eight_d).

    Only a quality lead or the nonconformity's owner; never on a closed or cancelled one. The
    problem statement (the head of the fishbone) is required."""
    _require_may_work(user, nc)
    _require_open(nc)
    try:
        chosen = AnalysisMethod(method)
    except ValueError:
        raise ServiceError("Choose a method: 5 Whys, Ishikawa or 8D.", field="method") from None
    analysis = RootCauseAnalysis(
        nonconformity=nc,
        method=chosen,
        problem_statement=checked_text(
            problem_statement, "A problem statement", "problem_statement", STATEMENT_MAX_LENGTH
        ),
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(analysis)
    db.session.flush()
    return analysis


def get_analysis(nc: Nonconformity, analysis_id: int) -> RootCauseAnalysis | None:
    """The analysis with this id if it belongs to `nc`."""
    analysis = db.session.get(RootCauseAnalysis, analysis_id)
    if analysis is None or analysis.nonconformity_id != nc.id:
        return None
    return analysis


# --- 5 Whys ----------------------------------------------------------------------------------


def add_why(
    analysis: RootCauseAnalysis,
    why: str,
    because: str,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> WhyStep:
    """Append a why → because step at the end of the chain (positions run 1..n)."""
    _before_change(analysis, user, expected_version)
    step = WhyStep(
        position=len(analysis.why_steps) + 1,
        why=checked_text(why, "The question (why?)", "why", STEP_MAX_LENGTH),
        because=checked_text(because, "The answer (because…)", "because", STEP_MAX_LENGTH),
    )
    analysis.why_steps.append(step)
    _touch(analysis)
    return step


def _step_of(analysis: RootCauseAnalysis, step_id: int) -> WhyStep:
    for step in analysis.why_steps:
        if step.id == step_id:
            return step
    raise ServiceError("That step is not part of this analysis (was it removed?).")


def update_why(
    analysis: RootCauseAnalysis,
    step_id: int,
    why: str,
    because: str,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> WhyStep:
    """Change the question and answer of one step; its position stays."""
    _before_change(analysis, user, expected_version)
    step = _step_of(analysis, step_id)
    step.why = checked_text(why, "The question (why?)", "why", STEP_MAX_LENGTH)
    step.because = checked_text(because, "The answer (because…)", "because", STEP_MAX_LENGTH)
    _touch(analysis)
    return step


def remove_why(
    analysis: RootCauseAnalysis,
    step_id: int,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> None:
    """Remove one step and renumber the rest, so positions stay 1..n in their order."""
    _before_change(analysis, user, expected_version)
    step = _step_of(analysis, step_id)
    # Delete, then drop it from the list the positions are renumbered from.
    db.session.delete(step)
    analysis.why_steps.remove(step)
    db.session.flush()  # the freed position first, so renumbering never collides
    for position, remaining in enumerate(analysis.why_steps, start=1):
        if remaining.position != position:
            remaining.position = position
            db.session.flush()  # one at a time, lowest first: (analysis, position) is unique
    _touch(analysis)


# --- Ishikawa --------------------------------------------------------------------------------


def add_ishikawa_cause(
    analysis: RootCauseAnalysis,
    category: str,
    cause: str,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> IshikawaCause:
    """Add a cause under `category` (one of the six Ms or a free name, stored in lower case)."""
    _before_change(analysis, user, expected_version)
    item = IshikawaCause(
        category=normalise_category(category),
        cause=checked_text(cause, "The cause", "cause", STATEMENT_MAX_LENGTH),
    )
    analysis.ishikawa_causes.append(item)
    _touch(analysis)
    return item


def remove_ishikawa_cause(
    analysis: RootCauseAnalysis,
    cause_id: int,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> None:
    _before_change(analysis, user, expected_version)
    for item in analysis.ishikawa_causes:
        if item.id == cause_id:
            db.session.delete(item)  # explicitly, so the audit trail records it
            analysis.ishikawa_causes.remove(item)
            _touch(analysis)
            return
    raise ServiceError("That cause is not part of this analysis (was it removed?).")


def ishikawa_groups(analysis: RootCauseAnalysis) -> OrderedDict[str, list[IshikawaCause]]:
    """Causes grouped by category: the six Ms first (always present, maybe empty), then free
    categories in alphabetical order; causes in the order they were added."""
    groups: OrderedDict[str, list[IshikawaCause]] = OrderedDict(
        (category, []) for category in ISHIKAWA_CATEGORIES
    )
    for category in sorted({item.category for item in analysis.ishikawa_causes}):
        groups.setdefault(category, [])
    for item in analysis.ishikawa_causes:
        groups[item.category].append(item)
    return groups


# --- 8D --------------------------------------------------------------------------------------


def save_eight_d_section(
    analysis: RootCauseAnalysis,
    discipline: str,
    content: str,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> EightDSection:
    """Create or replace the content of one 8D discipline (D0–D8)."""
    _before_change(analysis, user, expected_version)
    key = (discipline or "").strip().upper()
    if key not in EIGHT_D_DISCIPLINES:
        raise ServiceError("Choose one of the disciplines D0 to D8.", field="discipline")
    text = checked_text(content, f"{key}", "content", SECTION_MAX_LENGTH, required=False)
    for section in analysis.eight_d_sections:
        if section.discipline == key:
            section.content = text
            break
    else:
        section = EightDSection(discipline=key, content=text)
        analysis.eight_d_sections.append(section)
    _touch(analysis)
    return section


def eight_d_contents(analysis: RootCauseAnalysis) -> list[tuple[str, str, str]]:
    """(discipline, title, content) for D0–D8 in order, empty content where none is saved."""
    saved = {section.discipline: section.content for section in analysis.eight_d_sections}
    return [(key, title, saved.get(key, "")) for key, title in EIGHT_D_DISCIPLINES.items()]


# --- root causes -----------------------------------------------------------------------------


def add_root_cause(
    analysis: RootCauseAnalysis,
    statement: str,
    cause_category: str,
    *,
    user: User | None = None,
    expected_version: object = None,
) -> RootCause:
    """Record a root-cause statement with its category (the six Ms or free; used for Pareto)."""
    _before_change(analysis, user, expected_version)
    root_cause = RootCause(
        statement=checked_text(
            statement, "The root-cause statement", "statement", STATEMENT_MAX_LENGTH
        ),
        cause_category=normalise_category(cause_category, field="cause_category"),
        verified=False,
    )
    analysis.root_causes.append(root_cause)
    _touch(analysis)
    return root_cause


def verify_root_cause(
    root_cause: RootCause, user: User, *, expected_version: object = None
) -> RootCause:
    """Mark a root cause verified by `user` (quality leads only) now."""
    analysis = root_cause.analysis
    if user is None or not role_can(user.role, Permission.RECORDS_MANAGE):
        raise NotPermitted("Only a quality lead may verify a root cause.")
    if expected_version is not None:
        ensure_current_version(analysis, expected_version, "The analysis")
    _require_open(analysis.nonconformity)
    if root_cause.verified:
        raise ServiceError("This root cause is already verified.")
    root_cause.verified = True
    root_cause.verified_by_id = user.id
    root_cause.verified_at = utcnow()
    _touch(analysis)
    return root_cause


def get_root_cause(analysis: RootCauseAnalysis, root_cause_id: int) -> RootCause | None:
    for root_cause in analysis.root_causes:
        if root_cause.id == root_cause_id:
            return root_cause
    return None


# --- history ---------------------------------------------------------------------------------


def analysis_history(analysis: RootCauseAnalysis) -> list[Any]:
    """The events of the analysis and of its current steps, causes, sections and root causes,
    oldest first. (Events of removed entries stay in the audit trail.)"""
    children = [
        *analysis.why_steps,
        *analysis.ishikawa_causes,
        *analysis.eight_d_sections,
        *analysis.root_causes,
    ]
    if not children:
        return history_of(analysis)
    by_type: dict[str, list[str]] = {}
    for record in [analysis, *children]:
        by_type.setdefault(record_type_of(record), []).append(str(record.id))
    condition = or_(
        *(
            and_(AuditEvent.record_type == record_type, AuditEvent.record_id.in_(ids))
            for record_type, ids in by_type.items()
        )
    )
    return list(db.session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id)))
