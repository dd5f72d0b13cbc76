"""A separate process whose GET requests write (each CSV export records an `export` event), as
fast as it can, so that their deferred transactions race other writers (see test_audit).

Usage: python -m tests.core.concurrent_get_writer DATABASE_URL EMAIL PASSWORD REQUEST_COUNT
"""

from __future__ import annotations

import os
import sys


def main(url: str, email: str, password: str, count: int) -> None:
    os.environ["LOOP_ENV"] = "testing"
    from app import create_app

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.status_code
    for _ in range(count):
        response = client.get("/nonconformities/export.csv")
        assert response.status_code == 200, response.status_code


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
