"""The saved-mappings pages: the list with each mapping's use, one mapping's definition, renaming
(unique names, stale forms) and deleting (past imports keep working), each audited and only for
those who may import."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEvent
from app.extensions import db
from app.intake import saved_mappings, services
from app.intake.models import ImportJob, ImportMapping
from tests.organisation.pages import is_marked_invalid, page_text

TICKETS = (
    b"Ref,Title,Via,Opened\n"
    b"T1,Late parcel,Customer Care Call,03-04-25\n"
    b"T2,Broken lid,Internet,04-04-25\n"
)
DEFINITION = {
    "source_system": "helpdesk",
    "date_formats": ["%d-%m-%y"],
    "null_values": ["?"],
    "fields": {
        "external_id": {"column": "Ref", "pattern": "T\\d+"},
        "title": "Title",
        "received_at": "Opened",
        "channel": {
            "column": "Via",
            "values": {"Customer Care Call": "phone", "Internet": "web_form"},
        },
        "severity": {"value": "low"},
    },
}


def _upload(client, content: bytes = TICKETS, **extra) -> int:
    response = client.post(
        "/import",
        data={"file": (io.BytesIO(content), "tickets.csv"), **extra},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[2])


def _run(client, job_id: int) -> None:
    """Start the mapped import and step it to the end, as the job page's script does."""
    assert (
        client.post(f"/import/{job_id}/preview", data={"mode": "skip_bad_rows"}).status_code == 302
    )
    for _ in range(5):
        if client.post(f"/import/{job_id}/step").get_json()["finished"]:
            return
    raise AssertionError("the import did not finish")


def _import_saving_as(client, name: str, definition: dict | None = None) -> int:
    """Upload, map with `definition` saving it as `name`, and import: the job's id."""
    job_id = _upload(client)
    mapped = client.post(
        f"/import/{job_id}/mapping",
        data={"mapping_json": json.dumps(definition or DEFINITION), "save_as": name},
    )
    assert mapped.status_code == 302, mapped.get_data(as_text=True)
    _run(client, job_id)
    return job_id


def _mapping_id(name: str, committed) -> int:
    return committed(
        lambda: db.session.scalar(select(ImportMapping.id).where(ImportMapping.name == name))
    )


def _saved(committed, name: str, user=None) -> ImportMapping:
    return committed(services.save_mapping, name, DEFINITION, user=user)


def _events(committed, record_type: str, record_id: int) -> list[AuditEvent]:
    return committed(
        lambda: list(
            db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.record_type == record_type,
                    AuditEvent.record_id == str(record_id),
                )
                .order_by(AuditEvent.id)
            )
        )
    )


def _row(page: str, name: str) -> str:
    rows = re.findall(r'<tr data-testid="saved-mapping-row">(.*?)</tr>', page, re.S)
    matching = [row for row in rows if f">{name}</a>" in row]
    assert matching, f"no row for {name!r}"
    return matching[0]


def test_the_list_shows_each_saved_mapping_with_its_fields_and_use(
    client, login, committed
) -> None:
    lead = login("quality_lead")
    _saved(committed, "Unused export")
    _import_saving_as(client, "Helpdesk")
    mapping_id = _mapping_id("Helpdesk", committed)
    # Choosing the saved mapping on upload skips to the preview and counts as a second use.
    again = _upload(client, saved_mapping=str(mapping_id))
    _run(client, again)

    upload_page = client.get("/import").get_data(as_text=True)
    assert 'href="/import/mappings"' in upload_page

    response = client.get("/import/mappings")
    assert response.status_code == 200
    page = page_text(response)
    used = _row(page, "Helpdesk")
    assert f'href="/import/mappings/{mapping_id}"' in used
    assert lead.full_name in used
    assert "External id (ticket number), Title, Received at, Channel, Severity" in used
    assert "<td>2</td>" in used and "never" not in used and " UTC" in used
    unused = _row(page, "Unused export")
    assert "<td>0</td>" in unused and "never" in unused and "command line" in unused
    # By name: the list reads like the upload page's choices.
    assert page.index(">Helpdesk</a>") < page.index(">Unused export</a>")


