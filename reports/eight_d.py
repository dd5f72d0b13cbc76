"""The 8D report of a nonconformity: D0 to D8, each discipline with the team's narrative (from the
nonconformity's 8D analyses) and the evidence the record chain holds for it: the team, the
containment, the root causes, the actions, their verification and the recognition."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.services import signatures_of
from app.capa import services as capa_services
from app.capa.models import Capa, CapaKind, EffectivenessCheck, TrainingAssignment
from app.core.signatures import changed_after_signature
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import Nonconformity
from app.rca.fishbone import fishbone_svg
from app.rca.models import EIGHT_D_DISCIPLINES, AnalysisMethod, RootCause, RootCauseAnalysis
from app.rca.services import eight_d_contents
from reports.base import (
    Report,
    attachment_data,
    day,
    name_of,
    report_data,
    signature_data,
    when,
)


def load_nonconformity(reference: str) -> Nonconformity | None:
    """The nonconformity with everything its 8D report shows, in a fixed number of queries."""
    return db.session.scalar(
        select(Nonconformity)
        .where(Nonconformity.reference == (reference or "").strip().upper())
        .options(
            selectinload(Nonconformity.process),
            selectinload(Nonconformity.category),
            selectinload(Nonconformity.owner),
            selectinload(Nonconformity.complaints),
            selectinload(Nonconformity.analyses).options(
                selectinload(RootCauseAnalysis.created_by),
                selectinload(RootCauseAnalysis.why_steps),
                selectinload(RootCauseAnalysis.ishikawa_causes),
                selectinload(RootCauseAnalysis.eight_d_sections),
                selectinload(RootCauseAnalysis.root_causes).selectinload(RootCause.verified_by),
            ),
            selectinload(Nonconformity.capas).options(
                selectinload(Capa.owner),
                selectinload(Capa.principles),
                selectinload(Capa.checks).selectinload(EffectivenessCheck.checked_by),
                selectinload(Capa.trainings).selectinload(TrainingAssignment.staff),
            ),
        )
    )


def _team(nc: Nonconformity) -> list[dict[str, str]]:
    """Everyone the record chain names, with what they did, in order of first appearance."""
    roles: dict[str, list[str]] = {}

    def add(user: Any, role: str) -> None:
        if user is not None and role not in roles.setdefault(user.full_name, []):
            roles[user.full_name].append(role)

    add(nc.owner, "nonconformity owner")
    for analysis in nc.analyses:
        add(analysis.created_by, f"{analysis.method.label} analyst")
        for cause in analysis.root_causes:
            add(cause.verified_by, "verified a root cause")
    for capa in nc.capas:
        add(capa.owner, f"owner of {capa.reference}")
        for check in capa.checks:
            add(check.checked_by, "checked effectiveness")
        for training in capa.trainings:
            add(training.staff, "trained")
    return [{"name": name, "roles": ", ".join(what)} for name, what in roles.items()]


def _narratives(nc: Nonconformity) -> dict[str, list[dict[str, Any]]]:
    """The saved text of each discipline, per 8D analysis (a nonconformity may have several)."""
    narratives: dict[str, list[dict[str, Any]]] = {key: [] for key in EIGHT_D_DISCIPLINES}
    for analysis in nc.analyses:
        if analysis.method != AnalysisMethod.EIGHT_D:
            continue
        for key, _title, content in eight_d_contents(analysis):
            if content:
                narratives[key].append({"analysis": analysis_title(analysis), "text": content})
    return narratives


def analysis_title(analysis: RootCauseAnalysis) -> str:
    """How the report names an analysis: its method and its problem statement (its title), never
    its internal id."""
    statement = " ".join((analysis.problem_statement or "").split())
    return (
        f"{analysis.method.label} analysis: “{statement}”"
        if statement
        else (f"{analysis.method.label} analysis of {analysis.nonconformity.reference}")
    )


def _recognition(nc: Nonconformity, capas: list[dict[str, Any]]) -> dict[str, Any]:
    """D8: what the team is recognised for — the outcome the record chain shows."""
    effective = [c["reference"] for c in capas if c["latest_check"] == "Passed"]
    return {
        "outcome": (
            f"{len(effective)} of {len(capas)} action(s) verified effective"
            + (f" ({', '.join(effective)})" if effective else "")
            if capas
            else "No action was needed or planned"
        ),
        "status": nc.status.label,
        "closed_at": when(nc.closed_at),
    }


def _capa_data(capa: Capa) -> dict[str, Any]:
    latest = max(capa.checks, key=lambda check: check.id, default=None)
    return {
        "reference": capa.reference,
        "title": capa.title,
        "kind": capa.kind.label,
        "preventive": capa.kind == CapaKind.PREVENTIVE,
        "status": capa.status.label,
        "owner": name_of(capa.owner),
        "due_date": day(capa.due_date),
        "implemented_at": when(capa.implemented_at),
        "closed_at": when(capa.closed_at),
        "principles": [f"{p.id}. {p.name}" for p in capa.principles],
        "latest_check": latest.result.label if latest else None,
        "checks": [
            {
                "criterion": check.criterion,
                "method": check.method.label,
                "due_date": day(check.due_date),
                "result": check.result.label,
                "evidence": check.evidence,
                "checked_by": name_of(check.checked_by),
                "checked_at": when(check.checked_at),
            }
            for check in capa.checks
        ],
        "trainings": [
            {
                "staff": name_of(training.staff),
                "topic": training.topic,
                "due_date": day(training.due_date),
                "completed_at": when(training.completed_at),
            }
            for training in capa.trainings
        ],
    }


def gather_eight_d_report(nc: Nonconformity) -> Report:
    """The 8D report of `nc` (load it with `load_nonconformity`)."""
    filters = [("Record", nc.reference)]
    analyses = [
        {
            "id": analysis.id,
            "title": analysis_title(analysis),
            "method": analysis.method.label,
            "fishbone": f"fishbone-{analysis.id}" if analysis.ishikawa_causes else None,
            "problem_statement": analysis.problem_statement,
            "analyst": name_of(analysis.created_by),
            "why_steps": [
                {"position": step.position, "why": step.why, "because": step.because}
                for step in analysis.why_steps
            ],
            "ishikawa_causes": [
                {"category": cause.category, "cause": cause.cause}
                for cause in analysis.ishikawa_causes
            ],
        }
        for analysis in nc.analyses
    ]
    root_causes = [
        {
            "statement": cause.statement,
            "category": cause.cause_category,
            "method": analysis.method.label,
            "verified": cause.verified,
            "verified_by": name_of(cause.verified_by),
            "verified_at": when(cause.verified_at),
        }
        for analysis in nc.analyses
        for cause in analysis.root_causes
    ]
    capas = [_capa_data(capa) for capa in nc.capas]
    signatures = [
        signature_data(sig, nc.reference, changed_after_signature(sig, nc))
        for sig in signatures_of(nc)
    ]
    for capa in nc.capas:
        signatures.extend(
            signature_data(row.signature, capa.reference, row.changed, row.purpose_label)
            for row in capa_services.signature_rows(capa)
        )
    data = report_data(
        filters,
        nonconformity={
            "reference": nc.reference,
            "title": nc.title,
            "description": nc.description,
            "source": nc.source.label,
            "status": nc.status.label,
            "process": nc.process.name if nc.process else None,
            "category": nc.category.name if nc.category else None,
            "owner": name_of(nc.owner),
            "detected_at": when(nc.detected_at),
            "raised_at": when(nc.created_at),
            "severity": nc.severity,
            "occurrence": nc.occurrence,
            "detection": nc.detection,
            "rpn": nc.rpn,
            "rpn_band": nc_services.rpn_band(nc.rpn),
            "containment_action": nc.containment_action,
            "contained_at": when(nc.contained_at),
            "closed_at": when(nc.closed_at),
            "cancel_reason": nc.cancel_reason,
        },
        complaints=[
            {
                "reference": complaint.reference,
                "title": complaint.title,
                "received_at": when(complaint.received_at),
            }
            for complaint in nc.complaints
        ],
        disciplines=[
            {"key": key, "title": title, "narratives": texts}
            for (key, title), texts in zip(
                EIGHT_D_DISCIPLINES.items(), _narratives(nc).values(), strict=True
            )
        ],
        has_eight_d=any(a.method == AnalysisMethod.EIGHT_D for a in nc.analyses),
        team=_team(nc),
        analyses=analyses,
        root_causes=root_causes,
        capas=capas,
        recognition=_recognition(nc, capas),
        signatures=signatures,
        attachments=attachment_data(
            [
                (nc.reference, nc),
                *((f"{a.method.label} analysis", a) for a in nc.analyses),
            ]
        ),
    )
    charts = {
        f"fishbone-{analysis.id}": fishbone_svg(analysis)
        for analysis in nc.analyses
        if analysis.ishikawa_causes
    }
    return Report(
        kind="8d",
        title=f"8D report {nc.reference}",
        template="eight_d.html",
        data=data,
        filters=filters,
        record_type="nonconformity",
        record_id=str(nc.id),
        filename_stem=f"{nc.reference}-8D",
        subject=f"{nc.reference}: {nc.title}",
        keywords=[nc.reference, *(capa.reference for capa in nc.capas)],
        charts=charts,
    )
