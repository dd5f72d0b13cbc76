"""The process FMEA worksheet: the header, every row with S/O/D, RPN and AIAG-VDA action priority
before and after action, the failures observed in the last twelve months beside each occurrence
rating, the approved revisions with their signatures, and the recorded nonconformities of the
process that no row covers. A landscape table whose header (the FMEA's identity and the column
headings) repeats on every page."""

from __future__ import annotations

from app.accounts.services import signatures_of
from app.core.signatures import changed_after_signature
from app.fmea import observed, services
from app.fmea.models import Fmea
from reports.base import Report, day, report_data, signature_data, when


def gather_fmea_report(fmea: Fmea) -> Report:
    """The worksheet of `fmea`'s working copy (load it with `services.get_by_reference`)."""
    filters = [("Record", fmea.reference)]
    rows = services.rows_of(fmea)
    evidence = observed.evidence_for_rows(fmea, rows)
    row_items = []
    for row in rows:
        item = services.row_data(row)
        found = evidence[row.id]
        item["observed"] = (
            None
            if found.observed is None
            else {
                "complaints": found.observed.complaints,
                "nonconformities": found.observed.nonconformities,
                "total": found.observed.total,
            }
        )
        item["contradicts"] = found.contradicts
        row_items.append(item)
    revisions = []
    for revision in fmea.revisions:
        revisions.append(
            {
                "label": revision.label,
                "approved_at": when(revision.approved_at),
                "approved_by": revision.approved_by.full_name,
                "change_note": revision.change_note,
                "snapshot_sha256": revision.snapshot_sha256,
                "signatures": [
                    signature_data(
                        sig,
                        revision.label,
                        changed_after_signature(sig, revision),
                        purpose="FMEA revision approval",
                    )
                    for sig in signatures_of(revision)
                ],
            }
        )
    unmatched = observed.unmatched_nonconformities(fmea.process_id)
    data = report_data(
        filters,
        fmea={
            "reference": fmea.reference,
            "revision": fmea.revision,
            "title": fmea.title,
            "process": fmea.process.name,
            "process_step": fmea.process_step,
            "team": fmea.team,
            "scope": fmea.scope,
            "owner": fmea.owner.full_name if fmea.owner else None,
            "prepared_on": day(fmea.prepared_on),
            "next_review_on": day(fmea.next_review_on),
        },
        window_days=observed.WINDOW_DAYS,
        rows=row_items,
        flagged=sum(1 for item in row_items if item["contradicts"]),
        revisions=revisions,
        unmatched={
            "total": unmatched.total,
            "shown": [
                {
                    "reference": nc.reference,
                    "title": nc.title,
                    "category": nc.category.name if nc.category else None,
                    "detected_at": when(nc.detected_at),
                }
                for nc in unmatched.nonconformities
            ],
        },
    )
    return Report(
        kind="fmea",
        title=f"Process FMEA {fmea.reference} rev {fmea.revision}",
        template="fmea.html",
        data=data,
        filters=filters,
        record_type="fmea",
        record_id=str(fmea.id),
        filename_stem=f"fmea-{fmea.reference}-rev{fmea.revision}",
        landscape=True,
        subject=f"Process FMEA {fmea.reference}: {fmea.title} ({fmea.process.name})",
        keywords=[fmea.reference, "FMEA", "AIAG-VDA"],
    )
