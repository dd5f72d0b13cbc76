"""Electronic signatures for the demo's signed records, given as the rules ask.

Every closed nonconformity carries its closure signature; every effective or closed CAPA its
effectiveness signature, and a closed one its closure signature too. Each is given by a quality
lead who is not the record's owner (nor, for a CAPA, its implementer), so the demo shows what
separation of duties produces. The signed content hashes are computed from the stored records, so
the pages show every demo signature as unchanged since signing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.capa.models import Capa
from app.capa.services import CLOSURE_PURPOSE as CAPA_CLOSURE
from app.capa.services import EFFECTIVENESS_PURPOSE, effectiveness_content_hash
from app.core.signatures import Signature, content_hash
from app.demo.context import LoopSeedResult, SeedContext
from app.nonconformities.models import Nonconformity
from app.nonconformities.services import CLOSURE_PURPOSE as NC_CLOSURE

_BATCH = 500


def signer_for(ctx: SeedContext, *excluded: int | None) -> int | None:
    """The first quality lead who is none of `excluded`, or None when there is no such lead."""
    return next((lead for lead in ctx.leads if lead not in excluded), None)


def owner_leaving_a_signer(ctx: SeedContext, owner: int) -> int:
    """`owner`, or, when no other quality lead could then sign, the first staff member who is not
    a quality lead (the demo has one lead per role)."""
    if signer_for(ctx, owner) is not None:
        return owner
    return next((person for person in ctx.staff if person not in ctx.leads), owner)


def seed_signatures(ctx: SeedContext, rows: dict[str, list[dict]], result: LoopSeedResult) -> None:
    """Sign the closed nonconformities and the effective or closed CAPAs among `rows` (already
    inserted), in the caller's transaction."""
    people = {
        row.id: row
        for row in ctx.connection.execute(
            select(User.id, User.full_name, User.email).where(User.id.in_(ctx.leads))
        )
    }
    signatures: list[dict] = []
    session = Session(bind=ctx.connection)
    try:
        nc_rows = [row for row in rows.get("nonconformity", []) if row["status"] == "closed"]
        for nc in _loaded(session, Nonconformity, nc_rows):
            signer = signer_for(ctx, nc.owner_id)
            if signer is not None:
                signatures.append(
                    _signature(people[signer], nc, NC_CLOSURE, "approved", nc.closed_at)
                )
        capa_rows = [
            row for row in rows.get("capa", []) if row["status"] in ("effective", "closed")
        ]
        for capa in _loaded(session, Capa, capa_rows):
            signer = signer_for(ctx, capa.owner_id, capa.implemented_by_id)
            if signer is None:
                continue
            verified = min(capa.implemented_at + timedelta(days=31), capa.closed_at or ctx.now)
            signatures.append(
                _signature(
                    people[signer],
                    capa,
                    EFFECTIVENESS_PURPOSE,
                    "verified",
                    verified,
                    effectiveness_content_hash(capa),
                )
            )
            if capa.closed_at is not None:
                signatures.append(
                    _signature(people[signer], capa, CAPA_CLOSURE, "approved", capa.closed_at)
                )
    finally:
        session.close()
    if signatures:
        ctx.connection.execute(insert(Signature.__table__), signatures)
        name = Signature.__table__.name
        result.counts[name] = result.counts.get(name, 0) + len(signatures)


def _loaded(session: Session, model: type, rows: list[dict]) -> list:
    ids = [row["id"] for row in rows]
    found = []
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        found.extend(session.scalars(select(model).where(model.id.in_(batch)).order_by(model.id)))
    return found


def _signature(
    signer, record, purpose: str, meaning: str, when: datetime, signed_hash: str | None = None
) -> dict:
    return {
        "record_type": record.__tablename__,
        "record_id": str(record.id),
        "purpose": purpose,
        "meaning": meaning,
        "signer_id": signer.id,
        "signer_name": signer.full_name,
        "signer_email": signer.email,
        "signed_at": when,
        "content_hash": signed_hash or content_hash(record),
    }
