"""Domain errors; routes turn each into its HTTP status with a clear message."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class InvalidMove(Conflict):
    """The lifecycle does not allow this move from the case's current status."""


class TooManyAttempts(DomainError):
    status_code = 429
