"""Domain exceptions raised by services; the API layer maps them to HTTP responses."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the operation. Nothing was changed."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}

    def headers(self) -> dict[str, str]:
        return {}


class InvalidInput(ApplicationError):
    status_code = 400
    default_code = "validation_error"


class AuthenticationError(ApplicationError):
    status_code = 401
    default_code = "authentication_failed"


class PermissionDeniedError(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class NotFoundError(ApplicationError):
    status_code = 404
    default_code = "not_found"


class ConflictError(ApplicationError):
    status_code = 409
    default_code = "conflict"
