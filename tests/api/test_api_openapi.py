"""The OpenAPI document declares the errors each route answers, in the envelope's shape."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import make_settings


def _spec(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    return create_app(make_settings(tmp_path / "data")).openapi()


def test_error_statuses_are_declared_with_the_envelope(tmp_path: Path) -> None:
    paths = _spec(tmp_path)["paths"]
    case = paths["/cases/{case_id}"]
    assert {"401", "403", "404", "422"} <= set(case["get"]["responses"])
    assert {"401", "403", "404", "409", "422", "503"} <= set(case["patch"]["responses"])
    upload = paths["/cases/{case_id}/recordings"]["post"]["responses"]
    assert {"400", "413", "415", "422"} <= set(upload)
    evidence = paths["/cases/{case_id}/evidence"]["post"]["responses"]
    assert {"202", "400", "401", "403", "404", "409", "413", "415", "422"} <= set(evidence)
    assert "401" in paths["/auth/token"]["post"]["responses"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (
                        path,
                        method,
                        status,
                    )


def test_allow_lists_every_method_of_the_path(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "data"))
    with TestClient(app) as client:
        assert client.options("/cases").headers["allow"] == "GET, HEAD, POST"
        assert client.put("/cases/1").headers["allow"] == "GET, HEAD, PATCH"
        # a fixed path hides the template beside it, as in OpenAPI
        assert client.options("/archives/import").headers["allow"] == "POST"


def test_a_database_that_stays_locked_is_503_not_500(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    app = create_app(make_settings(tmp_path / "data"))

    @app.get("/locked-for-test")
    def locked() -> None:
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/locked-for-test")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "database_busy"
