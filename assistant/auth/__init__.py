"""Users with roles, argon2id passwords, throttled sign-in and revocable tokens; separation of
duties is enforced in cases/."""

from assistant.auth.passwords import check_password_policy, hash_password, verify_password
from assistant.auth.security import ROLES, Role, create_user, set_user_active, sign_in
from assistant.auth.tokens import (
    Bearer,
    TokenPair,
    issue_tokens,
    refresh_tokens,
    resolve_token,
    revoke_family,
    revoke_user_tokens,
)

__all__ = [
    "ROLES",
    "Bearer",
    "Role",
    "TokenPair",
    "check_password_policy",
    "create_user",
    "hash_password",
    "issue_tokens",
    "refresh_tokens",
    "resolve_token",
    "revoke_family",
    "revoke_user_tokens",
    "set_user_active",
    "sign_in",
    "verify_password",
]
