"""The authority's Ed25519 signing keys: private keys on disk (0600), public keys with validity.

The private key of the active key lives in `<data_dir>/keys/<key_id>.pem`; every public key
ever used stays in the `signing_keys` table with the period it was valid, so a record signed
before a rotation still verifies after it. A key's id is a fingerprint of its public key, so
a public key swapped in the table no longer matches its id.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.db.models import SigningKey
from assistant.db.types import utcnow
from assistant.errors import Conflict, InvalidInput, TaxAssistError


class SigningKeyUnavailable(TaxAssistError):
    """No usable private key: the record cannot be extended until an operator fixes the key."""

    status_code = 503


def key_id_for(public_raw: bytes) -> str:
    """The key's fingerprint: the first 32 hex digits of SHA-256 over the raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKeyInfo:
    """One trusted public key and the period in which it may have signed events."""

    key_id: str
    public_key: Ed25519PublicKey
    valid_from: datetime
    valid_until: datetime | None

    def covers(self, when: datetime) -> bool:
        return self.valid_from <= when and (self.valid_until is None or when <= self.valid_until)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "public_key": public_raw(self.public_key).hex(),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


@dataclass(frozen=True)
class Signer:
    key_id: str
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


class KeyStore:
    """Generates, rotates and loads keys; public keys in the database, private keys in files."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._cache: dict[str, Signer] = {}

    def private_path(self, key_id: str) -> Path:
        return self.keys_dir / f"{key_id}.pem"

    # -- generation and rotation ---------------------------------------------------------------
    def generate(self, session: Session) -> SigningKey:
        """Create the first key; refuses when an active key exists (rotate instead)."""
        if active_key(session) is not None:
            raise Conflict(
                "signing_key_exists", "已有有效的签名密钥，如需更换请执行密钥轮换（rotate）。"
            )
        return self._new_key(session, utcnow())

    def rotate(self, session: Session) -> SigningKey:
        """Close the active key's validity now and start a new key from the same instant."""
        now = utcnow()
        current = active_key(session)
        if current is not None:
            current.valid_until = now
        return self._new_key(session, now)

    def ensure(self, session: Session) -> SigningKey:
        """The active key, generating the first one on a fresh data directory."""
        return active_key(session) or self._new_key(session, utcnow())

    def _new_key(self, session: Session, valid_from: datetime) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        raw = public_raw(private.public_key())
        key_id = key_id_for(raw)
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.private_path(key_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        row = SigningKey(key_id=key_id, public_key=raw.hex(), valid_from=valid_from)
        session.add(row)
        session.flush()
        return row

    # -- signing -----------------------------------------------------------------------------
    def signer(self, session: Session) -> Signer:
        """The active key's signer; its private key must match the registered public key."""
        row = self.ensure(session)
        cached = self._cache.get(row.key_id)
        if cached is not None:
            return cached
        path = self.private_path(row.key_id)
        if not path.is_file():
            raise SigningKeyUnavailable(
                "signing_key_missing",
                "签名私钥文件缺失，不能记录执法过程；请恢复密钥文件或执行密钥轮换。",
                details={"key_id": row.key_id},
            )
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise SigningKeyUnavailable(
                "signing_key_invalid", "签名私钥不是 Ed25519 密钥。", details={"key_id": row.key_id}
            )
        if public_raw(private.public_key()).hex() != row.public_key:
            raise SigningKeyUnavailable(
                "signing_key_mismatch",
                "签名私钥与登记的公钥不一致（密钥文件可能被替换），拒绝签名。",
                details={"key_id": row.key_id},
            )
        signer = Signer(key_id=row.key_id, private_key=private)
        self._cache[row.key_id] = signer
        return signer


def active_key(session: Session) -> SigningKey | None:
    return session.scalar(
        select(SigningKey)
        .where(SigningKey.valid_until.is_(None))
        .order_by(SigningKey.valid_from.desc())
        .limit(1)
    )


def keyring_from_db(session: Session) -> list[PublicKeyInfo]:
    """Every registered public key (the verifier also checks each id against its key)."""
    rows = session.scalars(select(SigningKey).order_by(SigningKey.valid_from))
    return [_info(r.key_id, r.public_key, r.valid_from, r.valid_until) for r in rows]


def keyring_to_json(keys: list[PublicKeyInfo]) -> str:
    """An exportable keyring: publish it outside the database as the verification anchor."""
    return json.dumps({"keys": [k.to_dict() for k in keys]}, ensure_ascii=False, indent=2)


def keyring_from_json(text: str) -> list[PublicKeyInfo]:
    try:
        data = json.loads(text)
        return [
            _info(
                k["key_id"],
                k["public_key"],
                datetime.fromisoformat(k["valid_from"]),
                datetime.fromisoformat(k["valid_until"]) if k.get("valid_until") else None,
            )
            for k in data["keys"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("invalid_keyring", f"公钥清单格式错误：{exc}") from exc


def _info(
    key_id: str, public_hex: str, valid_from: datetime, valid_until: datetime | None
) -> PublicKeyInfo:
    return PublicKeyInfo(
        key_id=key_id,
        public_key=Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)),
        valid_from=valid_from,
        valid_until=valid_until,
    )
