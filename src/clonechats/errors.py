"""The error every layer raises for an expected failure: a code, an HTTP status, a safe message.

The web layer renders it as `{"error": {"code", "message"}}` for the API and as a page for
browsers. Messages are written for the person who made the request and never carry internals.
"""

from typing import Any, TypeVar

T = TypeVar("T")


class AppError(Exception):
    code = "bad_request"
    status = 400
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None,
                 details: Any = None) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.headers = headers or {}
        self.details = details
        super().__init__(self.message)


class NotFound(AppError):
    code = "not_found"
    status = 404
    message = "Nothing was found here."


def still_there(document: T | None) -> T:
    """A document read back after a change, which a concurrent deletion may have removed
    in between: that is answered as not found."""
    if document is None:
        raise NotFound("It is no longer there.")
    return document


class Unauthorized(AppError):
    code = "not_authenticated"
    status = 401
    message = "Please sign in first."


class Forbidden(AppError):
    code = "forbidden"
    status = 403
    message = "You are not allowed to do that."


class Conflict(AppError):
    code = "conflict"
    status = 409
    message = "That conflicts with the current state."


class PayloadTooLarge(AppError):
    code = "payload_too_large"
    status = 413
    message = "The request body is too large."


class TooManyRequests(AppError):
    code = "too_many_requests"
    status = 429
    message = "Too many requests. Please wait and try again."
