"""SQLite transactions per request: reads take no lock, writers queue, a refused upgrade re-runs.

In WAL mode a deferred transaction (`BEGIN`) reads a snapshot without holding up anyone, and takes
the write lock at its first INSERT, UPDATE or DELETE. That upgrade succeeds only while no other
connection holds the lock and nobody has committed since the snapshot was taken; otherwise SQLite
answers SQLITE_BUSY at once (the busy timeout cannot help: waiting would only make the snapshot
older). So:

- GET and HEAD requests (reads, nearly always) run in deferred transactions: a page that only
  reads never blocks a writer and is never blocked by one;
- every other request, CLI command and job begins with `BEGIN IMMEDIATE`: it takes the write lock
  before its first read and queues behind other writers for the busy timeout, as before;
- when a GET's upgrade is refused, the whole request is thrown away (rolled back, its response
  discarded) and run once more from the start with `BEGIN IMMEDIATE` (`RetryRefusedUpgrades`).

A successful upgrade means the snapshot was the newest state, so everything the request read is
still true when it writes: SQLite stays serialisable, and the audit chain's head read inside the
transaction is still the head when the event is inserted (the chain cannot fork; `prev_hash` is
unique besides). PostgreSQL is not affected by any of this (its writers lock rows, and the chain
head has its advisory lock).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from flask import has_request_context, request
from sqlalchemy.engine import Connection, ExceptionContext

log = logging.getLogger(__name__)

# request.environ keys: this attempt may begin deferred; its upgrade to a writer was refused.
DEFERRED_KEY = "loop.deferred_transactions"
REFUSED_KEY = "loop.upgrade_refused"
# connection.info key: the connection's current transaction was begun deferred.
BEGUN_DEFERRED = "loop_begun_deferred"
WROTE = "loop_wrote"
DEFERRED_METHODS = frozenset({"GET", "HEAD"})
SQLITE_BUSY = 5


class WriteUpgradeRefused(Exception):
    """A deferred (read) transaction could not become a write transaction; the request re-runs."""


def deferred_wanted() -> bool:
    """Whether a transaction beginning now should be deferred (a GET's first attempt)."""
    return has_request_context() and bool(request.environ.get(DEFERRED_KEY))


def note_begin(connection: Connection, deferred: bool) -> None:
    connection.info[BEGUN_DEFERRED] = deferred
    connection.info[WROTE] = False


def refused_upgrade(context: ExceptionContext) -> BaseException | None:
    """The `handle_error` hook: SQLITE_BUSY in a deferred transaction becomes WriteUpgradeRefused,
    and the request is marked for a re-run (even if some code swallows the exception)."""
    connection = context.connection
    error = context.original_exception
    if connection is None or not connection.info.get(BEGUN_DEFERRED):
        return None
    if not isinstance(error, sqlite3.OperationalError):
        return None
    if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF != SQLITE_BUSY:
        return None
    if has_request_context():
        request.environ[REFUSED_KEY] = True
    return WriteUpgradeRefused(
        "another writer got in first; the request runs again as a writer from the start"
    )


def upgrade_was_refused() -> bool:
    return has_request_context() and bool(request.environ.get(REFUSED_KEY))


StartResponse = Callable[..., Any]


class RetryRefusedUpgrades:
    """WSGI middleware: GET/HEAD requests begin deferred; one whose upgrade was refused is run
    again, once, with `BEGIN IMMEDIATE` from the start. The first attempt's response is discarded
    before anything reaches the client (a body streamed after the view returned is not covered:
    write before you stream)."""

    def __init__(self, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in DEFERRED_METHODS:
            return self.wsgi_app(environ, start_response)
        environ[DEFERRED_KEY] = True
        held: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            held[:] = [status, headers, exc_info]
            return _refuse_write

        body = self.wsgi_app(environ, hold)
        if not environ.get(REFUSED_KEY):
            start_response(*held)
            return body
        close = getattr(body, "close", None)
        if close is not None:
            close()
        log.info(
            "Upgrade refused: %s %s runs again as a writer",
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO"),
        )
        environ[DEFERRED_KEY] = False
        environ.pop(REFUSED_KEY, None)
        return self.wsgi_app(environ, start_response)


def _refuse_write(data: bytes) -> None:
    raise RuntimeError("the legacy WSGI write() callable is not supported")
