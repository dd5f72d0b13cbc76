"""The analysis pages: each method's editor, the fishbone SVG, every form's bad input, and who
may change what."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import NonconformityStatus
from app.rca import services
from app.rca.models import (
    EightDSection,
    IshikawaCause,
    RootCause,
    RootCauseAnalysis,
    WhyStep,
)
from tests.nonconformities.factories import raise_nc, start


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def visible(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def svg_of(page: str) -> str:
    match = re.search(r"<svg\b.*?</svg>", page, re.S)
    assert match, "no SVG on the page"
    return match[0]


@pytest.fixture()
def analysis_of(committed):
    """Make a nonconformity (owned by `owner_id`) with an analysis; returns its page URL and ids."""

    def make(method: str = "five_whys", owner_id: int | None = None, fill=None):
        def setup():
            nc = raise_nc(owner_id=owner_id)
            analysis = start(nc, method)
            if fill:
                fill(analysis)
            return nc.reference, analysis.id, analysis.version

        reference, analysis_id, version = committed(setup)
        url = f"/nonconformities/{reference}/analyses/{analysis_id}"
        return url, analysis_id, version

    return make


def _rows(committed, model) -> int:
    return committed(lambda: db.session.scalar(select(func.count()).select_from(model)))


def _analysis(committed, analysis_id: int, load=None):
    def read():
        analysis = db.session.get(RootCauseAnalysis, analysis_id)
        return load(analysis) if load else analysis

    return committed(read)


# --- starting ----------------------------------------------------------------------------------


def test_start_an_analysis_from_the_nonconformity_page(client, login, committed) -> None:
    login("quality_lead")
    reference = committed(lambda: raise_nc(title="Invoices sent twice")).reference
    page = text(client.get(f"/nonconformities/{reference}"))
    assert "Start analysis" in page
    assert "Invoices sent twice</textarea>" in page  # the problem statement starts from the title

    response = client.post(
        f"/nonconformities/{reference}/analyses",
        data={"method": "ishikawa", "problem_statement": "Customers billed twice"},
    )

    assert response.status_code == 302
    page = visible(client.get(response.headers["Location"]))
    assert f"Started the Ishikawa analysis of {reference}." in page
    assert "Problem: Customers billed twice" in page
    listing = visible(client.get(f"/nonconformities/{reference}"))
    assert "Ishikawa analysis" in listing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "fishing", "problem_statement": "x"}, "Not a valid choice."),
        ({"method": "five_whys", "problem_statement": ""}, "Describe the problem"),
    ],
)
def test_bad_input_on_the_start_form(client, login, committed, data, message) -> None:
    login("quality_lead")
    reference = committed(lambda: raise_nc()).reference
    response = client.post(f"/nonconformities/{reference}/analyses", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert _rows(committed, RootCauseAnalysis) == 0


def test_no_analysis_of_a_cancelled_nonconformity(client, login, committed) -> None:
    lead = login("quality_lead")

    def setup():
        nc = raise_nc()
        nc_services.cancel_nonconformity(nc, db.session.get(User, lead.id), "Duplicate")
        return nc.reference

    reference = committed(setup)
    assert "Start analysis" not in text(client.get(f"/nonconformities/{reference}"))
    response = client.post(
        f"/nonconformities/{reference}/analyses",
        data={"method": "five_whys", "problem_statement": "Why?"},
    )
    assert response.status_code == 422
    assert "is cancelled; its analyses can no longer change" in text(response)
    assert _rows(committed, RootCauseAnalysis) == 0


# --- 5 Whys ------------------------------------------------------------------------------------


def test_the_why_chain(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, version = analysis_of()

    for number in (1, 2, 3):
        page = text(client.get(url))
        version = re.search(r'name="version" value="(\d+)"', page)[1]
        response = client.post(
            f"{url}/whys",
            data={"why": f"Why {number}?", "because": f"Because {number}", "version": version},
        )
        assert response.status_code == 302
    page = visible(client.get(url))
    assert "Why? Why 1? → Because Because 1" in page
    assert page.index("Why 1?") < page.index("Why 2?") < page.index("Why 3?")

    steps = _analysis(committed, analysis_id, lambda a: [(s.id, s.position) for s in a.why_steps])
    version = re.search(r'name="version" value="(\d+)"', text(client.get(url)))[1]
    response = client.post(f"{url}/whys/{steps[0][0]}/remove", data={"version": version})
    assert response.status_code == 302
    chain = _analysis(committed, analysis_id, lambda a: [(s.position, s.why) for s in a.why_steps])
    assert chain == [(1, "Why 2?"), (2, "Why 3?")]
    page = text(client.get(url))
    assert re.findall(r'data-testid="why-step" data-position="(\d+)"', page) == ["1", "2"]


def test_edit_a_why(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, _ = analysis_of(fill=lambda a: services.add_why(a, "Why?", "Because"))
    step_id = _analysis(committed, analysis_id, lambda a: a.why_steps[0].id)
    version = _analysis(committed, analysis_id).version
    response = client.post(
        f"{url}/whys/{step_id}",
        data={"why": "Why twice?", "because": "The run restarted", "version": version},
    )
    assert response.status_code == 302
    assert "Why? Why twice? → Because The run restarted" in visible(client.get(url))


def test_bad_input_on_the_why_forms(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, _ = analysis_of(fill=lambda a: services.add_why(a, "Why?", "Because"))
    step_id = _analysis(committed, analysis_id, lambda a: a.why_steps[0].id)
    version = _analysis(committed, analysis_id).version
    for path, data, message in (
        ("whys", {"why": "", "because": "x", "version": version}, "Ask the question."),
        ("whys", {"why": "x", "because": "", "version": version}, "Give the answer."),
        ("whys", {"why": "x", "because": "y", "version": version - 1}, "changed by someone else"),
        (f"whys/{step_id}", {"why": "", "because": "x", "version": version}, "Ask the question."),
        (f"whys/{step_id}/remove", {"version": version - 1}, "changed by someone else"),
        ("whys/999999/remove", {"version": version}, "not part of this analysis"),
    ):
        response = client.post(f"{url}/{path}", data=data)
        assert response.status_code == 422, path
        assert message in text(response)
    chain = _analysis(committed, analysis_id, lambda a: [(s.why, s.because) for s in a.why_steps])
    assert chain == [("Why?", "Because")]
    assert _analysis(committed, analysis_id).version == version


def test_a_stale_page_offers_a_reload(client, login, analysis_of) -> None:
    login("quality_lead")
    url, _, version = analysis_of()
    client.post(f"{url}/whys", data={"why": "First", "because": "x", "version": version})
    response = client.post(f"{url}/whys", data={"why": "Mine", "because": "y", "version": version})
    page = text(response)
    assert response.status_code == 422
    assert "Reload the current version" in page
    assert ">Mine</textarea>" in page  # the user's entry is kept


# --- Ishikawa ----------------------------------------------------------------------------------


def _fill_fishbone(analysis) -> None:
    services.add_ishikawa_cause(analysis, "people", "New starter on the desk")
    services.add_ishikawa_cause(analysis, "method", "No restart check")
    services.add_ishikawa_cause(analysis, "Supplier quality", "Bank file late")


def test_the_fishbone_diagram(client, login, analysis_of) -> None:
    login("auditor")
    url, _, _ = analysis_of("ishikawa", fill=_fill_fishbone)

    page = text(client.get(url))
    svg = svg_of(page)

    assert re.search(r'viewBox="0 0 [\d.]+ [\d.]+"', svg)
    assert "style=" not in svg
    assert "Customers received duplicate invoices" in svg  # the head
    for label in ("People", "Method", "Equipment", "Materials", "Measurement", "Environment"):
        assert f">{label}</text>" in svg
    assert ">Supplier quality</text>" in svg
    for cause in ("New starter on the desk", "No restart check", "Bank file late"):
        assert f">{cause}</tspan>" in svg
    assert svg.count('data-testid="fishbone-bone"') == 7
    groups = dict(
        re.findall(r'data-testid="cause-group" data-category="([^"]+)"(.*?)</ul>', page, re.S)
    )
    assert "New starter on the desk" in groups["people"]
    assert "Bank file late" in groups["supplier quality"]
    assert "No causes yet." in groups["equipment"]
    assert "style=" not in page


def test_long_causes_wrap_within_the_diagram(client, login, analysis_of) -> None:
    login("quality_lead")
    long_cause = "The billing run restarts after a timeout and sends every invoice again"
    url, _, _ = analysis_of(
        "ishikawa", fill=lambda a: services.add_ishikawa_cause(a, "method", long_cause)
    )
    svg = svg_of(text(client.get(url)))
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert " ".join(line for line in lines if line in long_cause) == long_cause
    assert max(len(line) for line in lines) <= 30


def test_add_and_remove_a_cause(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, version = analysis_of("ishikawa")
    response = client.post(
        f"{url}/causes", data={"category": "Materials", "cause": "Paper jams", "version": version}
    )
    assert response.status_code == 302
    assert ">Paper jams</tspan>" in svg_of(text(client.get(url)))
    cause_id, version = _analysis(
        committed, analysis_id, lambda a: (a.ishikawa_causes[0].id, a.version)
    )
    response = client.post(f"{url}/causes/{cause_id}/remove", data={"version": version})
    assert response.status_code == 302
    assert "Paper jams" not in text(client.get(url))


def test_bad_input_on_the_cause_forms(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, _, version = analysis_of("ishikawa")
    for path, data, message in (
        ("causes", {"category": "", "cause": "x", "version": version}, "Choose a category."),
        ("causes", {"category": "people", "cause": "", "version": version}, "Describe the cause."),
        ("causes", {"category": "x" * 61, "cause": "y", "version": version}, "60 characters"),
        ("causes/999999/remove", {"version": version}, "not part of this analysis"),
    ):
        response = client.post(f"{url}/{path}", data=data)
        assert response.status_code == 422, data
        assert message in text(response)
    assert _rows(committed, IshikawaCause) == 0


# --- 8D ----------------------------------------------------------------------------------------


def test_the_eight_disciplines(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, version = analysis_of("eight_d")
    page = visible(client.get(url))
    for key, title in (
        ("D0", "Plan and emergency response"),
        ("D4", "Root causes and escape points"),
        ("D8", "Recognise the team"),
    ):
        assert f"{key} · {title}" in page
    assert text(client.get(url)).count("<textarea") >= 9

    client.post(
        f"{url}/eight-d", data={"discipline": "D2", "content": "Sent twice", "version": version}
    )
    version = _analysis(committed, analysis_id).version
    response = client.post(
        f"{url}/eight-d",
        data={"discipline": "D2", "content": "Sent twice, twice", "version": version},
    )
    assert response.status_code == 302
    assert ">Sent twice, twice</textarea>" in text(client.get(url))
    assert _rows(committed, EightDSection) == 1


def test_bad_input_on_the_eight_d_form(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, _, version = analysis_of("eight_d")
    for data, message in (
        ({"discipline": "D9", "content": "x", "version": version}, "Not a valid choice."),
        ({"discipline": "D1", "content": "x" * 20_001, "version": version}, "20000 characters"),
        ({"discipline": "D1", "content": "x", "version": version - 1}, "changed by someone else"),
    ):
        response = client.post(f"{url}/eight-d", data=data)
        assert response.status_code == 422
        assert message in text(response)
    assert _rows(committed, EightDSection) == 0


# --- root causes -------------------------------------------------------------------------------


def test_root_causes_and_their_verification(client, login, analysis_of, committed) -> None:
    lead = login("quality_lead")
    url, analysis_id, version = analysis_of()
    response = client.post(
        f"{url}/root-causes",
        data={
            "statement": "No check for a restarted run",
            "cause_category": "Method",
            "version": version,
        },
    )
    assert response.status_code == 302
    page = visible(client.get(url))
    assert "No check for a restarted run Method Not verified Verify" in page

    root_cause_id, version = _analysis(
        committed, analysis_id, lambda a: (a.root_causes[0].id, a.version)
    )
    response = client.post(f"{url}/root-causes/{root_cause_id}/verify", data={"version": version})
    assert response.status_code == 302
    page = visible(client.get(url))
    assert f"Verified {lead.full_name}" in page
    assert committed(lambda: db.session.get(RootCause, root_cause_id).verified_by_id) == lead.id


def test_bad_input_on_the_root_cause_forms(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, version = analysis_of(
        fill=lambda a: services.add_root_cause(a, "Kept", "people")
    )
    root_cause_id = _analysis(committed, analysis_id, lambda a: a.root_causes[0].id)
    for path, data, message in (
        (
            "root-causes",
            {"statement": "", "cause_category": "people", "version": version},
            "State the root cause.",
        ),
        (
            "root-causes",
            {"statement": "x", "cause_category": "", "version": version},
            "Choose a cause category.",
        ),
        (
            f"root-causes/{root_cause_id}/verify",
            {"version": version - 1},
            "changed by someone else",
        ),
    ):
        response = client.post(f"{url}/{path}", data=data)
        assert response.status_code == 422, path
        assert message in text(response)
    assert _rows(committed, RootCause) == 1
    assert committed(lambda: db.session.get(RootCause, root_cause_id).verified) is False
    assert (
        client.post(f"{url}/root-causes/999999/verify", data={"version": version}).status_code
        == 404
    )


def test_the_owner_adds_but_may_not_verify(client, login, analysis_of, committed) -> None:
    me = login("contributor")
    url, analysis_id, version = analysis_of(
        owner_id=me.id, fill=lambda a: services.add_root_cause(a, "Kept", "people")
    )
    page = text(client.get(url))
    assert "Add a root cause" in page and ">Verify<" not in page
    root_cause_id, version = _analysis(
        committed, analysis_id, lambda a: (a.root_causes[0].id, a.version)
    )
    response = client.post(f"{url}/root-causes/{root_cause_id}/verify", data={"version": version})
    assert response.status_code == 403
    response = client.post(
        f"{url}/whys", data={"why": "Why?", "because": "Because", "version": version}
    )
    assert response.status_code == 302


# --- who may change what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "contributor"])
def test_readers_and_non_owners_change_nothing(client, login, analysis_of, committed, role) -> None:
    login(role)

    def fill(analysis):
        services.add_why(analysis, "Why?", "Because")
        services.add_root_cause(analysis, "Kept", "people")

    url, analysis_id, version = analysis_of(fill=fill)
    step_id, root_cause_id = _analysis(
        committed, analysis_id, lambda a: (a.why_steps[0].id, a.root_causes[0].id)
    )
    page = text(client.get(url))
    assert "Add step" not in page and "Remove" not in page
    reference = url.split("/")[2]
    for path, data in (
        (
            f"/nonconformities/{reference}/analyses",
            {"method": "five_whys", "problem_statement": "x"},
        ),
        (f"{url}/whys", {"why": "x", "because": "y"}),
        (f"{url}/whys/{step_id}", {"why": "x", "because": "y"}),
        (f"{url}/whys/{step_id}/remove", {}),
        (f"{url}/causes", {"category": "people", "cause": "x"}),
        (f"{url}/causes/1/remove", {}),
        (f"{url}/eight-d", {"discipline": "D1", "content": "x"}),
        (f"{url}/root-causes", {"statement": "x", "cause_category": "people"}),
        (f"{url}/root-causes/{root_cause_id}/verify", {}),
    ):
        assert client.post(path, data={**data, "version": version}).status_code == 403, path
    assert _rows(committed, WhyStep) == 1
    assert _rows(committed, RootCauseAnalysis) == 1


def test_analysis_pages_404(client, login, analysis_of, committed) -> None:
    login("quality_lead")
    url, analysis_id, _ = analysis_of()
    other = committed(lambda: raise_nc()).reference
    assert client.get(f"/nonconformities/{other}/analyses/{analysis_id}").status_code == 404
    assert client.get(url.rsplit("/", 1)[0] + "/999999").status_code == 404
    assert client.get(f"/nonconformities/NC-1999-000001/analyses/{analysis_id}").status_code == 404


def test_a_closed_nonconformity_makes_its_analysis_read_only(client, login, analysis_of, committed):
    login("quality_lead")
    url, analysis_id, version = analysis_of(fill=lambda a: services.add_why(a, "Why?", "Because"))

    def close():
        analysis = db.session.get(RootCauseAnalysis, analysis_id)
        analysis.nonconformity.status = NonconformityStatus.CLOSED

    committed(close)
    page = text(client.get(url))
    assert "this analysis can be read but no longer changed" in page
    assert "Add step" not in page
    response = client.post(f"{url}/whys", data={"why": "x", "because": "y", "version": version})
    assert response.status_code == 422
    assert "can no longer change" in text(response)
