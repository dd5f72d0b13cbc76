"""The stored-file mechanism: checks on upload, content-addressed storage, streaming downloads."""

from __future__ import annotations

import io
import os
import threading

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.core import files
from app.core.files import (
    CHUNK_BYTES,
    FileRefused,
    StoredFile,
    StoredFileChunk,
    check_upload,
    clean_filename,
    content_disposition,
    read_bytes,
    store,
)
from app.extensions import db
from tests.conftest import DatabaseFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n" + b"1 0 obj <<>> endobj\n" * 40
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120) + b"PE\x00\x00" + bytes(200)
LINUX_PROGRAM = b"\x7fELF\x02\x01\x01" + bytes(200)


def stored_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFile)) or 0


def test_a_large_file_round_trips_byte_for_byte_in_chunks(session) -> None:
    content = os.urandom(2 * CHUNK_BYTES + 12_345)
    stream = io.BytesIO(content)
    checked = check_upload(stream, "site photo.bin")
    stored = store(session, stream, checked)
    assert stored.size == len(content)
    assert stored.chunk_count == 3
    assert read_bytes(session, stored.sha256) == content
    chunks = session.scalar(
        select(func.count())
        .select_from(StoredFileChunk)
        .where(StoredFileChunk.file_sha256 == stored.sha256)
    )
    assert chunks == 3


def test_the_same_bytes_are_stored_once(session) -> None:
    before = stored_count()
    first = store(session, io.BytesIO(PDF), check_upload(io.BytesIO(PDF), "a.pdf"))
    second = store(session, io.BytesIO(PDF), check_upload(io.BytesIO(PDF), "copy of a.pdf"))
    assert first.sha256 == second.sha256
    assert stored_count() == before + 1


def test_the_media_type_comes_from_the_content_not_the_name(session) -> None:
    assert check_upload(io.BytesIO(PNG), "notes.txt").media_type == "image/png"
    assert check_upload(io.BytesIO(PDF), "scan").media_type == "application/pdf"
    assert check_upload(io.BytesIO(b"<html><script>x</script>"), "page.html").media_type == (
        "text/plain"
    )
    assert check_upload(io.BytesIO("Grüße\n".encode()), "a.csv").media_type == "text/plain"


@pytest.mark.parametrize(
    ("content", "name"),
    [(WINDOWS_PROGRAM, "invoice.pdf"), (LINUX_PROGRAM, "photo.jpg")],
)
def test_a_disguised_executable_is_refused(session, content: bytes, name: str) -> None:
    with pytest.raises(FileRefused, match="is a program") as refused:
        check_upload(io.BytesIO(content), name)
    assert name in refused.value.message


def test_a_program_name_is_refused_whatever_the_content(session) -> None:
    with pytest.raises(FileRefused, match=r"program or script \(\.exe\)"):
        check_upload(io.BytesIO(b"just text"), "setup.exe")


def test_an_empty_file_is_refused(session) -> None:
    with pytest.raises(FileRefused, match=r"“empty\.txt” is empty"):
        check_upload(io.BytesIO(b""), "empty.txt")


def test_a_file_over_the_limit_is_refused_naming_the_limit(app: Flask, session) -> None:
    app.config["LOOP_FILE_MAX_BYTES"] = 1024
    try:
        with pytest.raises(FileRefused, match="larger than 1 KB, the limit per file"):
            check_upload(io.BytesIO(b"x" * 1025), "big.txt")
        assert check_upload(io.BytesIO(b"x" * 1024), "fits.txt").size == 1024
    finally:
        app.config["LOOP_FILE_MAX_BYTES"] = files.DEFAULT_MAX_BYTES


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd", "folder path"),
        ("C:\\Users\\me\\report.pdf", "folder path"),
        ("report\x00.pdf", "control characters"),
        ("line\nbreak.txt", "control characters"),
        ("", "no name"),
        ("...", "only dots"),
    ],
)
def test_bad_file_names_are_refused(session, name: str, message: str) -> None:
    with pytest.raises(FileRefused, match=message):
        check_upload(io.BytesIO(b"content"), name)


def test_names_are_tidied_and_shortened_keeping_the_extension() -> None:
    assert clean_filename("  Cafe\u0301   menu .pdf ") == "Café menu .pdf"
    long = clean_filename("a" * 300 + ".docx")
    assert len(long) == 200 and long.endswith(".docx")


def test_the_download_name_is_an_attachment_in_both_forms() -> None:
    header = content_disposition('Prüfbericht "final".pdf')
    assert header.startswith("attachment; ")
    assert 'filename="Prufbericht _final_.pdf"' in header
    assert "filename*=UTF-8''Pr%C3%BCfbericht%20%22final%22.pdf" in header


def test_concurrent_uploads_of_the_same_bytes_share_one_stored_file(
    databases: DatabaseFactory,
) -> None:
    """Several requests storing identical content at the same moment: none fails on the key."""
    live = databases.new_migrated_app()
    content = os.urandom(CHUNK_BYTES + 10)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            with live.app_context():
                stream = io.BytesIO(content)
                checked = check_upload(stream, "same.bin")
                barrier.wait(timeout=10)
                store(db.session, stream, checked)
                db.session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with live.app_context():
        assert stored_count() == 1
        assert read_bytes(db.session, db.session.scalars(select(StoredFile)).one().sha256) == (
            content
        )
        db.session.remove()
        live.extensions["loop_db"].engine.dispose()
