"""A separate process that records and resolves complaints as fast as it can, all in the same
rollup cells as the other processes (see test_rollup_concurrency).

Usage: python -m tests.metrics.concurrent_complaints DATABASE_URL USER_ID PROCESS_ID COUNT
"""

from __future__ import annotations

import os
import sys


def main(url: str, user_id: int, process_id: int, count: int) -> None:
    os.environ["LOOP_ENV"] = "testing"
    from app import create_app
    from app.accounts.models import User
    from app.complaints import services as complaints
    from app.core.audit import acting_as
    from app.extensions import db

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        user = db.session.get(User, user_id)
        with acting_as(f"user:{user_id}"):
            for n in range(count):
                # One transaction per write, each touching the same day × process × channel
                # cells as every other process: the most contention the rollups can meet.
                complaint = complaints.record_complaint(
                    user=user,
                    title=f"Concurrent complaint {n}",
                    channel="phone" if n % 2 else "email",
                    severity="medium",
                    process_id=process_id,
                )
                db.session.commit()
                for step in ("acknowledge", "resolve"):
                    complaints.transition_complaint(complaint, step, user=user)
                    db.session.commit()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
