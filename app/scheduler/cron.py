"""Cron schedules (APScheduler's CronTrigger, always in UTC) and the slots they define."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from app.core.errors import ServiceError

RESOLUTION = timedelta(seconds=1)  # cron fire times are whole seconds


def parse_cron(expression: str) -> CronTrigger:
    """A crontab line in UTC: five fields (minute hour day month day-of-week), or six with the
    seconds first. Day-of-week names (mon…sun) are clearest: APScheduler counts 0 as Monday."""
    fields = (expression or "").split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=UTC,
            )
    except ValueError as error:
        raise ServiceError(f"Not a valid schedule: {error}.", field="cron") from None
    raise ServiceError(
        "A schedule has five fields (minute hour day month day-of-week), e.g. “0 5 * * *”.",
        field="cron",
    )


def next_slot(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`."""
    return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))


def latest_slot(trigger: CronTrigger, after: datetime, now: datetime) -> datetime | None:
    """The last fire time in (after, now], or None: after downtime the missed slots coalesce into
    this one. A binary search over time, so a long gap costs ~40 steps, not one per slot."""
    found = next_slot(trigger, after)
    if found is None or found > now:
        return None
    low, high = found, now
    for _ in range(64):  # halves the gap each time: 64 steps cover any span
        if high - low <= RESOLUTION:
            break
        middle = low + (high - low) / 2
        candidate = trigger.get_next_fire_time(None, middle)
        if candidate is not None and candidate <= now:
            low = found = candidate
        else:
            high = middle
    # No slot lies in [high, now]; at most one lies between `found` and `high`.
    for _ in range(3):
        following = next_slot(trigger, found)
        if following is None or following > now:
            break
        found = following
    return found
