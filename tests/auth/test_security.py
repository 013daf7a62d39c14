import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.auth import create_user, resolve_token, sign_in, verify_password
from assistant.auth.passwords import check_password_policy, needs_rehash
from assistant.config import Settings
from assistant.db import Database
from assistant.errors import Conflict, InvalidInput, Unauthorized
from assistant.services import DEMO_USERS
from tests.conftest import database_url_for, make_settings

PASSWORD = "vanilla-kite-58-river"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(database_url_for(tmp_path / "auth.db"))
    database.migrate()
    return database


def test_sign_in_and_token_round_trip(db: Database, settings: Settings) -> None:
    with db.session() as session:
        user = create_user(session, username="li", password=PASSWORD, role="officer")
        assert user.password_hash.startswith("$argon2id$")
        assert not verify_password("wrong", user.password_hash)
        assert not needs_rehash(user.password_hash)
    pair = sign_in(db, settings, username="li", password=PASSWORD, address="127.0.0.1")
    with db.session() as session:
        assert resolve_token(session, pair.access_token).user.username == "li"
        with pytest.raises(Unauthorized) as refresh_as_bearer:
            resolve_token(session, pair.refresh_token)
        assert refresh_as_bearer.value.code == "invalid_token"
        with pytest.raises(Unauthorized):
            resolve_token(session, "forged")


def test_legacy_pbkdf2_hash_verifies_and_asks_for_rehash() -> None:
    salt = bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", b"old-password", salt, 1000).hex()
    stored = f"pbkdf2_sha256$1000${salt.hex()}${digest}"
    assert verify_password("old-password", stored)
    assert not verify_password("other", stored)
    assert needs_rehash(stored)
    assert not verify_password("x", "!imported") and not needs_rehash("!imported")


def test_user_rules(db: Database) -> None:
    with db.session() as session:
        create_user(session, username="li", password=PASSWORD, role="officer")
        with pytest.raises(Conflict):
            create_user(session, username="li", password=PASSWORD, role="officer")
        with pytest.raises(InvalidInput):
            create_user(session, username="wang", password=PASSWORD, role="boss")
        with pytest.raises(InvalidInput):
            create_user(session, username="wang", password="short", role="officer")


@pytest.mark.parametrize(
    ("password", "username", "rule"),
    [
        ("12345678", "li", "min_length"),
        ("zhangsan-zhangsan", "zhangsan", "username"),
        ("ZhangSan2026", "zhangsan", "username"),
        ("1qaz2wsx3edc", "li", "common"),
        ("password12345", "li", "guessable"),
        ("aaaaaaaaaaaaaaaa", "li", "guessable"),
    ],
)
def test_password_policy_refuses(password: str, username: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password_policy(password, username=username, min_length=12)
    assert refused.value.code == "weak_password"
    assert refused.value.details["rule"] == rule


def test_demo_password_meets_the_policy() -> None:
    """The seeded demo users sign in with the default demo password, so it must comply."""
    default = Settings.model_fields["demo_password"].default
    for username, _, _ in DEMO_USERS:
        check_password_policy(
            default,
            username=username,
            min_length=Settings.model_fields["password_min_length"].default,
        )


def test_long_expired_tokens_are_pruned_at_sign_in(db: Database, settings: Settings) -> None:
    from sqlalchemy import func, select, update

    from assistant.db import ApiToken
    from assistant.db.types import utcnow

    with db.session() as session:
        create_user(session, username="li", password=PASSWORD, role="officer")
    old = sign_in(db, settings, username="li", password=PASSWORD, address="127.0.0.1")
    with db.session() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(days=2)))
    sign_in(db, settings, username="li", password=PASSWORD, address="127.0.0.1")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 2
        with pytest.raises(Unauthorized) as gone:
            resolve_token(session, old.access_token)
        assert gone.value.code == "invalid_token"


def test_concurrent_guesses_cannot_outrun_the_lock(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import assistant.auth.security as security
    from assistant.errors import RateLimited

    settings = make_settings(tmp_path / "data", login_max_failures_per_account=3)
    with db.session() as session:
        create_user(session, username="li", password=PASSWORD, role="officer")
    checked: list[str] = []
    real = security.verify_password

    def spy(password: str, stored: str) -> bool:
        checked.append(stored)
        return real(password, stored)

    monkeypatch.setattr(security, "verify_password", spy)

    def guess(n: int) -> str:
        try:
            sign_in(db, settings, username="li", password=f"guess-{n}", address=f"10.0.0.{n}")
        except (Unauthorized, RateLimited) as exc:
            return exc.code
        return "signed_in"

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = sorted(pool.map(guess, range(12)))
    assert len(checked) == 3
    assert answers == ["invalid_credentials"] * 3 + ["too_many_attempts"] * 9


def test_successful_sign_ins_do_not_lock_an_address(db: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", login_max_failures_per_address=3)
    with db.session() as session:
        create_user(session, username="li", password=PASSWORD, role="officer")
    for _ in range(5):
        sign_in(db, settings, username="li", password=PASSWORD, address="10.0.0.1")
    with pytest.raises(Unauthorized):
        sign_in(db, settings, username="li", password="wrong-guess", address="10.0.0.1")
    sign_in(db, settings, username="li", password=PASSWORD, address="10.0.0.1")
