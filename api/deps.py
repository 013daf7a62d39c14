"""Annotated dependencies: settings, services, the workflow, and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.auth import Bearer, Role, resolve_token
from assistant.cases import CaseWorkflow
from assistant.config import Settings
from assistant.db import User
from assistant.errors import Forbidden, Unauthorized
from assistant.jobs import JobQueue
from assistant.services import Services

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_workflow(services: ServicesDep) -> CaseWorkflow:
    return CaseWorkflow(services)


WorkflowDep = Annotated[CaseWorkflow, Depends(get_workflow)]


def get_job_queue(request: Request) -> JobQueue:
    """The queue started in the app's lifespan (in-process workers by default)."""
    jobs: JobQueue = request.app.state.jobs
    return jobs


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]


def get_bearer(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Bearer:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing_token", "缺少登录凭证，请先登录获取令牌。")
    with services.db.session() as session:
        return resolve_token(session, credentials.credentials)


CurrentBearer = Annotated[Bearer, Depends(get_bearer)]


def get_current_user(bearer: CurrentBearer) -> User:
    return bearer.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_admin(user: CurrentUser) -> User:
    """Managing users, credentials and whole-taxpayer archives is the administrator's."""
    if user.role != Role.ADMIN:
        raise Forbidden(
            "role_not_allowed", "只有管理员可以执行此操作。", details={"role": user.role}
        )
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def get_client_address(request: Request) -> str:
    """The client's address, used to throttle sign-in: the peer's, or the X-Forwarded-For
    address when the peer is a proxy `taxassist serve --forwarded-allow-ips` trusts."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(get_client_address)]