def test_the_list_reads_every_mapping_in_the_same_few_queries(
    client, login, committed, count_queries
) -> None:
    lead = login("quality_lead")
    _saved(committed, "First", user=lead)
    few = count_queries(lambda: client.get("/import/mappings"))
    for number in range(2, 7):
        _saved(committed, f"Mapping {number}", user=lead)
    many = count_queries(lambda: client.get("/import/mappings"))
    assert many == few


def test_a_mapping_page_shows_its_definition_and_the_imports_that_used_it(
    client, login, committed
) -> None:
    login("admin")
    job_id = _import_saving_as(client, "Helpdesk")
    mapping_id = _mapping_id("Helpdesk", committed)

    page = page_text(client.get(f"/import/mappings/{mapping_id}"))
    fields = page.split('data-testid="mapping-fields"')[1].split("</table>")[0]
    assert "External id (ticket number)" in fields and ">Ref</span>" in fields
    assert "must match T\\d+" in fields
    assert "Customer Care Call → phone" in fields and "Internet → web_form" in fields
    assert "fixed value</span> low" in fields
    settings = page.split('data-testid="mapping-settings"')[1].split("</dl>")[0]
    assert "helpdesk" in settings and "DD-MM-YY" in settings and "%d-%m-%y" in settings
    assert "?" in settings
    assert '"source_system": "helpdesk"' in page  # the JSON, to copy into the CLI's file
    jobs = page.split('data-testid="mapping-jobs"')[1].split("</table>")[0]
    assert f'href="/import/{job_id}"' in jobs and "Completed" in jobs
    assert "used by 1 import" in page
    # The job page names the mapping it ran with and links to it.
    job_page = page_text(client.get(f"/import/{job_id}"))
    assert f'mapping <a href="/import/mappings/{mapping_id}">Helpdesk</a>' in job_page


