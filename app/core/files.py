"""Stored files: one content-addressed store for every file Loop keeps (attachments, documents).

A file is known by the SHA-256 of its bytes. `stored_file` holds what is known about it (hash,
size, the media type read from the content); the bytes themselves go to a `BlobBackend`. The
default backend keeps them in the database, cut into chunks (`stored_file_chunk`), so the store
works on SQLite and PostgreSQL across any number of hosts, is backed up with the database, and an
upload or download never holds a whole large file in memory. An object-store backend can take
the bytes later behind the same two methods; the metadata stays in the database either way.

Uploads are checked before anything is stored (`check_upload`): the size limit
(`LOOP_FILE_MAX_BYTES`, 25 MB by default), not empty, a file name without path parts or control
characters, and a media type read from the content with `filetype` — never the name — which must
not be an executable, whatever the name says. Downloads (`download_response`) are always served
as attachments with `X-Content-Type-Options: nosniff`, so no stored file is ever rendered inline.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Protocol
from urllib.parse import quote

import filetype
from flask import Response, current_app, has_app_context, stream_with_context
from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base, UTCDateTime, utcnow
from app.core.errors import ServiceError

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
# How much of the start of a file the media-type check reads (filetype needs at most 8 KiB).
SNIFF_BYTES = 8192
NAME_MAX_LENGTH = 200

# Media types (read from the content) that are never stored: programs, whatever they are named.
EXECUTABLE_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-executable",
        "application/x-mach-binary",
        "application/x-sharedlib",
        "application/vnd.microsoft.portable-executable",
        "application/x-dosexec",
        "application/x-google-chrome-extension",
        "application/x-shockwave-flash",
        "application/java-archive",
        "application/x-deb",
        "application/x-rpm",
    }
)
# Names that tell the receiving computer to run the file; refused even when the content is text.
EXECUTABLE_SUFFIXES = frozenset(
    {
        "exe", "dll", "com", "scr", "bat", "cmd", "msi", "msp", "ps1", "psm1", "vbs", "vbe",
        "js", "jse", "wsf", "wsh", "hta", "cpl", "jar", "sh", "app", "lnk", "reg", "pif",
    }
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class FileRefused(ServiceError):
    """The upload breaks a rule (size, name, type); nothing was stored."""


class StoredFile(Base):
    """What the store knows about one content: its hash (the key), size and media type."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(127))
    backend: Mapped[str] = mapped_column(String(20), default="database")
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredFile {self.sha256[:12]} {self.size} bytes {self.media_type}>"


