"""The tamper-evident full-process record (执法全过程记录): signed hash chain and keys."""

from assistant.record.chain import (
    GENESIS,
    Problem,
    RecordReport,
    append_event,
    canonical_json,
    event_hash,
    verify_case,
)
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
    "event_hash",
    "keyring_from_db",
    "keyring_from_json",
    "keyring_to_json",
    "verify_case",
]
