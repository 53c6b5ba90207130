"""Policy pages written from configuration, so what the page says is what this instance does."""

from collections.abc import Callable
from datetime import datetime, timedelta

from clonechats.settings import Settings

Sections = list[tuple[str, list[str]]]


def privacy(settings: Settings) -> tuple[str, Sections]:
    return "Privacy", [
        ("Who we are", [f"This service is run by {settings.operator_name}. Questions about your "
                        f"data go to {settings.contact_email}."]),
        ("What we keep", [
            "Your account details, the personas you create and the conversations you have "
            "with them, so that the service can work.",
            "We never keep raw IP addresses: where an address matters for security, we keep a "
            "keyed one-way hash of it.",
        ]),
        ("Your rights", ["You can export everything we hold about you, correct it, or delete it. "
                         "We answer every request within 30 days."]),
    ]


def cookies(settings: Settings) -> tuple[str, Sections]:
    return "Cookies", [
        ("Strictly necessary only", [
            "We set only the cookies the service needs to work: your sign-in session and a "
            "token that protects your forms against cross-site request forgery.",
            "No advertising or third-party tracking cookies are ever set.",
        ]),
    ]


def security(settings: Settings) -> tuple[str, Sections]:
    return "Security", [
        ("Reporting a vulnerability", [
            f"Please write to {settings.security_email} with the details. We acknowledge "
            "reports within a few days and do not take action against good-faith research.",
        ]),
        ("How we protect your data", [
            "Passwords are stored only as bcrypt hashes, sessions as SHA-256 digests of random "
            "tokens, and every page is served with a strict content security policy.",
        ]),
    ]


PAGES: dict[str, Callable[[Settings], tuple[str, Sections]]] = {
    "privacy": privacy,
    "cookies": cookies,
    "security": security,
}


def security_txt(settings: Settings, now: datetime) -> str:
    expires = (now + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"Contact: mailto:{settings.security_email}\n"
        f"Expires: {expires}\n"
        f"Policy: {settings.public_url.rstrip('/')}/security\n"
        "Preferred-Languages: en\n"
    )
