"""Password hashes (argon2id) and the password policy.

Parameters are OWASP's Password Storage Cheat Sheet minimum for argon2id (19 MiB, 2 passes, one
lane): strong against offline guessing yet cheap enough that sign-in stays fast on two cores.
Hashes of the earlier PBKDF2-SHA256 scheme still verify and are replaced at the next sign-in
(`needs_rehash`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.errors import InvalidInput

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_LEGACY_PREFIX = "pbkdf2_sha256$"

COMMON_PASSWORDS_SOURCE = (
    "zxcvbn 4.5.0 (PyPI) frequency list 'passwords': the 30,000 most frequent passwords of "
    "public password leaks, as shipped with Dropbox's zxcvbn"
)
# zxcvbn's score 3 = "safely unguessable" (about 10^8 guesses or more); below it a password is
# built from common passwords, words, keyboard walks, dates or repeats.
MIN_ZXCVBN_SCORE = 3
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; such passphrases pass on length alone


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith(_LEGACY_PREFIX):
        return _verify_pbkdf2(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a legacy PBKDF2 hash or an argon2 hash made with other parameters."""
    if stored.startswith(_LEGACY_PREFIX):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return False  # an unusable hash (e.g. an imported user's) never verifies


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random secret with the current parameters, verified for unknown usernames
    so that they take the same time as known ones."""
    return hash_password(secrets.token_urlsafe(16))


def _verify_pbkdf2(password: str, stored: str) -> bool:
    try:
        _, iterations, salt_hex, digest_hex = stored.split("$")
        salt, rounds = bytes.fromhex(salt_hex), int(iterations)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return hmac.compare_digest(digest.hex(), digest_hex)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, username: str, min_length: int) -> None:
    """Refuse a password that is short, built on the username, common or easily guessed."""
    if len(password) < min_length:
        raise _weak(f"密码至少需要 {min_length} 位。", "min_length", min_length=min_length)
    folded, name = password.casefold(), username.casefold()
    if folded == name or (len(name) >= 4 and name in folded) or folded == name[::-1]:
        raise _weak("密码不能是用户名，也不能包含用户名。", "username")
    if folded in _common_passwords():
        raise _weak(
            "该密码属于常见密码，容易被猜中，请换一个。", "common", source=COMMON_PASSWORDS_SOURCE
        )
    if len(password) <= _ZXCVBN_MAX_LENGTH:
        from zxcvbn import zxcvbn

        if zxcvbn(password)["score"] < MIN_ZXCVBN_SCORE:
            raise _weak(
                "密码容易被猜中（由常见密码、常用词、键盘连续键、日期或重复字符组成），"
                "请使用更长、无规律的密码或口令短语。",
                "guessable",
                source=COMMON_PASSWORDS_SOURCE,
            )


def _weak(message: str, rule: str, **details: object) -> InvalidInput:
    return InvalidInput("weak_password", message, details={"rule": rule, **details})