class StoredFileChunk(Base):
    """A piece of a file's bytes (the database backend): `seq` counts from 0."""

    __tablename__ = "stored_file_chunk"

    file_sha256: Mapped[str] = mapped_column(
        ForeignKey("stored_file.sha256", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class BlobBackend(Protocol):
    """Where the bytes live. `write` is only called for content not stored yet."""

    name: str

    def write(self, session: Session, sha256: str, chunks: Iterator[bytes]) -> int:
        """Store the chunks of the file `sha256`; return how many were written."""

    def read(self, session: Session, stored: StoredFile) -> Iterator[bytes]:
        """The file's bytes, chunk by chunk."""


class DatabaseBackend:
    name = "database"

    def write(self, session: Session, sha256: str, chunks: Iterator[bytes]) -> int:
        count = 0
        for count, data in enumerate(chunks, start=1):
            session.add(StoredFileChunk(file_sha256=sha256, seq=count - 1, data=data))
            session.flush()  # one chunk in memory at a time
        return count

    def read(self, session: Session, stored: StoredFile) -> Iterator[bytes]:
        for seq in range(stored.chunk_count):
            yield (
                session.scalar(
                    select(StoredFileChunk.data).where(
                        StoredFileChunk.file_sha256 == stored.sha256, StoredFileChunk.seq == seq
                    )
                )
                or b""
            )


BACKENDS: dict[str, BlobBackend] = {"database": DatabaseBackend()}


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: its safe name, hash, size and media type."""

    filename: str
    sha256: str
    size: int
    media_type: str


def max_file_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("LOOP_FILE_MAX_BYTES", DEFAULT_MAX_BYTES))
    return DEFAULT_MAX_BYTES


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def clean_filename(raw: str | None) -> str:
    """The name to keep for an uploaded file: Unicode-normalised, spaces tidied, at most
    NAME_MAX_LENGTH characters (the extension kept). Raises FileRefused for a name with path
    parts or control characters, or none at all."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise FileRefused("The file has no name.", field="files")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise FileRefused(
            f"The file name “{_printable(name)}” contains a folder path; upload the file under "
            "its own name only.",
            field="files",
        )
    if _CONTROL.search(name) or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise FileRefused(
            f"The file name “{_printable(name)}” contains control characters; rename the file.",
            field="files",
        )
    name = re.sub(r"\s+", " ", name).lstrip(".").strip()
    if not name:
        raise FileRefused("The file name is only dots; rename the file.", field="files")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            name = stem[: NAME_MAX_LENGTH - len(suffix) - 1] + "." + suffix
        else:
            name = name[:NAME_MAX_LENGTH]
    return name


def _printable(name: str) -> str:
    return _CONTROL.sub("?", name)[:120]


def _suffix(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def sniff_media_type(head: bytes) -> str:
    """The media type the content shows (its first bytes), not the one its name claims."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if head[:2] == b"MZ":  # a Windows program filetype did not name
        return "application/x-msdownload"
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the sniffing boundary is still text.
        if error.start < len(head) - 3:
            return "application/octet-stream"
    return "text/plain"


def check_upload(stream: IO[bytes], raw_name: str | None) -> CheckedUpload:
    """Read `stream` once (in chunks) and check it: a clean name, not empty, within the size
    limit, not an executable by its content or its name. Returns the facts to store it under;
    raises FileRefused with a message naming the file and the rule."""
    name = clean_filename(raw_name)
    if _suffix(name) in EXECUTABLE_SUFFIXES:
        raise FileRefused(
            f"“{name}” is a program or script (.{_suffix(name)}); such files are not stored.",
            field="files",
        )
    limit = max_file_bytes()
    digest = hashlib.sha256()
    size = 0
    head = b""
    stream.seek(0)
    while chunk := stream.read(CHUNK_BYTES):
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        size += len(chunk)
        if size > limit:
            raise FileRefused(
                f"“{name}” is larger than {format_size(limit)}, the limit per file "
                "(LOOP_FILE_MAX_BYTES).",
                field="files",
            )
        digest.update(chunk)
    if size == 0:
        raise FileRefused(f"“{name}” is empty.", field="files")
    media_type = sniff_media_type(head)
    if media_type in EXECUTABLE_TYPES:
        raise FileRefused(
            f"“{name}” is a program ({media_type}) whatever its name says; such files are not "
            "stored.",
            field="files",
        )
    return CheckedUpload(name, digest.hexdigest(), size, media_type)


def _chunks_of(stream: IO[bytes]) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def store(session: Session, stream: IO[bytes], checked: CheckedUpload) -> StoredFile:
    """Keep the bytes of a checked upload (once per content: the same bytes uploaded again, or
    by two requests at the same moment, share one stored file). `stream` must be the one
    `check_upload` read; it is read again, chunk by chunk."""
    existing = session.get(StoredFile, checked.sha256)
    if existing is not None:
        return existing
    values = {
        "sha256": checked.sha256,
        "size": checked.size,
        "media_type": checked.media_type,
        "backend": "database",
        "chunk_count": 0,
        "created_at": utcnow(),
    }
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # Two uploads of the same bytes at once: the second waits for the first's row and then
    # inserts nothing, instead of failing on the primary key.
    table = StoredFile.__table__
    inserted = session.execute(
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["sha256"])
        .returning(table.c.sha256)
    )
    if inserted.first() is None:
        stored = session.get(StoredFile, checked.sha256)
        assert stored is not None
        return stored
    count = BACKENDS["database"].write(session, checked.sha256, _chunks_of(stream))
    stored = session.get(StoredFile, checked.sha256, populate_existing=True)
    assert stored is not None
    stored.chunk_count = count
    session.flush()
    return stored


def read_bytes(session: Session, sha256: str) -> bytes:
    """The whole content of a stored file (for small files: PDFs of documents, tests)."""
    stored = session.get(StoredFile, sha256)
    if stored is None:
        raise FileRefused("There is no stored file with that hash.")
    return b"".join(BACKENDS[stored.backend].read(session, stored))


def iter_bytes(session: Session, stored: StoredFile) -> Iterator[bytes]:
    return BACKENDS[stored.backend].read(session, stored)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "download"
    )
    fallback = re.sub(r'["\\;]', "_", fallback)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_response(session: Session, stored: StoredFile, filename: str) -> Response:
    """Stream a stored file as a download: never inline, never content-sniffed."""
    response = Response(
        stream_with_context(iter_bytes(session, stored)),
        mimetype=stored.media_type,
        direct_passthrough=True,
    )
    response.headers["Content-Length"] = str(stored.size)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["ETag"] = f'"{stored.sha256}"'
    return response
