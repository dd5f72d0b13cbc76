"""Forms for internal audits. They parse input; the services hold the rules."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.accounts.models import User
from app.audits.models import Answer, Clause, FindingKind
from app.audits.services import (
    CLAUSE_NUMBER_MAX_LENGTH,
    CODE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from app.core.forms import select_choices
from app.core.signatures import SignatureMeaning
from app.organisation.models import Process, Site

NONE = ""


def _people(users: Iterable[User]) -> list[tuple[str, str]]:
    return [(str(u.id), f"{u.full_name} ({u.role_label.lower()})") for u in users]


class ProgrammeForm(FlaskForm):
    year = IntegerField(
        "Year",
        validators=[InputRequired(message="The year is required."), NumberRange(2000, 2100)],
    )
    title = StringField(
        "Title",
        validators=[Length(max=TITLE_MAX_LENGTH)],
        description="Leave empty for “Internal audit programme <year>”.",
    )
    interval_months = IntegerField(
        "Audit every process at least every … months",
        default=12,
        validators=[InputRequired(), NumberRange(1, 60, message="Use 1 to 60 months.")],
        description="Processes flagged by risk are due after half this interval.",
    )
    objectives = TextAreaField("Objectives", validators=[Length(max=TEXT_MAX_LENGTH)])


class AuditForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    planned_start = DateField(
        "Planned start", validators=[InputRequired(message="The planned start is required.")]
    )
    planned_end = DateField(
        "Planned end", validators=[InputRequired(message="The planned end is required.")]
    )
    lead_auditor_id = SelectField("Lead auditor", validators=[DataRequired()])
    team_ids = SelectMultipleField(
        "Audit team", description="Hold Ctrl (⌘ on a Mac) to choose several."
    )
    process_ids = SelectMultipleField("Processes in scope")
    site_ids = SelectMultipleField("Sites in scope")
    clause_ids = SelectMultipleField("Clauses in scope")
    scope = TextAreaField(
        "Scope", validators=[Length(max=TEXT_MAX_LENGTH)], description="What the audit covers."
    )
    criteria = TextAreaField(
        "Criteria",
        validators=[Length(max=TEXT_MAX_LENGTH)],
        description="What the audit checks against: the standard, procedures, contracts.",
    )
    independence_justification = TextAreaField(
        "Justified exception to auditor independence (quality lead)",
        validators=[Length(max=REASON_MAX_LENGTH)],
        description="Only when an auditor owns a process in scope and nobody else can audit "
        "it: why. Kept on the audit and in the audit trail.",
    )
    version = HiddenField()

    def set_choices(
        self,
        people: Iterable[User],
        processes: Iterable[Process],
        sites: Iterable[Site],
        clauses: Iterable[Clause],
    ) -> None:
        people = _people(people)
        self.lead_auditor_id.choices = select_choices([(NONE, "— choose —"), *people])
        self.team_ids.choices = select_choices(people)
        self.process_ids.choices = select_choices([(str(p.id), p.name) for p in processes])
        self.site_ids.choices = select_choices([(str(s.id), s.name) for s in sites])
        self.clause_ids.choices = select_choices(
            [(str(c.id), f"{c.standard.code} {c.label}") for c in clauses]
        )


class TransitionForm(FlaskForm):
    transition = HiddenField(validators=[DataRequired(message="Choose an action.")])
    reason = TextAreaField("Reason", validators=[Length(max=REASON_MAX_LENGTH)])
    version = HiddenField()


class ExceptionForm(FlaskForm):
    justification = TextAreaField(
        "Justification",
        validators=[
            DataRequired(message="Say why the exception is justified."),
            Length(max=REASON_MAX_LENGTH),
        ],
    )


class ChecklistForm(FlaskForm):
    template_id = SelectField(
        "Checklist template", validators=[DataRequired(message="Choose a checklist template.")]
    )


class AnswerForm(FlaskForm):
    answer = SelectField(
        "Answer",
        choices=select_choices([(NONE, "— choose —")] + [(a.value, a.label) for a in Answer]),
        validators=[DataRequired(message="Choose an answer.")],
    )
    evidence = TextAreaField("Evidence", validators=[Length(max=TEXT_MAX_LENGTH)])
    version = HiddenField()


class FindingForm(FlaskForm):
    kind = SelectField(
        "Kind",
        choices=select_choices([(NONE, "— choose —")] + [(k.value, k.label) for k in FindingKind]),
        validators=[DataRequired(message="Choose the kind of finding.")],
    )
    description = TextAreaField(
        "Description", validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)]
    )
    evidence = TextAreaField("Evidence", validators=[Length(max=TEXT_MAX_LENGTH)])
    process_id = SelectField("Process", validators=[Optional()])
    question_id = SelectField("Checklist question", validators=[Optional()])

    def set_choices(self, audit) -> None:  # type: ignore[no-untyped-def]
        self.process_id.choices = select_choices(
            [(NONE, "— none —")] + [(str(p.id), p.name) for p in audit.processes]
        )
        self.question_id.choices = select_choices(
            [(NONE, "— none —")]
            + [(str(q.id), f"{q.position}. {q.text[:80]}") for q in audit.questions]
        )


class ConclusionForm(FlaskForm):
    conclusion = TextAreaField(
        "Conclusion", validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)]
    )
    version = HiddenField()


class StandardForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=CODE_MAX_LENGTH)])
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])


class ClauseForm(FlaskForm):
    number = StringField(
        "Clause number", validators=[DataRequired(), Length(max=CLAUSE_NUMBER_MAX_LENGTH)]
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    description = TextAreaField("Description", validators=[Length(max=TEXT_MAX_LENGTH)])
    standard_id = SelectField("Standard", validators=[DataRequired()])
    questions = TextAreaField(
        "Questions",
        validators=[DataRequired(message="Write at least one question."), Length(max=50_000)],
        description="One question a line, starting with its clause number: "
        "“8.5 Are work instructions available where the service is delivered?”",
    )


class SignReportForm(FlaskForm):
    meaning = SelectField(
        "Meaning of your signature",
        choices=select_choices([(SignatureMeaning.APPROVED.value, "Approved")]),
        validators=[DataRequired()],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired(message="Re-enter your password to sign."), Length(max=1024)],
        description="Re-enter your password: it is your electronic signature.",
    )
