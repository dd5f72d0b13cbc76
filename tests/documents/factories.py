"""Documents through their services: a lead writes, another lead reviews and approves."""

from __future__ import annotations

from typing import Any

from app.accounts.models import User
from app.documents import services
from app.documents.models import ControlledDocument, DocumentRevision
from tests import factories
from tests.conftest import TEST_PASSWORD


def make_document(author: User, **overrides: Any) -> ControlledDocument:
    values: dict[str, Any] = {
        "doc_type": "procedure",
        "title": "Handling refund requests",
        "owner_id": author.id,
        "reader_roles": ["contributor"],
        "review_interval_months": 12,
        "change_reason": "New procedure after repeated double refunds",
        "body_markdown": "# Refunds\n\n1. Check the order.\n2. Refund **once**.",
    }
    values.update(overrides)
    return services.create_document(user=author, **values)


def release(revision: DocumentRevision, author: User, approver: User | None = None) -> None:
    """Submit, review, approve and make effective: the author signs, another lead the rest."""
    approver = approver or factories.other_lead(author)
    services.submit_for_review(revision, author, TEST_PASSWORD)
    services.sign_review(revision, approver, TEST_PASSWORD)
    services.approve(revision, approver, TEST_PASSWORD)
    services.make_effective(revision, approver)
