"""XLSX export and import in the PFMEA column layout: a round trip keeps every row; a bad file
is refused with one message per bad row and changes nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from app.core.errors import NotPermitted
from app.fmea import services, xlsx
from tests.capa.factories import make_category, make_process
from tests.factories import create_user
from tests.fmea.factories import make_fmea, make_row


@pytest.fixture()
def lead(session):
    return create_user("quality_lead")


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ANALYST_FIELDS = (
    "process_step",
    "failure_mode",
    "effect",
    "cause",
    "prevention_controls",
    "detection_controls",
    "recommended_action",
    "severity",
    "occurrence",
    "detection",
)


def test_export_then_import_round_trips_every_row(lead):
    charged, outage = make_category("Billing error"), make_category("Service outage")
    source = make_fmea(lead, make_process("Billing"))
    make_row(source, lead, [charged, outage], severity=9, occurrence=4, detection=1)
    make_row(
        source,
        lead,
        [],
        failure_mode='=HYPERLINK("http://x")',
        effect="Multi-line\neffect",
        recommended_action="",
        severity=2,
        occurrence=8,
        detection=7,
    )
    content = xlsx.export_workbook(source)

    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == "Process FMEA" and sheet["B1"].value == source.reference
    headings = [cell.value for cell in sheet[9]]
    assert headings[:11] == [
        "Process step / function",
        "Failure mode",
        "Failure effect",
        "Severity (S)",
        "Failure cause",
        "Current prevention controls",
        "Occurrence (O)",
        "Current detection controls",
        "Detection (D)",
        "RPN",
        "AP",
    ]
    first = [cell.value for cell in sheet[10]]
    assert first[3] == 9 and first[9] == 36 and first[10] == "M"
    assert first[12] == "Billing error; Service outage"
    # Text that looks like a formula stays text.
    assert sheet["B11"].data_type == "s" and sheet["B11"].value.startswith("=HYPERLINK")

    target = make_fmea(lead, make_process("Billing copy"))
    imported = xlsx.import_rows(target, content, user=lead)
    assert len(imported) == 2
    before = services.rows_of(source)
    after = services.rows_of(target)
    for old, new in zip(before, after, strict=True):
        assert {f: getattr(new, f) for f in ANALYST_FIELDS} == {
            f: getattr(old, f) for f in ANALYST_FIELDS
        }
        assert [c.name for c in new.categories] == [c.name for c in old.categories]
        assert (new.rpn, new.ap) == (old.rpn, old.ap)


def test_a_bad_file_names_each_bad_row_and_adds_nothing(lead):
    make_category("Billing error")
    fmea = make_fmea(lead, make_process())
    make_row(fmea, lead)
    heading = ["Process step", "Failure mode", "Failure effect", "Severity (S)", "Failure cause"]
    heading += ["Prevention controls", "Occurrence (O)", "Detection controls", "Detection (D)"]
    heading += ["RPN", "AP", "Recommended action", "Failure categories"]
    content = _workbook(
        [
            ["My PFMEA"],
            [],
            heading,
            [
                "Pay",
                "Paid twice",
                "Loss",
                7,
                "No check",
                "",
                5,
                "",
                6,
                999,
                "L",
                "",
                "billing ERROR",
            ],
            ["Pay", "Paid late", "Angry", 11, "Batch", "", 5, "", 6, None, None, "", ""],
            ["Pay", "", "Angry", 5, "Batch", "", 5, "", 6, None, None, "", ""],
            [],
            ["Pay", "Wrong sum", "Loss", 5, "Typo", "", "often", "", 6, None, None, "", ""],
            ["Pay", "Lost", "Loss", 5, "Typo", "", 4, "", 0, None, None, "", ""],
            [
                "Pay",
                "Wrong cat",
                "Loss",
                5,
                "Typo",
                "",
                4,
                "",
                4,
                None,
                None,
                "",
                "Nope; Billing error",
            ],
        ]
    )
    with pytest.raises(xlsx.ImportRefused) as refused:
        xlsx.import_rows(fmea, content, user=lead)
    assert refused.value.problems == [
        "Row 5: Severity must be a whole number from 1 to 10 (found “11”).",
        "Row 6: The failure mode is required.",
        "Row 8: Occurrence must be a whole number from 1 to 10 (found “often”).",
        "Row 9: Detection must be a whole number from 1 to 10 (found “0”).",
        "Row 10: no active failure category is named “Nope”.",
    ]
    assert len(services.rows_of(fmea)) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Choose an XLSX file"),
        (b"name,severity\nx,5\n", "not an XLSX workbook"),
        (b"PK\x03\x04 broken zip", "not an XLSX workbook"),
    ],
)
def test_what_is_not_a_workbook_is_refused_with_one_clear_message(lead, content, message):
    fmea = make_fmea(lead, make_process())
    with pytest.raises(xlsx.ImportRefused) as refused:
        xlsx.import_rows(fmea, content, user=lead)
    assert message in refused.value.problems[0]
    assert services.rows_of(fmea) == []


def test_headings_without_the_ratings_or_without_rows_are_refused(lead):
    fmea = make_fmea(lead, make_process())
    with pytest.raises(xlsx.ImportRefused, match="lack the column “Occurrence"):
        xlsx.import_rows(
            fmea, _workbook([["Failure mode", "Severity (S)", "Detection (D)"]]), user=lead
        )
    with pytest.raises(xlsx.ImportRefused, match="No heading row"):
        xlsx.import_rows(fmea, _workbook([["Name", "Value"], ["x", 1]]), user=lead)
    with pytest.raises(xlsx.ImportRefused, match="no rows below"):
        xlsx.import_rows(
            fmea,
            _workbook([["Failure mode", "Severity", "Occurrence", "Detection"]]),
            user=lead,
        )
    with pytest.raises(NotPermitted):
        xlsx.import_rows(fmea, b"", user=create_user("contributor"))
