"""Every cookie this app sets, defined once: the cookie policy page is rendered from this table.

Over HTTPS names get the `__Host-` prefix (Secure, Path=/, no Domain); in dev mode (plain HTTP)
they keep their base names and are not marked Secure.
"""

from dataclasses import dataclass

from starlette.responses import Response

from clonechats.settings import Settings


@dataclass(frozen=True)
class CookieDefinition:
    base_name: str
    purpose: str
    lifetime: str
    http_only: bool
    strictly_necessary: bool = True


SESSION = CookieDefinition("session", "Keeps you signed in.",
                           "until you sign out, at most 30 days", http_only=True)
CSRF = CookieDefinition("csrf_token", "Protects your forms against cross-site request forgery.",
                        "until the browser closes", http_only=False)
DEVICE = CookieDefinition("device_id", "Recognises this browser: for a free trial, once, and so "
                          "that a young person cannot approve their own account.",
                          "1 year", http_only=True)

OAUTH_FLOW = CookieDefinition("oauth_flow", "Completes a Google sign-in started in this "
                              "browser.", "10 minutes", http_only=True)

TWO_FACTOR_LOGIN = CookieDefinition("two_factor_login", "Completes a sign-in that still needs "
                                    "the code from your authenticator app.", "5 minutes",
                                    http_only=True)

COOKIES = [SESSION, CSRF, DEVICE, OAUTH_FLOW, TWO_FACTOR_LOGIN]


def cookie_name(definition: CookieDefinition, settings: Settings) -> str:
    return definition.base_name if settings.dev_mode else f"__Host-{definition.base_name}"


def set_cookie(response: Response, definition: CookieDefinition, value: str, settings: Settings,
               *, max_age: int | None = None) -> None:
    response.set_cookie(
        cookie_name(definition, settings), value, max_age=max_age, path="/",
        secure=not settings.dev_mode, httponly=definition.http_only, samesite="lax",
    )


def clear_cookie(response: Response, definition: CookieDefinition, settings: Settings) -> None:
    response.delete_cookie(cookie_name(definition, settings), path="/",
                           secure=not settings.dev_mode, httponly=definition.http_only,
                           samesite="lax")
