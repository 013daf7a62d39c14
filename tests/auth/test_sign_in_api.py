"""Sign-in over HTTP as an attacker would try it: guessing, probing usernames, reusing tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from assistant.config import Settings
from assistant.db.types import utcnow
from assistant.services import build_services, setup
from tests.api.apphelpers import assert_error, login, running_app
from tests.conftest import DEMO_PASSWORD, make_settings

STRONG = "vanilla-kite-58-river"


@contextmanager
def _app(tmp_path: Path, **overrides: object) -> Iterator[tuple[TestClient, Settings]]:
    settings = make_settings(tmp_path / "data", **overrides)
    services = build_services(settings)
    setup(services, with_index=False)
    services.db.engine.dispose()
    with running_app(settings) as client:
        yield client, settings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    with _app(tmp_path) as running:
        yield running


def _sql(settings: Settings, statement: str, **params: object) -> list[Any]:
    """Change the database behind the application's back, as an operator with a SQL shell
    would (foreign keys not enforced, as `PRAGMA foreign_keys=OFF` or a replica session)."""
    engine = create_engine(settings.resolved_database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            result = connection.execute(text(statement), params)
            return list(result.fetchall()) if result.returns_rows else []
    finally:
        engine.dispose()


def _token(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> Any:
    return client.post("/auth/token", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_deleted_users_token_is_refused_not_a_server_error(
    app: tuple[TestClient, Settings],
) -> None:
    client, settings = app
    headers = login(client, "officer2")
    _sql(settings, "DELETE FROM users WHERE username = 'officer2'")
    assert_error(client.get("/auth/me", headers=headers), 401, "invalid_token")
    assert_error(client.get("/cases", headers=headers), 401, "invalid_token")


def test_repeated_failures_lock_the_username_known_or_not(tmp_path: Path) -> None:
    with _app(tmp_path, login_max_failures_per_account=3) as (client, _):
        for username in ("officer", "no-such-user"):
            for _ in range(3):
                assert_error(_token(client, username, "wrong-guess"), 401, "invalid_credentials")
            locked = _token(client, username, DEMO_PASSWORD)
            error = assert_error(locked, 429, "too_many_attempts")
            assert 0 < int(locked.headers["Retry-After"]) <= 900
            assert error["details"] == {"retry_after_seconds": int(locked.headers["Retry-After"])}
        # Another username from the same address is not locked by those six failures.
        assert _token(client, "reviewer").status_code == 200


def test_repeated_failures_lock_the_address(tmp_path: Path) -> None:
    limits = {"login_max_failures_per_address": 4, "login_max_failures_per_account": 100}
    with _app(tmp_path, **limits) as (client, _):
        for n in range(4):
            assert_error(_token(client, f"spray-{n}", "wrong-guess"), 401, "invalid_credentials")
        assert_error(_token(client, "officer"), 429, "too_many_attempts")


def test_an_admin_lifts_a_lock_by_enabling_the_user(tmp_path: Path) -> None:
    with _app(tmp_path, login_max_failures_per_account=2) as (client, _):
        admin = login(client, "admin")
        for _ in range(2):
            _token(client, "officer", "wrong-guess")
        assert_error(_token(client, "officer"), 429, "too_many_attempts")
        response = client.patch("/users/officer", json={"active": True}, headers=admin)
        assert response.status_code == 200, response.text
        assert _token(client, "officer").status_code == 200


def test_unknown_username_does_the_same_hash_work_and_gets_the_same_answer(
    app: tuple[TestClient, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.auth.security as security

    client, _ = app
    verified: list[str] = []
    real = security.verify_password

    def spy(password: str, stored: str) -> bool:
        verified.append(stored)
        return real(password, stored)

    monkeypatch.setattr(security, "verify_password", spy)
    known = _token(client, "officer", "wrong-guess")
    unknown = _token(client, "no-such-user", "wrong-guess")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 401
    assert len(verified) == 2
    # The same algorithm with the same cost parameters: only the salt and digest differ.
    parameters = [stored.rsplit("$", 2)[0] for stored in verified]
    assert parameters[0] == parameters[1] and parameters[0].startswith("$argon2id$")


def test_credentials_do_not_reveal_which_usernames_exist(app: tuple[TestClient, Settings]) -> None:
    client, _ = app
    officer, admin = login(client, "officer"), login(client, "admin")
    existing = client.get("/credentials/officer2", headers=officer)
    missing = client.get("/credentials/no-such-user", headers=officer)
    assert_error(existing, 403, "role_not_allowed")
    assert existing.json() == missing.json()
    own = client.get("/credentials/officer", headers=officer)
    assert own.status_code == 200 and own.json()[0]["number"].startswith("DEMO-")
    assert client.get("/credentials/officer2", headers=admin).status_code == 200
    assert_error(client.get("/credentials/no-such-user", headers=admin), 404, "user_not_found")


@pytest.mark.parametrize(
    ("username", "password", "rule"),
    [
        ("boss", "12345678", "min_length"),
        ("chief-admin-wang", "chief-admin-wang", "username"),
        ("boss", "1qaz2wsx3edc", "common"),
        ("boss", "password12345", "guessable"),
    ],
)
def test_weak_passwords_are_refused_for_admins_too(
    app: tuple[TestClient, Settings], username: str, password: str, rule: str
) -> None:
    client, _ = app
    admin = login(client, "admin")
    body = {"username": username, "password": password, "role": "admin"}
    error = assert_error(client.post("/users", json=body, headers=admin), 422, "weak_password")
    assert error["details"]["rule"] == rule  # type: ignore[index]
    body["password"] = STRONG
    created = client.post("/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert _token(client, username, STRONG).status_code == 200


def test_tokens_are_short_lived_and_refresh_rotates(app: tuple[TestClient, Settings]) -> None:
    client, settings = app
    response = _token(client, "officer")
    assert response.headers["Cache-Control"] == "no-store"
    first = response.json()
    expires = datetime.fromisoformat(first["expires_at"])
    assert expires - utcnow() <= timedelta(minutes=settings.access_token_ttl_minutes)
    assert settings.access_token_ttl_minutes <= 15

    rotated = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    # The sign-in does not outlive its first refresh token's expiry.
    assert second["refresh_expires_at"] == first["refresh_expires_at"]
    assert client.get("/auth/me", headers=_bearer(second["access_token"])).status_code == 200
    assert_error(
        client.get("/auth/me", headers=_bearer(first["refresh_token"])), 401, "invalid_token"
    )

    # A used refresh token presented again: it was copied, so the whole sign-in ends.
    reused = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(reused, 401, "refresh_token_reused")
    assert_error(
        client.get("/auth/me", headers=_bearer(second["access_token"])), 401, "token_revoked"
    )
    assert_error(
        client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}),
        401,
        "token_revoked",
    )
    # Another sign-in of the same user is untouched.
    assert client.get("/auth/me", headers=login(client, "officer")).status_code == 200


def test_expired_access_token_is_refused(app: tuple[TestClient, Settings]) -> None:
    client, settings = app
    token = _token(client, "officer").json()["access_token"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    _sql(
        settings,
        "UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00' WHERE token_sha256 = :digest",
        digest=digest,
    )
    assert_error(client.get("/auth/me", headers=_bearer(token)), 401, "token_expired")


def test_logout_revokes_the_sign_in(app: tuple[TestClient, Settings]) -> None:
    client, _ = app
    pair = _token(client, "officer").json()
    other = login(client, "officer")
    assert client.post("/auth/logout", headers=_bearer(pair["access_token"])).status_code == 204
    assert_error(
        client.get("/auth/me", headers=_bearer(pair["access_token"])), 401, "token_revoked"
    )
    assert_error(
        client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "token_revoked",
    )
    assert client.get("/auth/me", headers=other).status_code == 200
    assert client.post("/auth/logout?everywhere=true", headers=other).status_code == 204
    assert_error(client.get("/auth/me", headers=other), 401, "token_revoked")


def test_admin_disables_a_user_over_http(app: tuple[TestClient, Settings]) -> None:
    client, _ = app
    admin, officer, target = (
        login(client, "admin"),
        login(client, "officer"),
        login(client, "officer2"),
    )
    assert_error(
        client.patch("/users/officer2", json={"active": False}, headers=officer),
        403,
        "role_not_allowed",
    )
    assert_error(
        client.patch("/users/admin", json={"active": False}, headers=admin),
        409,
        "cannot_disable_self",
    )
    assert_error(
        client.patch("/users/no-such-user", json={"active": False}, headers=admin),
        404,
        "user_not_found",
    )
    disabled = client.patch("/users/officer2", json={"active": False}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert_error(client.get("/cases", headers=target), 401, "token_revoked")
    assert_error(_token(client, "officer2"), 401, "user_disabled")
    assert_error(_token(client, "officer2", "wrong-guess"), 401, "invalid_credentials")
    listed = {u["username"]: u["active"] for u in client.get("/users", headers=admin).json()}
    assert listed["officer2"] is False and listed["officer"] is True

    assert client.patch("/users/officer2", json={"active": True}, headers=admin).status_code == 200
    assert client.get("/auth/me", headers=login(client, "officer2")).status_code == 200


def test_legacy_password_hash_is_upgraded_at_sign_in(app: tuple[TestClient, Settings]) -> None:
    client, settings = app
    salt = bytes(range(16))
    digest = hashlib.pbkdf2_hmac("sha256", STRONG.encode(), salt, 240_000).hex()
    _sql(
        settings,
        "UPDATE users SET password_hash = :hash WHERE username = 'reviewer'",
        hash=f"pbkdf2_sha256$240000${salt.hex()}${digest}",
    )
    assert _token(client, "reviewer", STRONG).status_code == 200
    [(stored,)] = _sql(settings, "SELECT password_hash FROM users WHERE username = 'reviewer'")
    assert stored.startswith("$argon2id$")
    assert _token(client, "reviewer", STRONG).status_code == 200
    assert_error(_token(client, "reviewer", "wrong-guess"), 401, "invalid_credentials")


def test_cli_disables_and_enables_a_user(app: tuple[TestClient, Settings]) -> None:
    from tests.core.test_cli import run_cli

    client, settings = app
    headers = login(client, "officer2")
    disabled = run_cli("users", "disable", "officer2", data_dir=settings.data_dir)
    assert disabled.returncode == 0, disabled.stderr
    assert '"active": false' in disabled.stdout
    assert_error(client.get("/auth/me", headers=headers), 401, "token_revoked")
    assert_error(_token(client, "officer2"), 401, "user_disabled")
    assert run_cli("users", "enable", "officer2", data_dir=settings.data_dir).returncode == 0
    assert _token(client, "officer2").status_code == 200
    missing = run_cli("users", "disable", "no-such-user", data_dir=settings.data_dir)
    assert missing.returncode != 0 and "user_not_found" in missing.stderr
