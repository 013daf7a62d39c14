"""Users with roles and opaque bearer tokens; separation of duties is enforced in cases/."""

from assistant.auth.security import (
    ROLES,
    Role,
    authenticate,
    create_user,
    hash_password,
    issue_token,
    resolve_token,
    verify_password,
)

__all__ = [
    "ROLES",
    "Role",
    "authenticate",
    "create_user",
    "hash_password",
    "issue_token",
    "resolve_token",
    "verify_password",
]
