"""The one error the legal core raises: a ValueError with a code and a Chinese message.

The core sits below every other layer and so cannot raise `assistant.errors.InvalidInput`;
the API and the CLI answer this error with the same 422 envelope.
"""

from __future__ import annotations

from typing import Any


class LegalValueError(ValueError):
    """A malformed statute id, numeral or citation: a stable code and a message for officers."""

    status_code = 422

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    def to_envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}
