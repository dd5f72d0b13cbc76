from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfReader

from tests.reports.story import Story, build_story


@pytest.fixture()
def story(committed: Callable[..., Any]) -> Story:
    return committed(build_story)


@dataclass
class ReadPdf:
    """A PDF read back as an auditor's tools see it."""

    reader: PdfReader
    pages: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def flat(self) -> str:
        """All text with runs of whitespace as one space (table cells wrap across lines), and
        words hyphenated across a line break joined again."""
        return re.sub(r"(\w-) (\w)", r"\1\2", re.sub(r"\s+", " ", self.text))

    def attachment(self) -> tuple[str, bytes]:
        (name, contents), *_ = self.reader.attachments.items()
        return name, contents[0]

    def data(self) -> dict[str, Any]:
        return json.loads(self.attachment()[1])

    def xmp(self) -> str:
        metadata = self.reader.xmp_metadata
        assert metadata is not None, "no XMP metadata"
        return metadata.stream.get_data().decode()


def read_pdf(pdf: bytes) -> ReadPdf:
    assert pdf.startswith(b"%PDF-"), pdf[:100]
    reader = PdfReader(io.BytesIO(pdf))
    return ReadPdf(reader, [page.extract_text() or "" for page in reader.pages])
