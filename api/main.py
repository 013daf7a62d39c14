"""App factory. `uvicorn api.main:app` serves the embedded default configuration."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.openapi import install_openapi
from api.routers import archive as archive_router
from api.routers import (
    auth,
    cases,
    discretion,
    documents,
    evidence,
    health,
    jobs,
    recordings,
    search,
    users,
)
from api.routers import escalation as escalation_router
from api.routers import facts as facts_router
from api.routers import index as index_router
from api.routers import lifecycle as lifecycle_router
from api.routers import outcomes as outcomes_router
from api.routers import public as public_router
from api.routers import publications as publications_router
from api.routers import record as record_router
from api.routers import statistics as statistics_router
from api.routers.document_revisions import router as document_revisions_router
from api.security import SecurityHeaders, install_docs
from api.web import install_workbench
from assistant import __version__
from assistant.config import Settings, get_settings
from assistant.jobs import make_job_queue
from assistant.services import build_services


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        services.db.migrate()
        services.files.clean_tmp()
        app.state.services = services
        # jobs (TAXASSIST_JOB_BACKEND); start() re-queues what a crash left queued or running
        job_queue = make_job_queue(services)
        app.state.jobs = job_queue
        job_queue.start()
        # What is loaded by now (modules, settings, the database's metadata) lives as long as
        # the app: moved out of the collector's sight, a full collection no longer walks its
        # ~0.5 M objects (~0.3-0.6 s, the case page's slowest requests before this).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            job_queue.stop()
            services.db.engine.dispose()

    app = FastAPI(
        title="TaxAssist 税务执法智能辅助系统",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Case workflow: recording → transcript → entities → statutes and similar "
        "cases → discretion suggestion → decision documents, with a trace of every step.",
    )
    install_error_handlers(app)
    install_docs(app)
    install_openapi(app)
    app.add_middleware(SecurityHeaders)
    for router in (
        health,
        auth,
        users,
        cases,
        recordings,
        evidence,
        jobs,
        documents,
        search,
        discretion,
    ):
        app.include_router(router.router)
    app.include_router(document_revisions_router)  # edits, diff, issue
    app.include_router(record_router.router)  # signed record, timeline
    app.include_router(record_router.credentials_router)  # 执法证件
    app.include_router(lifecycle_router.router)  # lifecycle state machine
    app.include_router(archive_router.router)  # 一户式 archive export/verify/import
    app.include_router(escalation_router.router)  # review disagreement escalation
    app.include_router(index_router.router)  # index status and consistency (admin)
    app.include_router(facts_router.router)  # proposed facts with sources, evidence check
    app.include_router(statistics_router.router)  # annual statistics, data platform
    app.include_router(publications_router.router)  # 行政执法公示: draft, publish, withdraw
    app.include_router(public_router.router)  # public side: feed, RSS, inquiry (no sign-in)
    app.include_router(outcomes_router.router)  # 强制 measures, 复议 and 诉讼 with results
    install_workbench(app)  # the officers' workbench (pages, not in OpenAPI)
    return app


app = create_app()
