"""Reading dates row by row, detecting formats, and refusing mappings that cannot work."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from app.core.errors import ServiceError
from app.intake.mapping import (
    RowError,
    RowReader,
    detect_date_formats,
    parse_datetime,
    parse_mapping,
    suggest_fields,
)
from tests.intake.conftest import REPO

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


def test_the_guesses_read_whole_words_of_the_real_export_headers() -> None:
    """The consumer-finance export's header: "id" inside "provided" is no id, the narrative is the
    description (not the title, though it says "complaint"), and "State" is the region."""
    with (REPO / "tests" / "data" / "cfpb_outcomes_sample.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    guess = suggest_fields(header)
    assert guess["external_id"] == "Complaint ID"
    assert "Consumer consent provided?" not in guess.values()
    assert guess["description"] == "Consumer complaint narrative"
    assert guess["title"] == "Issue"
    assert guess["region"] == "State" and "status" not in guess
    assert guess["tags"] == "Tags"
    assert guess["company_response"] == "Company response to consumer"
    assert guess["channel"] == "Submitted via"
    assert guess["received_at"] == "Date received"


def test_a_state_column_is_never_the_status() -> None:
    assert "status" not in suggest_fields(["Subject", "State", "Opened"])
    assert suggest_fields(["Subject", "State", "Status"])["status"] == "Status"
    assert suggest_fields(["number", "incident_state"])["status"] == "incident_state"
    # Letters inside a word are not a hint: "valid" has no "id", "paid" neither.
    assert "external_id" not in suggest_fields(["Subject", "valid", "Paid amount"])
    assert suggest_fields(["caller_id", "ticket_id"])["external_id"] == "ticket_id"


def test_a_time_with_its_own_offset_is_read_as_given() -> None:
    """The airline export's "2015-02-24 11:35:52 -0800": the offset wins over the mapping's zone."""
    formats = ["%Y-%m-%d %H:%M:%S %z"]
    moment = parse_datetime("2015-02-24 11:35:52 -0800", formats, None)
    assert moment == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)


def test_a_row_filter_keeps_rows_ignoring_case_and_spaces() -> None:
    mapping = parse_mapping(
        {**BASE, "null_values": ["?"], "filter": {"column": "Mood", "in": ["negative", "angry"]}},
        ["T", "Mood"],
    )
    assert mapping.keeps({"Mood": " Negative "}) and mapping.keeps({"Mood": "ANGRY"})
    assert not mapping.keeps({"Mood": "neutral"}) and not mapping.keeps({"Mood": "?"})
    assert mapping.filters[0].describe() == "Mood is one of “negative”, “angry”"
    assert parse_mapping(mapping.as_json(), ["T", "Mood"]).filters == mapping.filters
    empty_only = parse_mapping(
        {**BASE, "filter": {"column": "Mood", "not_in": [""]}}, ["T", "Mood"]
    )
    assert empty_only.keeps({"Mood": "x"}) and not empty_only.keeps({"Mood": "  "})
