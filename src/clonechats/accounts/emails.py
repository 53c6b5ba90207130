"""Email addresses: validated and normalised once, the same way everywhere."""

from email_validator import EmailNotValidError, validate_email

from clonechats.errors import AppError


class InvalidEmail(AppError):
    code = "invalid_email"
    status = 422
    message = "Please enter a valid email address."


def normalise_email(raw: str) -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail() from None
    return result.normalized.lower()
