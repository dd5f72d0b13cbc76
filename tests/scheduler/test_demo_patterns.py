"""On the demo data the review raises the seeded patterns: the pair that steps up for its last ten
weeks and the pair that bursts for one week.

`make run` seeds 3,000 complaints, where the burst is only about five complaints in its week: found
when five or more land in it (rule (b)'s minimum), as on the day this was written. The test seeds
10,000, where both patterns stand clear of the noise, at a fixed date so it never changes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from app.demo import complaints as demo_complaints
from app.demo import seed_demo_data, seed_quality_loop
from app.demo.complaints import DAYS
from app.extensions import db
from app.scheduler.models import RecurrenceRule
from app.scheduler.recurrence import ReviewSettings, detect_recurrences

# A fixed "now" for the seed (and the review), so the data and the answer never change.
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def test_the_review_finds_the_stepped_and_the_burst_pair_of_the_demo_data(session, monkeypatch):
    seeded: dict[str, tuple[int, int]] = {}
    original = demo_complaints._pair_weights

    def recording(ctx):  # the seed's own weights say which pair steps up and which bursts
        pairs, weights = original(ctx)
        seeded["stepped"] = pairs[int(np.argmax(weights[-1] / weights[0]))]
        seeded["burst"] = pairs[int(np.argmax(weights[DAYS - 20] / weights[0]))]
        return pairs, weights

    monkeypatch.setattr(demo_complaints, "_pair_weights", recording)
    seed_demo_data()
    seed_quality_loop(db.session.connection(), 10_000, now=NOW)
    assert seeded["stepped"] != seeded["burst"]

    found = {
        detection.key: detection.rules
        for detection in detect_recurrences(ReviewSettings(), NOW).detections
    }

    # The step shows as weeks above the limit (and, when no week of the eight drops to zero, as
    # a run above the centre line); the burst as weeks above the limit.
    assert set(found[seeded["stepped"]]) & {
        RecurrenceRule.ABOVE_UPPER_LIMIT,
        RecurrenceRule.RUN_ABOVE_CENTRE,
    }
    assert RecurrenceRule.ABOVE_UPPER_LIMIT in found[seeded["burst"]]
