"""Reading dates row by row, detecting formats, and refusing mappings that cannot work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import ServiceError
from app.intake.mapping import (
    RowError,
    RowReader,
    detect_date_formats,
    parse_datetime,
    parse_mapping,
)

BASE = {"fields": {"title": "T", "channel": {"value": "phone"}, "severity": {"value": "low"}}}


def test_a_mixed_column_is_read_row_by_row() -> None:
    formats = ["%d-%m-%y", "%Y-%m-%d"]
    assert parse_datetime("22-04-15", formats, None) == datetime(2015, 4, 22, tzinfo=UTC)
    assert parse_datetime("2015-04-08", formats, None) == datetime(2015, 4, 8, tzinfo=UTC)


def test_an_ambiguous_date_is_rejected_unless_a_format_is_preferred() -> None:
    formats = ["%d/%m/%Y", "%m/%d/%Y"]
    with pytest.raises(RowError, match=r"“03/04/2015” is ambiguous: 2015-04-03 .* or 2015-03-04"):
        parse_datetime("03/04/2015", formats, None)
    assert parse_datetime("03/04/2015", formats, "%m/%d/%Y") == datetime(2015, 3, 4, tzinfo=UTC)
    # 13/04/2015 reads only one way, whatever is preferred.
    assert parse_datetime("13/04/2015", formats, "%m/%d/%Y") == datetime(2015, 4, 13, tzinfo=UTC)


def test_an_unreadable_date_names_the_accepted_formats() -> None:
    with pytest.raises(RowError, match=r"“31-02-25” is not a date .*\(DD-MM-YY\)"):
        parse_datetime("31-02-25", ["%d-%m-%y"], None)


def test_times_are_read_in_the_mapping_time_zone_and_stored_in_utc() -> None:
    mapping = parse_mapping(
        {
            **BASE,
            "timezone": "Europe/Berlin",
            "date_formats": ["%d.%m.%Y"],
            "fields": {**BASE["fields"], "received_at": {"column": "D", "time_column": "H"}},
        },
        ["T", "D", "H"],
    )
    read = RowReader(mapping).read(2, {"T": "x", "D": "01.07.2025", "H": "3:15 PM"})
    assert read.dates["received_at"] == datetime(2025, 7, 1, 13, 15, tzinfo=UTC)


def test_detection_suggests_the_formats_that_cover_a_mixed_column() -> None:
    values = ["22-04-15", "30-04-15", "2015-04-08", "2015-05-10", ""]
    candidates, suggested = detect_date_formats(values)
    assert sorted(suggested) == ["%Y-%m-%d", "%d-%m-%y"]
    counts = {candidate.description: candidate.matches for candidate in candidates}
    assert counts["DD-MM-YY"] == 2 and counts["YYYY-MM-DD"] == 2
    assert counts["YY-MM-DD"] == 2  # offered too: 22-04-15 also reads as 2022-04-15


def test_value_maps_ignore_case_and_unmapped_values_are_refused_by_name() -> None:
    mapping = parse_mapping(
        {
            "fields": {
                "title": "T",
                "channel": {"column": "C", "values": {"Customer Care Call": "phone"}},
                "severity": {"value": "low"},
            }
        },
        ["T", "C"],
    )
    reader = RowReader(mapping)
    assert reader.read(2, {"T": "x", "C": " customer care CALL "}).text["channel"] == "phone"
    assert reader.read(3, {"T": "x", "C": "E-mail"}).text["channel"] == "email"
    with pytest.raises(RowError, match=r"Channel “Pigeon” is not known; map it to one of phone"):
        reader.read(4, {"T": "x", "C": "Pigeon"})


@pytest.mark.parametrize(
    ("definition", "columns", "message"),
    [
        ({"fields": {"title": "T"}}, ["T"], "map Channel, Severity"),
        ({**BASE, "fields": {**BASE["fields"], "title": "Nope"}}, ["T"], "no column “Nope”"),
        (
            {**BASE, "fields": {**BASE["fields"], "external_id": "T"}},
            ["T"],
            "needs a “source_system”",
        ),
        (
            {
                **BASE,
                "fields": {**BASE["fields"], "channel": {"column": "T", "values": {"a": "pigeon"}}},
            },
            ["T"],
            "“a” maps to “pigeon”",
        ),
        ({**BASE, "timezone": "Mars/Base"}, ["T"], "unknown time zone"),
        ({**BASE, "filter": {"column": "T"}}, ["T"], "needs exactly one of equals, in, not_in"),
        ({**BASE, "filter": {"column": "T", "in": []}}, ["T"], "needs values to compare with"),
        ({**BASE, "filter": {"column": "Mood", "equals": "negative"}}, ["T"], "no column “Mood”"),
        (
            {
                **BASE,
                "fields": {**BASE["fields"], "title": {"column": "T", "if_missing": "create"}},
            },
            ["T"],
            "“if_missing” applies to customer, process and category",
        ),
        ({**BASE, "fields": {**BASE["fields"], "colour": "T"}}, ["T"], "unknown field(s) colour"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_with_the_reason(
    definition, columns, message
) -> None:
    with pytest.raises(ServiceError) as refused:
        parse_mapping(definition, columns)
    assert message in refused.value.message
