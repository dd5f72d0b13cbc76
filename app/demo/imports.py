"""Demo saved import mappings: the ready-made mappings of docs/mappings/ (Comcast, ServiceNow,
consumer-finance and airline exports), so the import wizard offers them at once."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.intake import services
from app.intake.models import ImportMapping

MAPPINGS = Path(__file__).resolve().parents[2] / "docs" / "mappings"


def seed_demo_mappings() -> int:
    """Save each shipped mapping under its own name (audited, as "Save this mapping as" does).
    Does nothing when saved mappings exist or the folder is missing; returns how many it saved."""
    if db.session.scalar(select(func.count(ImportMapping.id))) or not MAPPINGS.is_dir():
        return 0
    saved = 0
    for path in sorted(MAPPINGS.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        services.save_mapping(definition.get("name") or path.stem, definition, user=None)
        saved += 1
    return saved
