"""The service container: one of each long-lived part per process, shared by API and CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from assistant.config import Settings
from assistant.db import Database, User
from assistant.db.files import BlobStore, make_file_store
from assistant.registry import ModelRegistry, install_models
from assistant.transcription import Transcriber
from assistant.transcription.factory import make_transcriber

if TYPE_CHECKING:
    from assistant.index_versions import IndexStore
    from assistant.knowledge import KnowledgeBase
    from assistant.knowledge.consistency import ClosedCasesUpdate
    from assistant.knowledge.statutes import StatuteBook
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
    files: BlobStore
    models: ModelRegistry
    _knowledge: KnowledgeBase | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _keystore: KeyStore | None = None
    _statute_book: StatuteBook | None = None
    _index_stamp: tuple[int, int, int] | None = None
    _submit_job: Callable[[int], None] | None = None

    def keystore(self) -> KeyStore:
        """The authority's signing keys for the case record."""
        from assistant.record import KeyStore

        with self._lock:
            if self._keystore is None:
                self._keystore = KeyStore(self.settings.keys_dir)
            return self._keystore

    def statute_book(self) -> StatuteBook:
        """The statute texts (all versions): the loaded index's book, else read from the corpora.

        Reading an article needs no vector index, so it never waits for a first index build.
        """
        from assistant.knowledge.statutes import StatuteBook

        with self._lock:
            if self._knowledge is not None:
                return self._knowledge.statutes
            if self._statute_book is None:
                self._statute_book = StatuteBook.load(self.settings.corpus_dirs)
            return self._statute_book

    def index_store(self) -> IndexStore:
        """The published versions of the index under settings.index_dir."""
        return index_store(self.settings)

    def knowledge(self) -> KnowledgeBase:
        """The retrieval index of the current published version; built only when missing or out
        of date. One `stat` of the version pointer per call: when another process (a worker,
        another replica) has published a new version, this call switches to it."""
        store = self.index_store()
        with self._lock:
            stamp = store.stamp()
            replaced = None
            if self._knowledge is not None and stamp != self._index_stamp:
                loaded = self._knowledge.source_dir
                if loaded is None or loaded != store.current_dir():
                    # a newer version: map it below, keeping the parsed corpus if unchanged
                    replaced, self._knowledge = self._knowledge, None
                self._index_stamp = stamp
            if self._knowledge is None:
                self._knowledge = load_or_build_index(
                    self.settings,
                    self.models.get("embedder"),
                    db=self.db,
                    store=store,
                    reuse=replaced,
                )
                self._index_stamp = store.stamp()
            return self._knowledge

    def index_closed_cases(self) -> ClosedCasesUpdate:
        """Make the cases closed in TaxAssist (and only they) similar cases in the published
        index: the newly closed embedded and added, a new version published when anything
        changed (assistant.knowledge.consistency.update_closed_cases). The body of the
        `index_closed_cases` job, so it runs where jobs run (a worker in a deployment); this
        process, like every replica, maps the new version on its next `knowledge()` call."""
        from assistant.knowledge.consistency import closed_case_docs, update_closed_cases

        return update_closed_cases(
            self.index_store(),
            closed_case_docs(self.db, authority=self.settings.authority_name),
            self.models.get("embedder"),
            cache_dir=self.settings.resolved_embedding_cache_dir,
        )

    def attach_job_queue(self, submit: Callable[[int], None] | None) -> None:
        """Where this process's services hand new jobs (a started queue's `submit`; None
        when it stops)."""
        with self._lock:
            self._submit_job = submit

    def submit_job(self, job_id: int) -> bool:
        """Hand a committed `queued` job to this process's queue; False when no queue is
        started here (a CLI): the job waits, queued, for the next recovery (a server start,
        `taxassist jobs recover`) or `taxassist jobs run`."""
        submit = self._submit_job
        if submit is None:
            return False
        submit(job_id)
        return True

    def reload_knowledge(self, knowledge: KnowledgeBase) -> None:
        with self._lock:
            self._knowledge = knowledge
            self._index_stamp = self.index_store().stamp()

    def forget_knowledge(self) -> None:
        """Drop the loaded index; the next `knowledge()` loads the current version."""
        with self._lock:
            self._knowledge = None

    def transcriber(self) -> Transcriber:
        """The configured ASR backend (settings asr_backend, asr_*); models load once."""
        return make_transcriber(self.settings, self.models)


def index_store(settings: Settings) -> IndexStore:
    """The index versions under settings.index_dir, keeping index_keep_versions of them."""
    from assistant.index_versions import IndexStore

    return IndexStore(settings.index_dir, keep=settings.index_keep_versions)


def _load_published(
    store: IndexStore, settings: Settings, embedder: Any, *, reuse: KnowledgeBase | None = None
) -> KnowledgeBase | None:
    """The current version memory-mapped and held for reading (None when missing or stale)."""
    from assistant.knowledge import KnowledgeBase

    lease = store.acquire()
    if not KnowledgeBase.is_current(settings.corpus_dirs, lease.directory):
        lease.release()
        return None
    mapped = lease.version is not None  # the flat layout may still be rewritten in place
    knowledge = KnowledgeBase.load(
        settings.corpus_dirs, lease.directory, embedder, mmap=mapped, reuse=reuse
    )
    if mapped:  # the version stays held while either mapped index is alive
        knowledge.statute_index.lease = lease
        knowledge.case_index.lease = lease
    else:
        lease.release()
    return knowledge


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Services(
        settings=settings,
        db=Database(settings.resolved_database_url),
        files=make_file_store(settings),
        models=ModelRegistry(settings),
    )


