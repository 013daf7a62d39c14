"""The service container: one of each long-lived part per process, shared by API and CLI."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from assistant.config import Settings
from assistant.db import Database, User
from assistant.db.files import FileStore
from assistant.registry import ModelRegistry, install_models
from assistant.transcription import Transcriber
from assistant.transcription.factory import make_transcriber

if TYPE_CHECKING:
    from assistant.knowledge import KnowledgeBase
    from assistant.record import KeyStore

DEMO_USERS = (
    ("officer", "officer", "示例承办人"),
    ("officer2", "officer", "示例承办人二"),
    ("reviewer", "reviewer", "示例法制审核员"),
    ("approver", "approver", "示例负责人"),
    ("admin", "admin", "示例管理员"),
)


@dataclass
class Services:
    settings: Settings
    db: Database
    files: FileStore
    models: ModelRegistry
    _knowledge: KnowledgeBase | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _keystore: KeyStore | None = None

    def keystore(self) -> KeyStore:
        """The authority's signing keys for the case record (issue 7)."""
        from assistant.record import KeyStore

        with self._lock:
            if self._keystore is None:
                self._keystore = KeyStore(self.settings.keys_dir)
            return self._keystore

    def knowledge(self) -> KnowledgeBase:
        """The retrieval index, loaded from disk; built only when missing or out of date."""
        with self._lock:
            if self._knowledge is None:
                self._knowledge = load_or_build_index(self.settings, self.models.get("embedder"))
            return self._knowledge

    def reload_knowledge(self, knowledge: KnowledgeBase) -> None:
        with self._lock:
            self._knowledge = knowledge

    def transcriber(self) -> Transcriber:
        """The configured ASR backend (settings asr_backend, asr_*); models load once."""
        return make_transcriber(self.settings, self.models)


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Services(
        settings=settings,
        db=Database(settings.resolved_database_url),
        files=FileStore(settings.blobs_dir),
        models=ModelRegistry(settings),
    )


def load_or_build_index(settings: Settings, embedder: Any) -> KnowledgeBase:
    from assistant.knowledge import KnowledgeBase

    dirs = settings.corpus_dirs
    if KnowledgeBase.is_current(dirs, settings.index_dir):
        return KnowledgeBase.load(dirs, settings.index_dir, embedder)
    return KnowledgeBase.build(
        dirs, settings.index_dir, embedder, cache_dir=settings.data_dir / "embcache"
    )


def build_index(services: Services) -> KnowledgeBase:
    from assistant.knowledge import KnowledgeBase

    knowledge = KnowledgeBase.build(
        services.settings.corpus_dirs,
        services.settings.index_dir,
        services.models.get("embedder"),
        cache_dir=services.settings.data_dir / "embcache",
    )
    services.reload_knowledge(knowledge)
    return knowledge


def seed_demo_users(services: Services) -> list[str]:
    from assistant.auth import create_user

    created = []
    with services.db.session() as session:
        for username, role, display_name in DEMO_USERS:
            if session.scalar(select(User).where(User.username == username)) is None:
                create_user(
                    session,
                    username=username,
                    password=services.settings.demo_password,
                    role=role,
                    display_name=display_name,
                )
                created.append(username)
        _seed_demo_credentials(session)
    return created


# Demo enforcement credentials (执法证件) for the demo enforcement users: fictional numbers.
DEMO_CREDENTIAL_PERIOD = (date(2024, 1, 1), date(2030, 12, 31))


def _seed_demo_credentials(session: Any) -> None:
    from assistant.cases.credentials import add_credential
    from assistant.db.models import OfficerCredential

    session.flush()
    for n, (username, role, _) in enumerate(DEMO_USERS, start=1):
        user = session.scalar(select(User).where(User.username == username))
        if user is None or role == "admin":
            continue
        if session.scalar(select(OfficerCredential).where(OfficerCredential.user_id == user.id)):
            continue
        issued_on, valid_until = DEMO_CREDENTIAL_PERIOD
        add_credential(
            session,
            username,
            number=f"DEMO-1501{n:04d}",
            issued_on=issued_on,
            valid_until=valid_until,
        )


def setup(services: Services, *, with_index: bool = True) -> dict[str, Any]:
    """Everything a fresh machine needs: schema, models, demo users, index. Idempotent."""
    services.db.migrate()
    services.files.clean_tmp()
    installed = install_models(services.settings.models_dir)
    users = seed_demo_users(services) if services.settings.seed_demo_users else []
    with services.db.session() as session:
        signing_key = services.keystore().ensure(session).key_id
    report: dict[str, Any] = {
        "database": services.settings.resolved_database_url,
        "signing_key": signing_key,
        "models": {role: str(path) if path else "in package" for role, path in installed.items()},
        "demo_users_created": users,
    }
    if with_index:
        knowledge = services.knowledge()
        report["index"] = {
            "statutes": len(knowledge.statutes.articles()),
            "cases": len(knowledge.cases),
        }
    return report
