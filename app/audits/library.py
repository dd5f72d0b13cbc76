"""The audit library: standards and their clauses (ISO 9001:2015 ships with the migrations and
does not change; users add their own) and the checklist templates an audit copies its questions
from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import User
from app.audits.models import ChecklistQuestion, ChecklistTemplate, Clause, Standard
from app.audits.services import (
    CLAUSE_NUMBER_MAX_LENGTH,
    CODE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    _clause,
    _require_plan,
)
from app.core.errors import ServiceError
from app.core.validation import checked_text
from app.extensions import db


def create_standard(code: str, title: str, *, user: User | None = None) -> Standard:
    """Add a standard of the organisation's own (e.g. ISO 14001:2015, an internal code)."""
    _require_plan(user, "add standards")
    code = checked_text(code, "A code", "code", CODE_MAX_LENGTH, required=True)
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True)
    if db.session.scalar(select(Standard).where(func.lower(Standard.code) == code.lower())):
        raise ServiceError(f"There is already a standard {code}.", field="code")
    standard = Standard(code=code, title=title, builtin=False)
    db.session.add(standard)
    db.session.flush()
    return standard


def add_clause(standard: Standard, number: str, title: str, *, user: User | None = None) -> Clause:
    """Add a clause to a user-defined standard; the shipped ISO 9001:2015 clauses do not change."""
    _require_plan(user, "add clauses")
    if standard.builtin:
        raise ServiceError(
            f"{standard.code} is shipped reference data and cannot be changed; add a standard "
            "of your own for other clauses."
        )
    number = checked_text(number, "A clause number", "number", CLAUSE_NUMBER_MAX_LENGTH, True)
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True)
    if any(clause.number == number for clause in standard.clauses):
        raise ServiceError(f"{standard.code} already has a clause {number}.", field="number")
    clause = Clause(
        standard=standard, number=number, title=title, position=len(standard.clauses) + 1
    )
    db.session.add(clause)
    db.session.flush()
    return clause


def create_template(
    name: str,
    description: str = "",
    questions: Iterable[tuple[str, int]] = (),
    *,
    user: User | None = None,
) -> ChecklistTemplate:
    """A checklist template: questions in order, each linked to a clause."""
    _require_plan(user, "keep checklist templates")
    name = checked_text(name, "A name", "name", TITLE_MAX_LENGTH, required=True)
    if db.session.scalar(
        select(ChecklistTemplate).where(func.lower(ChecklistTemplate.name) == name.lower())
    ):
        raise ServiceError(f"There is already a checklist template {name}.", field="name")
    template = ChecklistTemplate(
        name=name,
        description=checked_text(
            description, "The description", "description", TEXT_MAX_LENGTH, False
        ),
        active=True,
    )
    db.session.add(template)
    db.session.flush()
    for text, clause_id in questions:
        add_template_question(template, text, clause_id, user=user)
    return template


def add_template_question(
    template: ChecklistTemplate, text: str, clause_id: Any, *, user: User | None = None
) -> ChecklistQuestion:
    _require_plan(user, "keep checklist templates")
    question = ChecklistQuestion(
        template=template,
        position=len(template.questions) + 1,
        text=checked_text(text, "The question", "text", TEXT_MAX_LENGTH, required=True),
        clause=_clause(clause_id),
    )
    db.session.add(question)
    db.session.flush()
    return question


def create_template_from_lines(
    name: str, description: str, standard_id: Any, lines: str, *, user: User | None = None
) -> ChecklistTemplate:
    """A checklist template from text, one question a line, each starting with the number of a
    clause of the chosen standard ("8.5 Are work instructions available?")."""
    _require_plan(user, "keep checklist templates")
    standard = db.session.get(Standard, int(standard_id)) if str(standard_id).isdigit() else None
    if standard is None:
        raise ServiceError("Choose a standard.", field="standard_id")
    clauses = {clause.number: clause for clause in standard.clauses}
    questions = []
    for number, line in enumerate((lines or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        clause_number, _, text = line.partition(" ")
        clause = clauses.get(clause_number.rstrip(":"))
        if clause is None:
            raise ServiceError(
                f"Line {number}: start with a clause number of {standard.code} "
                f"(“{clause_number}” is none).",
                field="questions",
            )
        if not text.strip():
            raise ServiceError(
                f"Line {number}: write the question after the clause number.", field="questions"
            )
        questions.append((text.strip(), clause.id))
    if not questions:
        raise ServiceError("Write at least one question.", field="questions")
    return create_template(name, description, questions, user=user)
