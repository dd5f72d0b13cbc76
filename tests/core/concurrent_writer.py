"""A separate process that writes audited records as fast as it can (see test_audit_concurrency).

Usage: python -m tests.core.concurrent_writer DATABASE_URL WORKER_NUMBER RECORD_COUNT
"""

from __future__ import annotations

import os
import sys


def main(url: str, worker: int, count: int) -> None:
    os.environ["LOOP_ENV"] = "testing"
    from app import create_app
    from app.core.audit import acting_as
    from app.extensions import db
    from app.organisation.models import Site

    app = create_app({"DATABASE_URL": url})
    with app.app_context(), acting_as(f"system:writer-{worker}"):
        for n in range(count):
            db.session.add(Site(code=f"W{worker}N{n}", name=f"Worker {worker} site {n}"))
            db.session.commit()  # one transaction per record: the most contention possible


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
