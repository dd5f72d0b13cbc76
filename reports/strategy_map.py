"""The strategy map for the management review: each objective's line from its initiatives,
principles and SMART goals down to the CAPAs and document changes that serve them and the
complaints those CAPAs answer, with the figures at each step (app.strategy.strategy_map)."""

from __future__ import annotations

from datetime import date

from app.core.db import utcnow
from app.strategy import strategy_map as map_services
from reports.base import Report, day, report_data


def gather_strategy_map(today: date | None = None) -> Report:
    """The strategy map as of `today` (the current UTC date unless given)."""
    today = today or utcnow().date()
    filters = [("As of", today.isoformat())]
    lines = map_services.strategy_map(today)
    data = report_data(
        filters,
        objectives=[
            {
                "title": line.objective.title,
                "description": line.objective.description,
                "figures": vars(line.figures).copy(),
                "initiatives": [
                    {
                        "title": step.initiative.title,
                        "departments": [d.name for d in step.departments],
                        "principles": [p.name for p in step.initiative.principles],
                        "goals": [
                            {
                                "kpi": item.kpi.label if item.kpi else item.goal.kpi,
                                "baseline": item.show(item.baseline),
                                "target": item.show(item.target),
                                "current": item.show(item.current),
                                "deadline": day(item.goal.deadline),
                                "progress": item.progress_shown,
                                "status": item.status.label,
                            }
                            for item in step.goals
                        ],
                        "capas": [
                            {
                                "reference": capa.capa.reference,
                                "title": capa.capa.title,
                                "status": capa.capa.status.label,
                                "document_changes": [r.label for r in capa.document_changes],
                                "complaints": [
                                    {
                                        "reference": c.complaint.reference,
                                        "title": c.complaint.title,
                                        "status": c.complaint.status.label,
                                        "recovered": c.recovered,
                                        "stayed": c.stayed,
                                    }
                                    for c in capa.complaints
                                ],
                            }
                            for capa in step.capas
                        ],
                    }
                    for step in line.initiatives
                ],
            }
            for line in lines
        ],
    )
    return Report(
        kind="strategy_map",
        title="Strategy map",
        template="strategy_map.html",
        data=data,
        filters=filters,
        record_type="strategy_map",
        record_id=None,
        filename_stem=f"strategy-map-{today.isoformat()}",
        subject="Objectives to measured fixes and recovered customers",
        keywords=["strategy map", "service recovery"],
    )
