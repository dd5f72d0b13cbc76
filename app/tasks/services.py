"""Background tasks: queue one from a request, claim it on a scheduler, run it, keep its file.

One mechanism for every heavy thing a page asks for. A page calls `enqueue(kind, params)` and sends
the user to the task's page, which polls its progress and offers the file when it is ready.
Every scheduler (the embedded one of `make run`, `flask --app wsgi scheduler run` on any host)
looks for queued tasks every `LOOP_TASK_POLL_SECONDS` and claims one with a conditional UPDATE
(`... WHERE status = 'queued'`): one runner wins, so a task runs exactly once however many
schedulers there are. The file is stored in the database, so any web worker on any host serves it,
and the `purge-task-results` job deletes finished tasks `TASK_RESULT_HOURS` after they finish.

A kind's function runs as the user who asked (the audit trail names them), inside a request
context made from the page's query string (so the page's own filter forms parse it), and in
deferred transactions like a GET (`app.core.transactions`): it reads without holding up writers,
and if its upgrade to a writer is refused it runs again from the start as a writer.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from app.accounts.models import User
from app.core.audit import acting_as
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.transactions import BEGUN_DEFERRED, DEFERRED_KEY, WROTE, WriteUpgradeRefused
from app.extensions import db
from app.scheduler.liveness import runner_id, stale_after
from app.tasks.models import BackgroundTask, TaskStatus

log = logging.getLogger(__name__)
DEFAULT_RESULT_HOURS = 24
PROGRESS_INTERVAL_SECONDS = 0.5
ERROR_MAX_LENGTH = 4000


@dataclass(frozen=True)
class TaskResult:
    """What a task produced: a line for the page, and optionally a file to download."""

    message: str
    content: bytes | None = None
    filename: str | None = None
    mimetype: str = "application/octet-stream"


@dataclass
class TaskContext:
    """What a running task gets: its id, parameters, the user who asked, and a progress meter."""

    task_id: int
    params: dict[str, Any]
    user: User | None
    _last_report: float = field(default=0.0)

    def progress(self, done: int, total: int | None = None, label: str = "") -> None:
        """Show how far the task got (at most twice a second; the page polls it)."""
        now = time.monotonic()
        if now - self._last_report < PROGRESS_INTERVAL_SECONDS and done != total:
            return
        self._last_report = now
        values: dict[str, Any] = {"progress_done": done}
        if total is not None:
            values["progress_total"] = total
        if label:
            values["progress_label"] = label[:200]
        _write_progress(self.task_id, values)


TaskFunction = Callable[[TaskContext], TaskResult]


@dataclass(frozen=True)
class TaskKind:
    name: str
    title: str
    run: TaskFunction


_KINDS: dict[str, TaskKind] = {}
_active_lock = threading.Lock()
_active_task_ids: set[int] = set()


def register_task_kind(kind: TaskKind) -> TaskKind:
    """Make a kind of task known to every runner (a module that defines one calls this when it is
    imported; the app imports every blueprint's module, so every process knows every kind)."""
    _KINDS[kind.name] = kind
    return kind


def task_kind(name: str) -> TaskKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ServiceError(f"There is no kind of background task called {name!r}.") from None


# --- asking ---------------------------------------------------------------------------------------


def enqueue(
    kind: str, params: dict[str, Any], user: User | None, title: str = ""
) -> BackgroundTask:
    """Queue a task of `kind` (flushed; the request commits, and then a runner may claim it)."""
    definition = task_kind(kind)
    task = BackgroundTask(
        kind=kind,
        title=(title or definition.title)[:200],
        status=TaskStatus.QUEUED,
        params_json=json.dumps(params, sort_keys=True),
        requested_by_id=user.id if user is not None else None,
        progress_done=0,
        progress_label="Waiting for a runner",
        message="",
        runner="",
    )
    db.session.add(task)
    db.session.flush()
    return task


def task_for(task_id: int, user: User) -> BackgroundTask | None:
    """The task if `user` asked for it (nobody else sees another's task or its file)."""
    task = db.session.get(BackgroundTask, task_id)
    if task is None or task.requested_by_id != user.id:
        return None
    return task


def tasks_of(user: User, limit: int = 50) -> list[BackgroundTask]:
    """The user's latest tasks, newest first."""
    return list(
        db.session.scalars(
            select(BackgroundTask)
            .where(BackgroundTask.requested_by_id == user.id)
            .order_by(BackgroundTask.id.desc())
            .limit(limit)
        )
    )


def latest_task(kind: str, params: dict[str, Any]) -> BackgroundTask | None:
    """The latest task of `kind` queued with exactly `params` (a record's own task, e.g. the
    one that runs an import)."""
    return db.session.scalar(
        select(BackgroundTask)
        .where(
            BackgroundTask.kind == kind,
            BackgroundTask.params_json == json.dumps(params, sort_keys=True),
        )
        .order_by(BackgroundTask.id.desc())
        .limit(1)
    )


def status_of(task: BackgroundTask) -> dict[str, Any]:
    """The task's progress as the page polls it."""
    return {
        "id": task.id,
        "status": task.status.value,
        "label": task.status.label,
        "finished": task.finished,
        "percent": task.percent,
        "done": task.progress_done,
        "total": task.progress_total,
        "step": task.progress_label,
        "message": task.message,
        "has_file": task.result_size is not None,
    }


# --- running --------------------------------------------------------------------------------------


def run_due_tasks(limit: int | None = None) -> list[int]:
    """Abandon tasks whose runner died, then claim and run queued tasks one after another until
    none is left (or `limit` ran); returns the ids this process ran. Tests call it to run what
    their requests queued, deterministically."""
    abandon_dead_tasks()
    ran: list[int] = []
    while limit is None or len(ran) < limit:
        task_id = claim_next()
        if task_id is None:
            break
        run_claimed(task_id)
        ran.append(task_id)
    return ran


def claim_next() -> int | None:
    """Claim the oldest queued task for this process (committed); None when none is queued."""
    db.session.commit()
    candidates = db.session.scalars(
        select(BackgroundTask.id)
        .where(BackgroundTask.status == TaskStatus.QUEUED)
        .order_by(BackgroundTask.id)
        .limit(10)
    ).all()
    for task_id in candidates:
        with _active_lock:
            _active_task_ids.add(task_id)
        claimed = db.session.execute(
            update(BackgroundTask)
            .where(BackgroundTask.id == task_id, BackgroundTask.status == TaskStatus.QUEUED)
            .values(
                status=TaskStatus.RUNNING,
                runner=runner_id(),
                started_at=utcnow(),
                progress_label="Started",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount == 1:
            return task_id
        with _active_lock:
            _active_task_ids.discard(task_id)
    return None


def run_claimed(task_id: int) -> None:
    """Run a task this process claimed, and record its result or its failure (committed)."""
    try:
        task = db.session.get(BackgroundTask, task_id)
        assert task is not None
        kind = task_kind(task.kind)
        user_id = task.requested_by_id
        user = db.session.get(User, user_id) if user_id else None
        params = task.params
        db.session.commit()
        try:
            try:
                result = _run_as(kind, TaskContext(task_id, params, user), user, deferred=True)
            except WriteUpgradeRefused:
                log.info("Task %s: upgrade refused; it runs again as a writer", task_id)
                # The refused attempt removed its session, and the user with it: load them anew.
                user = db.session.get(User, user_id) if user_id else None
                result = _run_as(kind, TaskContext(task_id, params, user), user, deferred=False)
        except Exception as error:
            db.session.rollback()
            if isinstance(error, ServiceError):
                message = error.message
            else:
                log.exception("Background task %s (%s) failed", task_id, kind.name)
                message = f"The task failed: {type(error).__name__}: {error}"
            _finish(task_id, TaskStatus.FAILED, message=message[:ERROR_MAX_LENGTH])
            return
        _finish(task_id, TaskStatus.DONE, result=result)
    finally:
        with _active_lock:
            _active_task_ids.discard(task_id)


def _run_as(kind: TaskKind, context: TaskContext, user: User | None, deferred: bool) -> TaskResult:
    params = context.params
    with current_app.test_request_context(
        params.get("path", "/"),
        query_string=params.get("args") or {},
        environ_overrides={DEFERRED_KEY: deferred},
    ):
        if user is not None:
            g._login_user = user  # current_user for the code the task shares with its page
            g.audit_actor = (user.email, user.id)
        with acting_as(user.email if user else "system:background-task", user.id if user else None):
            try:
                result = kind.run(context)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
    return result


def _finish(
    task_id: int, status: TaskStatus, *, result: TaskResult | None = None, message: str = ""
) -> None:
    now = utcnow()
    hours = int(current_app.config.get("TASK_RESULT_HOURS", DEFAULT_RESULT_HOURS))
    task = db.session.get(BackgroundTask, task_id)
    assert task is not None
    task.status = status
    task.finished_at = now
    task.expires_at = now + timedelta(hours=hours)
    task.progress_label = status.label
    if result is not None:
        task.message = result.message
        if result.content is not None:
            task.result = result.content
            task.result_size = len(result.content)
            task.result_filename = result.filename or f"task-{task_id}"
            task.result_mimetype = result.mimetype
        if task.progress_total is not None:
            task.progress_done = task.progress_total
    else:
        task.message = message
    db.session.commit()


def _write_progress(task_id: int, values: dict[str, Any]) -> None:
    """Write progress so that other workers see it now, without committing the task's work."""
    statement = update(BackgroundTask).where(BackgroundTask.id == task_id).values(**values)
    bind = current_app.extensions["loop_db"].bind
    if isinstance(bind, Connection):  # a test's one connection: everything shares it
        bind.execute(statement)
        return
    session = db.session()
    connection = session.connection() if session.in_transaction() else None
    if connection is not None and bind.dialect.name == "sqlite":
        holds_lock = not connection.info.get(BEGUN_DEFERRED) or connection.info.get(WROTE)
        if holds_lock:
            # This transaction holds SQLite's write lock: another connection would wait for it.
            # The progress lands with the task's work (imports commit after every chunk).
            connection.execute(statement)
            return
    with bind.begin() as own:
        own.execute(statement)


def abandon_dead_tasks(now: datetime | None = None) -> list[int]:
    """Mark as failed the running tasks whose runner died: a process of this host that is gone (or
    this very process, which is not running it), or a run older than the scheduler's stale limit.
    Their work was never committed; the user may ask again."""
    now = now or utcnow()
    running = db.session.execute(
        select(BackgroundTask.id, BackgroundTask.runner, BackgroundTask.started_at).where(
            BackgroundTask.status == TaskStatus.RUNNING
        )
    ).all()
    abandoned = []
    for task_id, runner, started_at in running:
        too_old = started_at is not None and now - started_at > stale_after()
        if not (too_old or _runner_is_gone(runner, task_id)):
            continue
        changed = db.session.execute(
            update(BackgroundTask)
            .where(BackgroundTask.id == task_id, BackgroundTask.status == TaskStatus.RUNNING)
            .values(
                status=TaskStatus.FAILED,
                finished_at=now,
                expires_at=now + timedelta(hours=DEFAULT_RESULT_HOURS),
                progress_label="Abandoned",
                message=f"Abandoned: its runner ({runner}) stopped before it finished. "
                "Ask for it again.",
            )
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:
            abandoned.append(task_id)
    db.session.commit()
    return abandoned


def _runner_is_gone(runner: str, task_id: int) -> bool:
    host, _, pid_text = runner.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _active_lock:
            return task_id not in _active_task_ids
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def purge_expired(now: datetime | None = None) -> int:
    """Delete finished tasks (and their files) whose keeping time is over; flushes."""
    now = now or utcnow()
    result = db.session.execute(
        delete(BackgroundTask)
        .where(
            BackgroundTask.status.in_((TaskStatus.DONE, TaskStatus.FAILED)),
            BackgroundTask.expires_at < now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return int(result.rowcount or 0)
