"""An import that builds its own reference data (processes, categories, customers), with value maps
that merge spellings and a row filter: on the real Comcast file (whose titles differ only in case
and spaces) and on a small fixture of real airline-complaint tweets
(tests/data/airline_tweets_sample.csv, the first rows of the public US airline sentiment export)
with docs/mappings/airline_tweets.json."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.complaints.models import Channel, Complaint
from app.core.audit import AuditEvent
from app.intake import services
from app.intake.reference import name_key
from app.organisation.models import Category, Customer, Process
from tests.intake.conftest import COMCAST, COMCAST_MAPPING, REPO, mapping_of

AIRLINE = REPO / "tests" / "data" / "airline_tweets_sample.csv"
AIRLINE_MAPPING = REPO / "docs" / "mappings" / "airline_tweets.json"


def _comcast_rows() -> list[dict[str, str]]:
    with COMCAST.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _comcast_with_categories(values: dict[str, str] | None = None) -> dict:
    definition = mapping_of(COMCAST_MAPPING)
    definition["fields"]["category"] = {"column": "Customer Complaint", "if_missing": "create"}
    if values:
        definition["fields"]["category"]["values"] = values
    return definition


def test_the_real_comcast_titles_become_one_category_per_spelling(session, run_import) -> None:
    rows = _comcast_rows()
    good = [row for row in rows if row["Ticket #"].isdigit()]  # not the "comcas" ticket

    def keys_of(some: list[dict[str, str]]) -> Counter:
        return Counter(" ".join(row["Customer Complaint"].split()).casefold() for row in some)

    # Independently: one category per title ignoring case and runs of spaces; a name over the
    # 120 characters a category may have cannot be created (its row is rejected, saying why).
    keys = keys_of(good)
    too_long = {key for key in keys if len(key) > 120}
    assert (len(keys), len(too_long)) == (1739, 11)

    job = services.create_job(COMCAST.name, COMCAST.read_bytes(), user=None)
    services.set_mapping(job, _comcast_with_categories(), user=None)
    planned = services.planned_creations(job)["category"]
    assert len(planned) == len([key for key in keys_of(rows) if len(key) <= 120])
    assert "Comcast data caps" in planned  # the first spelling in the file
    assert not {"comcast data caps", "Comcast Data Caps", "Comcast DATA Caps"} & set(planned)
    services.start_job(job, "skip_bad_rows", user=None)
    services.run_to_end(job)

    categories = session.scalars(select(Category)).all()
    assert len(categories) == 1739 - 11
    assert len({name_key(category.name) for category in categories}) == len(categories)
    assert job.imported_count == len(good) - 11
    assert job.rejected_count == 1 + 11  # the "comcas" ticket and the over-long names
    reasons = [r.reason for r in services.rejections(job)]
    assert sum("A category name may have at most 120 characters" in r for r in reasons) == 11
    # Every spelling of "comcast data caps" lands in the one category.
    caps = next(c for c in categories if name_key(c.name) == "comcast data caps")
    in_caps = session.scalar(select(func.count()).where(Complaint.category_id == caps.id))
    assert in_caps == keys["comcast data caps"] == 21
    # Each category was created through the ORM, with its own create event in the trail.
    created = session.scalar(
        select(func.count()).where(
            AuditEvent.record_type == "category", AuditEvent.action == "create"
        )
    )
    assert created == len(categories)


def test_a_value_map_merges_spellings_before_the_names_are_matched(session, run_import) -> None:
    rows = _comcast_rows()
    keys = Counter(" ".join(row["Customer Complaint"].split()).casefold() for row in rows)
    merged = keys["comcast data caps"] + keys["data caps"] + keys["comcast data cap"]
    assert merged > keys["comcast data caps"]
    values = {"comcast data caps": "Data caps", "data caps": "Data caps"}
    values["comcast data cap"] = "Data caps"
    job = run_import(COMCAST, _comcast_with_categories(values))
    assert job.status.value == "completed"

    caps = session.scalar(select(Category).where(Category.name == "Data caps"))
    assert caps is not None
    assert session.scalar(select(func.count()).where(Complaint.category_id == caps.id)) == merged
    names = {name_key(name) for name in session.scalars(select(Category.name))}
    assert "comcast data caps" not in names


def test_a_process_named_in_the_file_is_created_once_and_reused(session, run_import) -> None:
    definition = mapping_of(COMCAST_MAPPING)
    definition["fields"]["process"] = {"column": "Received Via", "if_missing": "create"}
    job = run_import(COMCAST, definition)

    processes = {p.name: p.id for p in session.scalars(select(Process))}
    assert set(processes) == {"Customer Care Call", "Internet"}
    counts = Counter(row["Received Via"] for row in _comcast_rows() if row["Ticket #"].isdigit())
    for name, process_id in processes.items():
        got = session.scalar(select(func.count()).where(Complaint.process_id == process_id))
        assert got == counts[name]
    assert job.imported_count == sum(counts.values())


def test_the_airline_export_imports_only_the_negative_tweets(session, run_import) -> None:
    job = services.create_job(AIRLINE.name, AIRLINE.read_bytes(), user=None)
    services.set_mapping(job, mapping_of(AIRLINE_MAPPING), user=None)
    assert (job.file_rows, job.total, job.filtered_count) == (5, 2, 3)
    assert services.planned_creations(job) == {
        "customer": ["jnardino"],
        "process": ["Virgin America"],
        "category": ["Bad Flight", "Can't Tell"],
    }
    services.start_job(job, "all_or_nothing", user=None)
    services.run_to_end(job)
    session.commit()

    assert (job.imported_count, job.rejected_count, job.filtered_count) == (2, 0, 3)
    assert "3 left out by the row filter." in job.message
    imported = select(Complaint).where(Complaint.source_system == "twitter-airline")
    got = {c.external_id: c for c in session.scalars(imported)}
    assert set(got) == {"570301031407624196", "570300817074462722"}
    aggressive = got["570301031407624196"]
    assert aggressive.title == "Virgin America: Bad Flight"
    assert aggressive.channel is Channel.SOCIAL_MEDIA
    assert aggressive.description.startswith(
        'text: @VirginAmerica it\'s really aggressive to blast obnoxious "entertainment" in '
    )
    # "2015-02-24 11:15:36 -0800": the tweet's own offset, stored in UTC.
    assert aggressive.received_at == datetime(2015, 2, 24, 19, 15, 36, tzinfo=UTC)
    assert aggressive.category.name == "Bad Flight" and aggressive.process.name == "Virgin America"
    customer = session.scalar(select(Customer).where(Customer.name == "jnardino"))
    assert {c.customer_id for c in got.values()} == {customer.id}

    # Again: both are duplicates, nothing is created twice.
    again = services.create_job(AIRLINE.name, AIRLINE.read_bytes(), user=None)
    services.set_mapping(again, mapping_of(AIRLINE_MAPPING), user=None)
    assert services.planned_creations(again) == {}
    services.start_job(again, "skip_bad_rows", user=None)
    services.run_to_end(again)
    assert (again.imported_count, again.duplicate_count, again.rejected_count) == (0, 2, 0)
    assert session.scalar(select(func.count()).select_from(Category)) == 2


def test_the_filter_keeps_rows_by_values_ignoring_case(session, run_import) -> None:
    definition = mapping_of(COMCAST_MAPPING)
    definition["filter"] = {"column": "Status", "in": ["solved", " CLOSED "]}
    rows = _comcast_rows()
    wanted = [r for r in rows if r["Status"] in ("Solved", "Closed") and r["Ticket #"].isdigit()]
    job = run_import(COMCAST, definition)
    assert job.imported_count == len(wanted) == 973 + 733  # the "comcas" row is Closed: rejected
    assert (job.rejected_count, job.filtered_count) == (1, 363 + 154)

    excluded = mapping_of(COMCAST_MAPPING)
    excluded["source_system"] = "comcast-open"
    excluded["filter"] = [{"column": "Status", "not_in": ["Solved", "Closed"]}]
    other = run_import(COMCAST, excluded)
    assert (other.imported_count, other.rejected_count) == (363 + 154, 0)
    assert other.filtered_count == 973 + 734
