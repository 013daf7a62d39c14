"""The tamper-evident full-process record (执法全过程记录): signed hash chain and keys."""

from assistant.record.canonical import canonical_json, canonical_sha256, text_sha256
from assistant.record.chain import (
    GENESIS,
    Problem,
    RecordReport,
    append_event,
    event_hash,
    verify_case,
)
from assistant.record.content import commitments
from assistant.record.keys import (
    KeyStore,
    PublicKeyInfo,
    Signer,
    SigningKeyUnavailable,
    keyring_from_db,
    keyring_from_json,
    keyring_to_json,
)

__all__ = [
    "GENESIS",
    "KeyStore",
    "Problem",
    "PublicKeyInfo",
    "RecordReport",
    "Signer",
    "SigningKeyUnavailable",
    "append_event",
    "canonical_json",
    "canonical_sha256",
    "commitments",
    "event_hash",
    "keyring_from_db",
    "keyring_from_json",
    "keyring_to_json",
    "text_sha256",
    "verify_case",
]