def load_or_build_index(
    settings: Settings,
    embedder: Any,
    *,
    db: Database | None = None,
    store: IndexStore | None = None,
    reuse: KnowledgeBase | None = None,
) -> KnowledgeBase:
    """Load the saved index (no passage is embedded) or build it when missing or out of date.

    `reuse`: the version a replica had loaded before this one (`KnowledgeBase.load`).

    With `store`, the current published version is memory-mapped and a build or change is
    published as a new version; without, settings.index_dir is read and written in place.
    With `db`, cases closed in TaxAssist are added to the case index (only new ones embedded).
    """
    from assistant.knowledge import KnowledgeBase
    from assistant.knowledge.index import index_params_from_settings

    dirs = settings.corpus_dirs
    cache_dir = settings.resolved_embedding_cache_dir
    params = index_params_from_settings(settings)
    knowledge: KnowledgeBase | None
    if store is not None:
        knowledge = _load_published(store, settings, embedder, reuse=reuse)
        if knowledge is None:
            with store.publishing() as staging:
                knowledge = KnowledgeBase.build(
                    dirs, staging.directory, embedder, cache_dir=cache_dir, index_params=params
                )
            knowledge.source_dir = store.root / str(staging.version)
    elif KnowledgeBase.is_current(dirs, settings.index_dir):
        knowledge = KnowledgeBase.load(dirs, settings.index_dir, embedder)
    else:
        knowledge = KnowledgeBase.build(
            dirs, settings.index_dir, embedder, cache_dir=cache_dir, index_params=params
        )
    if db is None:
        return knowledge
    from assistant.knowledge.consistency import closed_case_docs, with_closed_cases

    return with_closed_cases(
        knowledge,
        closed_case_docs(db, authority=settings.authority_name),
        settings.index_dir,
        cache_dir=cache_dir,
        store=store,
    )


def build_index(
    services: Services, *, progress: Callable[[int, int], None] | None = None
) -> KnowledgeBase:
    """Build and load the knowledge indexes; `progress(done, total)` follows the embedding."""
    from assistant.knowledge import KnowledgeBase
    from assistant.knowledge.consistency import closed_case_docs, with_closed_cases
    from assistant.knowledge.index import index_params_from_settings

    settings = services.settings
    store = services.index_store()
    embedder = services.models.get("embedder")
    cache_dir = settings.resolved_embedding_cache_dir
    with store.publishing() as staging:  # one version with the closed cases already in it
        knowledge = KnowledgeBase.build(
            settings.corpus_dirs,
            staging.directory,
            embedder,
            cache_dir=cache_dir,
            index_params=index_params_from_settings(settings),
            progress=progress,
        )
        knowledge = with_closed_cases(
            knowledge,
            closed_case_docs(services.db, authority=settings.authority_name),
            staging.directory,
            cache_dir=cache_dir,
        )
    knowledge.source_dir = store.root / str(staging.version)
    services.reload_knowledge(knowledge)
    return knowledge


def check_index_consistency(services: Services, *, repair: bool = False) -> tuple[Any, Any]:
    """(report before, report after) of the index against its sources; `repair` fixes it."""
    from assistant.knowledge.consistency import check_index, repair_index
    from assistant.knowledge.index import index_params_from_settings

    settings = services.settings
    embedder = services.models.get("embedder")
    params = index_params_from_settings(settings)
    store = services.index_store()
    current = store.current_dir()
    if not repair:
        report = check_index(settings.corpus_dirs, current, embedder, db=services.db, params=params)
        return report, report
    with store.publishing(base=current) as staging:  # repaired as a new version
        before, after = repair_index(
            settings.corpus_dirs,
            staging.directory,
            embedder,
            db=services.db,
            cache_dir=settings.resolved_embedding_cache_dir,
            params=params,
        )
        staging.keep = not before.ok
    services.forget_knowledge()  # the next use loads the repaired index
    return before, after


def index_status(services: Services) -> dict[str, Any]:
    """The saved index as recorded (manifest and sidecars) and as configured; loads no model."""
    import json

    from assistant.knowledge.index import index_params_from_settings

    settings = services.settings
    store = services.index_store()
    index_dir = store.current_dir()
    try:
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    indexes: dict[str, Any] = {}
    for name in ("statutes", "cases"):
        try:
            sidecar = json.loads((index_dir / f"{name}.ids.json").read_text(encoding="utf-8"))
            indexes[name] = {
                "kind": sidecar.get("kind", "flat"),
                "count": len(sidecar.get("ids", {})),
                "tombstones": len(sidecar.get("tombstones", [])),
                "dim": sidecar.get("dim"),
                "bytes": (index_dir / f"{name}.faiss").stat().st_size,
            }
        except (OSError, ValueError, AttributeError):
            indexes[name] = None
    params = index_params_from_settings(settings)
    return {
        "index_dir": str(index_dir),
        "version": store.pointer(),
        "versions": store.versions(),
        "built": manifest is not None,
        "embedder_recorded": manifest and (manifest.get("model_id") or manifest.get("embedder")),
        "embedder_configured": settings.embedder,
        "dim": manifest and manifest.get("dim"),
        "built_at": manifest and manifest.get("built_at"),
        "repaired_at": manifest and manifest.get("repaired_at"),
        "indexes": indexes,
        "policy": {
            "kind": params.kind,
            "hnsw_threshold": params.hnsw_threshold,
            "hnsw_m": params.hnsw_m,
            "hnsw_ef_construction": params.hnsw_ef_construction,
            "hnsw_ef_search": params.hnsw_ef_search,
            "ivf_nlist": params.ivf_nlist,
            "ivf_nprobe": params.ivf_nprobe,
        },
    }


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
                    min_password_length=services.settings.password_min_length,
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
