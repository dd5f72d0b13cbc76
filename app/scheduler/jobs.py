"""The built-in jobs. Each is one `register_job` call; the admin page and every scheduler see it.

The monthly archived review pack, for instance, is one more registration (in the module that
renders the pack, listed in `registry.JOB_MODULES`):

    register_job(JobDefinition(
        name="archive-review-pack",
        title="Archive the monthly review pack",
        description="Render last month's quality review pack and keep it with its hash.",
        default_cron="0 6 1 * *",
        run=lambda context: archive_review_pack(month_before(context.as_of)),
    ))
"""

from __future__ import annotations

from datetime import date

from app.scheduler.effectiveness import run_due_automatic_checks
from app.scheduler.recurrence import FINGERPRINT_CHOICES, WINDOW_BASIS_CHOICES, ReviewSettings
from app.scheduler.registry import JobContext, JobDefinition, JobSetting, register_job
from app.scheduler.reminders import send_reminders
from app.scheduler.signals import RECURRENCE_REVIEW_JOB, review_history, review_recurring_failures

_DEFAULTS = ReviewSettings()


def _review(context: JobContext) -> dict[str, int]:
    # A manual run over a history (`services.run_history_review`) carries its checked range.
    if "review_to" in context.options:
        return review_history(
            context.settings,
            date.fromisoformat(context.options["review_from"]),
            date.fromisoformat(context.options["review_to"]),
            context.run_id,
        )
    return review_recurring_failures(context.settings, context.as_of, context.run_id)


RECURRENCE_REVIEW = register_job(
    JobDefinition(
        name=RECURRENCE_REVIEW_JOB,
        title="Recurring-failure review",
        description=(
            "Groups complaints and nonconformities by fingerprint and opens a nonconformity when "
            "(a) the count in the rolling window reaches the threshold (optionally also a share "
            "of the process's records), (b) a week is above the "
            "c-chart upper control limit, or (c) 8 weeks in a row are above the centre line."
        ),
        default_cron="0 5 * * *",
        run=_review,
        settings=(
            JobSetting(
                "fingerprint",
                "Fingerprint",
                _DEFAULTS.fingerprint,
                choices=FINGERPRINT_CHOICES,
                help="What makes two failures “the same”.",
            ),
            JobSetting(
                "window_days",
                "Rolling window (days)",
                _DEFAULTS.window_days,
                1,
                366,
                help="Rule (a).",
            ),
            JobSetting(
                "window_threshold",
                "Threshold in the window",
                _DEFAULTS.window_threshold,
                1,
                1_000_000,
                help="Rule (a): a fingerprint with this many records in the window signals.",
            ),
            JobSetting(
                "window_basis",
                "Rule (a) relative to volume",
                _DEFAULTS.window_basis,
                choices=WINDOW_BASIS_CHOICES,
                help="Share: a busy process's pairs signal only when they are a large part of "
                "it; off: only a change against the c-chart signals.",
            ),
            JobSetting(
                "window_share_percent",
                "Share threshold (%)",
                _DEFAULTS.window_share_percent,
                1,
                100,
                help="Rule (a) with “Share”: the fingerprint's share of its process's records in "
                "the window (of all records for a process or category fingerprint).",
            ),
            JobSetting(
                "baseline_weeks",
                "Baseline (weeks)",
                _DEFAULTS.baseline_weeks,
                4,
                260,
                help="Rules (b) and (c): the weeks before the review period that set the limits.",
            ),
            JobSetting(
                "review_weeks",
                "Review period (weeks)",
                _DEFAULTS.review_weeks,
                8,
                52,
                help="Rules (b) and (c): the latest complete weeks judged against the limits.",
            ),
            JobSetting(
                "min_weekly_count",
                "Minimum weekly count for rule (b)",
                _DEFAULTS.min_weekly_count,
                1,
                1_000_000,
                help="Rule (b): a week above the upper limit counts only with this many records.",
            ),
        ),
    )
)

REMINDERS = register_job(
    JobDefinition(
        name="overdue-reminders",
        title="Overdue reminders",
        description=(
            "Reminds owners of CAPAs, manual effectiveness checks and trainings past their due "
            "date, in the app and by e-mail, at most once a day per item."
        ),
        default_cron="0 7 * * *",
        run=lambda context: send_reminders(context.as_of),
    )
)

AUTOMATIC_CHECKS = register_job(
    JobDefinition(
        name="automatic-effectiveness-checks",
        title="Automatic effectiveness checks",
        description=(
            "Evaluates due no-recurrence checks: passed → awaiting the quality lead's sign-off; "
            "failed → the CAPA becomes ineffective and its owner is told."
        ),
        default_cron="30 5 * * *",
        run=lambda context: run_due_automatic_checks(context.as_of),
    )
)
