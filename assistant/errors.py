"""One error type for every capability, mapped to one HTTP/CLI error envelope.

`{"error": {"code": "snake_case_code", "message": "<中文说明>", "details": {...}}}`
"""

from __future__ import annotations

from typing import Any


class TaxAssistError(Exception):
    """A failure an officer can act on: a stable code, a Chinese message, an HTTP status."""

    status_code: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.details = details or {}

    def to_envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(TaxAssistError):
    status_code = 422


class NotFound(TaxAssistError):
    status_code = 404


class Conflict(TaxAssistError):
    status_code = 409


class Unauthorized(TaxAssistError):
    status_code = 401


class Forbidden(TaxAssistError):
    status_code = 403


class PayloadTooLarge(TaxAssistError):
    status_code = 413


class UnsupportedMedia(TaxAssistError):
    status_code = 415


class RateLimited(TaxAssistError):
    """Too many attempts; the caller may retry after `retry_after_seconds`."""

    status_code = 429

    def __init__(self, code: str, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(code, message, details={"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class ModelUnavailable(TaxAssistError):
    """A model is not materialized; the message says how to install it."""

    status_code = 503
