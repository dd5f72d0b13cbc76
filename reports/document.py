"""A controlled copy of a document revision: number, revision, effective date and approval
signatures up front, the text, and — for a revision no longer in force — an "Uncontrolled —
superseded" watermark on every page."""

from __future__ import annotations

from app.documents import services as document_services
from app.documents.models import DocumentRevision, RevisionStatus
from reports.base import Report, name_of, report_data, signature_data, when


def gather_document_copy(revision: DocumentRevision) -> Report:
    document = revision.document
    in_force = revision.status == RevisionStatus.EFFECTIVE
    if in_force:
        watermark = None
    elif revision.status == RevisionStatus.SUPERSEDED:
        watermark = "Uncontrolled — superseded"
    elif revision.status == RevisionStatus.OBSOLETE:
        watermark = "Uncontrolled — obsolete"
    else:
        watermark = f"Uncontrolled — {revision.status.label.lower()}"
    data = report_data(
        [("Document", document.number), ("Revision", str(revision.number))],
        document={
            "number": document.number,
            "title": document.title,
            "type": document.doc_type.label,
            "owner": name_of(document.owner),
            "processes": [process.name for process in document.processes],
        },
        revision={
            "number": revision.number,
            "status": revision.status.label,
            "change_reason": revision.change_reason,
            "capa": revision.capa.reference if revision.capa else None,
            "author": name_of(revision.author),
            "effective_from": when(revision.effective_from),
            "effective_until": when(revision.effective_until),
            "content_kind": revision.content_kind.value,
            "body_markdown": revision.body_markdown,
            "filename": revision.filename,
            "file_sha256": revision.file_sha256,
        },
        controlled=in_force,
        watermark=watermark,
        signatures=[
            signature_data(row.signature, revision.label, row.changed, row.purpose_label)
            for row in document_services.signature_rows(revision)
        ],
    )
    title = f"{document.number} revision {revision.number}"
    if revision.effective_from is not None:
        title += f" — effective {revision.effective_from:%Y-%m-%d}"
    return Report(
        kind="document_copy",
        title=title,
        template="document.html",
        data=data,
        filters=[("Document", document.number), ("Revision", str(revision.number))],
        record_type="document_revision",
        record_id=str(revision.id),
        filename_stem=f"{document.number}-rev{revision.number}",
        subject=document.title,
    )
