from pathlib import Path

import pytest

from assistant.auth import authenticate, create_user, issue_token, resolve_token, verify_password
from assistant.db import Database
from assistant.errors import Conflict, InvalidInput, Unauthorized


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    database.migrate()
    return database


def test_login_and_token_round_trip(db: Database) -> None:
    with db.session() as session:
        user = create_user(session, username="li", password="secret-pass", role="officer")
        assert user.password_hash.startswith("pbkdf2_sha256$")
        assert not verify_password("wrong", user.password_hash)
        assert authenticate(session, "li", "secret-pass").id == user.id
        token, record = issue_token(session, user, ttl_hours=1)
        assert record.token_sha256 != token
        assert resolve_token(session, token).username == "li"


def test_bad_credentials_and_tokens(db: Database) -> None:
    with db.session() as session:
        create_user(session, username="li", password="secret-pass", role="officer")
        with pytest.raises(Unauthorized):
            authenticate(session, "li", "nope-nope")
        with pytest.raises(Unauthorized):
            authenticate(session, "nobody", "secret-pass")
        with pytest.raises(Unauthorized):
            resolve_token(session, "forged")
        user = authenticate(session, "li", "secret-pass")
        token, _ = issue_token(session, user, ttl_hours=0)
        with pytest.raises(Unauthorized) as expired:
            resolve_token(session, token)
        assert expired.value.code == "token_expired"


def test_user_rules(db: Database) -> None:
    with db.session() as session:
        create_user(session, username="li", password="secret-pass", role="officer")
        with pytest.raises(Conflict):
            create_user(session, username="li", password="secret-pass", role="officer")
        with pytest.raises(InvalidInput):
            create_user(session, username="wang", password="short", role="officer")
        with pytest.raises(InvalidInput):
            create_user(session, username="wang", password="secret-pass", role="boss")
