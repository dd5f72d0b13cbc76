"""Documents and evidence benchmark: a 20 MB attachment up and down over HTTP, and full-text
search over 10,000 controlled documents, on SQLite.

    python -m tests.benchmarks.bench_documents                       # the target run
    python -m tests.benchmarks.bench_documents --mib 5 --documents 2000   # a quick run

The app runs in this process behind werkzeug's HTTP server on a fresh SQLite database migrated
with the real migrations (in a temporary folder removed at the end). The upload is a multipart
POST streamed from a file on disk to a complaint's attachments; the download streams the
response to disk. Peak memory is Python's traced allocations (tracemalloc) during each request,
server and client together: a server that held the file several times over would show several
times its size. Search: 10,000 documents (bulk-loaded, with their search rows), then the
register's query (`services.list_query` with a search, first page of 50) for one to three words
of a 30-word vocabulary (so most words match most documents: a hard case), p50/p95 over 200.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path

from tests.benchmarks.common import Figure, format_table, machine_summary, percentile, say

TITLE = "Documents and evidence"
WORDS = [
    "refund",
    "invoice",
    "parcel",
    "courier",
    "billing",
    "outage",
    "router",
    "installation",
    "appointment",
    "escalation",
    "apology",
    "credit",
    "warranty",
    "engineer",
    "meter",
    "tariff",
    "contract",
    "password",
    "broadband",
    "signal",
    "voucher",
    "complaint",
    "callback",
    "supervisor",
    "schedule",
    "delivery",
    "damage",
    "replacement",
    "inspection",
    "safety",
    "audit",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_documents", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--mib", type=int, default=int(os.environ.get("BENCH_DOCUMENTS_MIB", "20")))
    parser.add_argument(
        "--documents", type=int, default=int(os.environ.get("BENCH_DOCUMENTS_COUNT", "10000"))
    )
    return parser.parse_args(argv)


def _app(folder: Path):  # type: ignore[no-untyped-def]
    import logging

    from app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    os.environ["LOOP_INSTANCE_DIR"] = str(folder)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "LOOP_SCHEDULER": "off",
            "WTF_CSRF_ENABLED": False,
            "LOOP_FILE_MAX_BYTES": 64 * 1024 * 1024,
        }
    )
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return app


def _seed_user_and_complaint(app):  # type: ignore[no-untyped-def]
    from app.accounts.services import create_user
    from app.complaints import services as complaints
    from app.extensions import db

    with app.app_context():
        lead = create_user("bench@loop.example", "Bench Lead", "quality_lead", "bench password 1")
        complaint = complaints.record_complaint(
            user=lead, title="Bench complaint", channel="phone", severity="low"
        )
        db.session.commit()
        return complaint.reference


def _sign_in(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = "email=bench%40loop.example&password=bench+password+1"
    connection.request(
        "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    connection.close()
    return cookie


def _upload(port: int, cookie: str, path: str, source: Path) -> int:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="bench.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = source.stat().st_size
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", path)
    connection.putheader("Cookie", cookie)
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    with open(source, "rb") as handle:
        while block := handle.read(256 * 1024):
            connection.send(block)
    connection.send(tail)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def _download(port: int, cookie: str, path: str, target: Path) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    written = 0
    with open(target, "wb") as handle:
        while block := response.read(256 * 1024):
            handle.write(block)
            written += len(block)
    connection.close()
    return written


def _measured(action):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / (1024 * 1024)


def _file_figures(app, folder: Path, mib: int) -> list[Figure]:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from app.attachments.models import Attachment
    from app.extensions import db

    reference = _seed_user_and_complaint(app)
    source = folder / "upload.bin"
    with open(source, "wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1024 * 1024))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        cookie = _sign_in(port)
        status, up_seconds, up_peak = _measured(
            lambda: _upload(port, cookie, f"/attachments/complaints/{reference}", source)
        )
        if status != 302:
            raise SystemExit(f"upload answered {status}")
        with app.app_context():
            attachment_id = db.session.query(Attachment.id).scalar()
        target = folder / "download.bin"
        written, down_seconds, down_peak = _measured(
            lambda: _download(port, cookie, f"/attachments/files/{attachment_id}/download", target)
        )
        if written != source.stat().st_size or target.read_bytes() != source.read_bytes():
            raise SystemExit("the download differs from the upload")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    size = f"{mib} MiB"
    return [
        Figure(f"upload {size} (POST, check, store)", up_seconds, "s"),
        Figure(f"upload {size}: peak traced memory", up_peak, "MiB", "server and client"),
        Figure(f"download {size} (streamed)", down_seconds, "s"),
        Figure(f"download {size}: peak traced memory", down_peak, "MiB", "server and client"),
    ]


def _search_figures(app, count: int) -> list[Figure]:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert, select, text

    from app.accounts.models import User
    from app.core.db import utcnow
    from app.documents import services
    from app.documents.models import ControlledDocument, DocumentRevision
    from app.extensions import db

    rng = random.Random(11)
    with app.app_context():
        lead = db.session.scalar(select(User).where(User.email == "bench@loop.example"))
        started = time.perf_counter()
        now = utcnow()
        documents, revisions, rows = [], [], []
        for index in range(1, count + 1):
            number = f"DOC-PRO-{index:05d}"
            title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {index}"
            body = "# Steps\n\n" + " ".join(rng.choice(WORDS) for _ in range(60))
            documents.append(
                {"id": index, "number": number, "doc_type": "procedure", "title": title,
                 "owner_id": lead.id, "review_interval_months": 12, "reader_roles": "",
                 "created_at": now, "updated_at": now, "version": 1}
            )  # fmt: skip
            revisions.append(
                {"document_id": index, "number": 1, "label": f"{number} rev 1",
                 "status": "draft", "change_reason": "Bench", "content_kind": "markdown",
                 "body_markdown": body, "created_at": now, "updated_at": now, "version": 1}
            )  # fmt: skip
            rows.append({"document_id": index, "title": f"{number} {title}", "body": body})
        # Bulk rows (the audit trail is not what is measured here), then the search rows as
        # app.documents.search.index_document writes them.
        db.session.execute(insert(ControlledDocument.__table__), documents)
        db.session.execute(insert(DocumentRevision.__table__), revisions)
        db.session.execute(
            text(
                "INSERT INTO document_search (document_id, title, body) "
                "VALUES (:document_id, :title, :body)"
            ),
            rows,
        )
        db.session.commit()
        created = time.perf_counter() - started
        timings = []
        for _ in range(200):
            query = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            began = time.perf_counter()
            statement = services.list_query(services.DocumentFilters(search=query))
            page = db.session.scalars(statement.limit(50)).all()
            timings.append((time.perf_counter() - began) * 1000)
            assert 0 < len(page) <= 50
        db.session.rollback()
    return [
        Figure(f"load {count:,} documents (bulk)", created, "s"),
        Figure("register search, first page p50", percentile(timings, 0.50), "ms"),
        Figure(
            "register search, first page p95", percentile(timings, 0.95), "ms", "target < 100 ms"
        ),
    ]


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    base = os.environ.get("BENCH_TMP_DIR") or None
    folder = Path(tempfile.mkdtemp(prefix="loop-bench-documents-", dir=base))
    try:
        app = _app(folder)
        figures = _file_figures(app, folder, args.mib)
        figures += _search_figures(app, args.documents)
        with app.app_context():
            app.extensions["loop_db"].engine.dispose()
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    say(f"{TITLE} ({machine_summary()})")
    say(format_table(run()))
