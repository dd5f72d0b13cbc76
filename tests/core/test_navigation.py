"""The main navigation: each role sees its own entries, and its links (built once per process)
follow the path the app is served under."""

from __future__ import annotations

import re

import pytest


def nav_links(html: str) -> dict[str, str]:
    nav = html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    return {
        label.strip(): href
        for href, label in re.findall(
            r'<a class="(?:nav-link|nav-menu-link)[^"]*"[^>]*href="([^"]+)"[^>]*>([^<]+)<', nav
        )
    }


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("admin", {"Users", "Scheduler", "API tokens", "Import", "Audit trail"}, set()),
        ("quality_lead", {"Scheduler", "Import", "Audit trail"}, {"Users", "API tokens"}),
        ("contributor", {"Complaints", "Customers"}, {"Scheduler", "Import", "Audit trail"}),
        ("auditor", {"Audit trail", "Scheduler", "Reports"}, {"Import", "Users"}),
    ],
)
def test_each_role_sees_its_own_navigation(client, login, role, shown, hidden) -> None:
    login(role)
    links = nav_links(client.get("/complaints").get_data(as_text=True))
    assert shown <= set(links)
    assert not hidden & set(links)
    assert links["Complaints"] == "/complaints"


def test_the_links_follow_the_path_the_app_is_served_under(client, login) -> None:
    login("quality_lead")
    plain = client.get("/complaints").get_data(as_text=True)
    mounted = client.get("/complaints", base_url="http://localhost/qms").get_data(as_text=True)
    assert nav_links(plain)["Complaints"] == "/complaints"
    assert nav_links(mounted)["Complaints"] == "/qms/complaints"
    assert all(href.startswith("/qms/") for href in nav_links(mounted).values())
    assert 'href="/qms/static/loop.css"' in mounted
    assert 'href="/static/loop.css"' in client.get("/complaints").get_data(as_text=True)