def test_renaming_a_mapping_changes_its_name_everywhere_and_is_audited(
    client, login, committed, fetch
) -> None:
    lead = login("quality_lead")
    mapping = _saved(committed, "Helpdesk", user=lead)
    response = client.post(
        f"/import/mappings/{mapping.id}",
        data={"name": "  Helpdesk (2026 export) ", "version": str(mapping.version)},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/import/mappings/{mapping.id}")
    page = page_text(client.get(response.headers["Location"]))
    assert "Renamed the saved mapping “Helpdesk” to “Helpdesk (2026 export)”." in page
    assert ">Helpdesk (2026 export)</option>" in client.get("/import").get_data(as_text=True)

    stored = fetch(ImportMapping, mapping.id)
    assert stored.name == "Helpdesk (2026 export)"
    # Imports mapped with it from now on carry the new name.
    assert stored.definition_dict["name"] == "Helpdesk (2026 export)"
    update = _events(committed, "import_mapping", mapping.id)[-1]
    assert update.action is AuditAction.UPDATE and update.actor_user_id == lead.id
    assert update.changes_dict["name"] == ["Helpdesk", "Helpdesk (2026 export)"]


def test_renaming_to_a_name_in_use_shows_a_field_error_and_changes_nothing(
    client, login, committed, fetch
) -> None:
    login("quality_lead")
    _saved(committed, "Helpdesk")
    other = _saved(committed, "Contact centre")
    events_before = len(_events(committed, "import_mapping", other.id))

    response = client.post(
        f"/import/mappings/{other.id}", data={"name": "helpdesk", "version": str(other.version)}
    )
    page = page_text(response)
    assert response.status_code == 422
    assert "Another saved mapping is already called “helpdesk”." in page
    assert is_marked_invalid(page, "name")
    assert 'value="helpdesk"' in page  # what was typed stays to correct
    assert fetch(ImportMapping, other.id).name == "Contact centre"
    assert len(_events(committed, "import_mapping", other.id)) == events_before

    empty = client.post(
        f"/import/mappings/{other.id}", data={"name": " ", "version": str(other.version)}
    )
    assert empty.status_code == 422 and "Give the mapping a name." in page_text(empty)


def test_a_stale_rename_is_refused_with_a_reload_link(client, login, committed, fetch) -> None:
    login("quality_lead")
    mapping = _saved(committed, "Helpdesk")
    opened_version = str(mapping.version)  # the lead opens the page ...

    def colleague_renames() -> None:  # ... a colleague renames it first ...
        stored = db.session.get(ImportMapping, mapping.id)
        saved_mappings.rename_mapping(
            stored, "Helpdesk (colleague)", expected_version=stored.version, user=None
        )

    committed(colleague_renames)
    response = client.post(
        f"/import/mappings/{mapping.id}",
        data={"name": "Helpdesk (mine)", "version": opened_version},
    )
    page = page_text(response)
    assert response.status_code == 422
    assert "was changed by someone else since you opened it. Reload the page" in page
    assert f'href="/import/mappings/{mapping.id}">Reload the current version</a>' in page
    assert 'value="Helpdesk (mine)"' in page
    assert fetch(ImportMapping, mapping.id).name == "Helpdesk (colleague)"


def test_deleting_a_mapping_keeps_the_imports_that_used_it(
    client, login, committed, fetch, count
) -> None:
    lead = login("quality_lead")
    job_id = _import_saving_as(client, "Helpdesk")
    mapping_id = _mapping_id("Helpdesk", committed)
    version = fetch(ImportMapping, mapping_id).version

    page = client.get(f"/import/mappings/{mapping_id}").get_data(as_text=True)
    # The confirmation is a dialog in the page (Bootstrap's data attributes, no inline script).
    assert 'data-bs-toggle="modal" data-bs-target="#delete-mapping"' in page
    assert f'action="/import/mappings/{mapping_id}/delete"' in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None

    response = client.post(f"/import/mappings/{mapping_id}/delete", data={"version": version})
    assert response.status_code == 302 and response.headers["Location"].endswith("/import/mappings")
    listing = page_text(client.get("/import/mappings"))
    assert "Deleted the saved mapping “Helpdesk”. Imports that used it keep their copy." in listing
    assert ">Helpdesk</a>" not in listing
    assert count(ImportMapping) == 0
    assert client.get(f"/import/mappings/{mapping_id}").status_code == 404

    # The earlier import's page still shows the job and the mapping it ran with.
    job_page = client.get(f"/import/{job_id}")
    assert job_page.status_code == 200
    text = page_text(job_page)
    assert "Imported 2 complaints" in text and "mapping Helpdesk" in text
    job = fetch(ImportJob, job_id)
    assert job.mapping_id is None and job.mapping_dict["source_system"] == "helpdesk"
    assert client.get(f"/import/{job_id}/rejected.csv").status_code == 200

    deletion = _events(committed, "import_mapping", mapping_id)[-1]
    assert deletion.action is AuditAction.DELETE and deletion.actor_user_id == lead.id
    assert deletion.changes_dict["name"] == ["Helpdesk", None]
    assert '"source_system": "helpdesk"' in deletion.changes_dict["definition"][0]
    unlinked = _events(committed, "import_job", job_id)[-1]
    assert unlinked.changes_dict["mapping_id"] == [mapping_id, None]
    assert unlinked.reason == "Deleted the saved mapping “Helpdesk”"


def test_a_stale_delete_is_refused_and_keeps_the_mapping(client, login, committed, fetch) -> None:
    login("quality_lead")
    mapping = _saved(committed, "Helpdesk")
    opened_version = str(mapping.version)
    committed(services.save_mapping, "Helpdesk", {**DEFINITION, "source_system": "v2"}, user=None)

    response = client.post(
        f"/import/mappings/{mapping.id}/delete", data={"version": opened_version}
    )
    page = page_text(response)
    assert response.status_code == 422
    assert "was changed by someone else since you opened it" in page
    assert f'href="/import/mappings/{mapping.id}">Reload the current version</a>' in page
    assert fetch(ImportMapping, mapping.id).definition_dict["source_system"] == "v2"


@pytest.mark.parametrize("role", ["contributor", "auditor"])
def test_roles_without_the_import_permission_get_403_and_change_nothing(
    role, client, login, committed, fetch
) -> None:
    mapping = _saved(committed, "Helpdesk")
    login(role)
    assert client.get("/import/mappings").status_code == 403
    assert client.get(f"/import/mappings/{mapping.id}").status_code == 403
    renamed = client.post(
        f"/import/mappings/{mapping.id}", data={"name": "Mine", "version": str(mapping.version)}
    )
    assert renamed.status_code == 403
    deleted = client.post(
        f"/import/mappings/{mapping.id}/delete", data={"version": str(mapping.version)}
    )
    assert deleted.status_code == 403
    assert fetch(ImportMapping, mapping.id).name == "Helpdesk"


def test_the_services_refuse_roles_without_the_import_permission(committed, make_user) -> None:
    from app.core.errors import ServiceError

    mapping = _saved(committed, "Helpdesk")
    auditor = make_user("auditor")

    def rename() -> None:
        stored = db.session.get(ImportMapping, mapping.id)
        saved_mappings.rename_mapping(stored, "Mine", expected_version=stored.version, user=auditor)

    with pytest.raises(ServiceError, match="may not manage saved mappings"):
        committed(rename)


def test_rename_and_delete_post_with_the_pages_csrf_tokens(databases) -> None:
    """With CSRF on (as in production) both forms carry a token; a post without one is refused."""
    from tests import factories
    from tests.conftest import TEST_PASSWORD

    app = databases.new_migrated_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        lead = factories.create_user(role="quality_lead")
        mapping = services.save_mapping("Helpdesk", DEFINITION, user=lead)
        db.session.commit()
        email, mapping_id = lead.email, mapping.id
    client = app.test_client()

    def token(page: str, form_testid: str) -> dict[str, str]:
        form = page.split(f'data-testid="{form_testid}"')[1].split("</form>")[0]
        return dict(re.findall(r'<input[^>]*name="(csrf_token|version)"[^>]*value="([^"]*)"', form))

    login_page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)[1]
    client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": csrf})
    page = client.get(f"/import/mappings/{mapping_id}").get_data(as_text=True)
    renamed = client.post(
        f"/import/mappings/{mapping_id}", data={**token(page, "rename-form"), "name": "Desk"}
    )
    assert renamed.headers["Location"].endswith(f"/import/mappings/{mapping_id}")
    page = client.get(f"/import/mappings/{mapping_id}").get_data(as_text=True)
    delete_fields = token(page, "delete-form")
    assert set(delete_fields) == {"csrf_token", "version"}
    refused = client.post(
        f"/import/mappings/{mapping_id}/delete", data={"version": delete_fields["version"]}
    )
    assert refused.status_code == 400
    deleted = client.post(f"/import/mappings/{mapping_id}/delete", data=delete_fields)
    assert deleted.headers["Location"].endswith("/import/mappings")
    assert client.get(f"/import/mappings/{mapping_id}").status_code == 404


def test_a_saved_mapping_page_shows_its_row_filter(client, login, committed) -> None:
    airline = services.__file__.rsplit("/app/", 1)[0] + "/docs/mappings/airline_tweets.json"
    with open(airline, encoding="utf-8") as handle:
        definition = json.load(handle)
    record = committed(services.save_mapping, "Airline tweets", definition, user=None)
    login("quality_lead")
    page = client.get(f"/import/mappings/{record.id}").get_data(as_text=True)
    shown = page.split('data-testid="row-filter"')[1].split("</dd>")[0]
    assert "only where airline_sentiment is “negative”" in shown
    fields = page.split('data-testid="mapping-fields"')[1].split("</table>")[0]
    assert (
        fields.count("when no record has that name: create it") == 3
    )  # customer, process, category
    plain = committed(services.save_mapping, "Plain", {**definition, "filter": []}, user=None)
    other = client.get(f"/import/mappings/{plain.id}").get_data(as_text=True)
    assert 'data-testid="row-filter">every row<' in other
