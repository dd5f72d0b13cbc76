"""The demo's signed records follow the record-control rules: every closed nonconformity and
every effective or closed CAPA is signed, by a quality lead who is neither its owner nor (for a
CAPA) its implementer, and each signature still matches what it signed."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.services import signatures_of
from app.capa import services as capa_services
from app.capa.models import Capa, CapaStatus
from app.core.signatures import changed_after_signature
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformityStatus


def test_the_demo_signs_its_closed_records_with_separate_signers(databases):
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--complaints", "6000"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ncs = db.session.scalars(
            select(Nonconformity).where(Nonconformity.status == NonconformityStatus.CLOSED)
        ).all()
        capas = db.session.scalars(
            select(Capa).where(Capa.status.in_([CapaStatus.EFFECTIVE, CapaStatus.CLOSED]))
        ).all()
        assert ncs and capas
        for nc in ncs:
            (signature,) = signatures_of(nc)
            assert signature.signer_id != nc.owner_id
            assert not changed_after_signature(signature, nc)
        for capa in capas:
            assert capa.implemented_by_id is not None
            rows = capa_services.signature_rows(capa)
            purposes = [row.signature.purpose for row in rows]
            assert purposes == (
                ["capa_effectiveness", "capa_closure"]
                if capa.status == CapaStatus.CLOSED
                else ["capa_effectiveness"]
            )
            for row in rows:
                assert row.signature.signer_id not in (capa.owner_id, capa.implemented_by_id)
                assert not row.changed, (capa.reference, row.purpose_label)
